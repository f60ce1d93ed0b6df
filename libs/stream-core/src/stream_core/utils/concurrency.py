"""Bounded concurrency for I/O: at most ``max_in_flight`` calls at once, no thread left behind."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["DEFAULT_MAX_IN_FLIGHT", "map_bounded"]

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_MAX_IN_FLIGHT = 16


def map_bounded(function: Callable[[T], R], items: Sequence[T], max_in_flight: int) -> list[R]:
    """``[function(item) for item in items]`` with up to ``max_in_flight`` running at once.

    One item runs inline (no thread). Worker threads run in a copy of the caller's context
    (so the invocation's fault collector and log keys follow) and are joined before this
    returns: no thread outlives the call. The first exception raised by ``function`` is
    re-raised after all calls finished.
    """
    if len(items) <= 1 or max_in_flight <= 1:
        return [function(item) for item in items]
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=min(max_in_flight, len(items))) as pool:
        futures = [pool.submit(context.copy().run, function, item) for item in items]
    return [future.result() for future in futures]
