"""Time helpers. Event timestamps are epoch milliseconds."""

from __future__ import annotations

import time

__all__ = ["now", "ttl"]


def now() -> int:
    """The current time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def ttl(start_ms: int, days: float) -> int:
    """A DynamoDB TTL (epoch seconds) ``days`` after ``start_ms``."""
    return int(start_ms // 1000 + days * 86_400)
