"""Helpers for testing rules and handlers built on stream-core.

* record builders: ``to_kinesis_records``, ``to_dynamodb_records``, ``to_sqs_records`` ...
  (re-exported from ``stream_core.events.*``);
* ``MemoryPublisher``: capture published events and faults without AWS;
* ``BusCapture``: read events back from a real (or moto) EventBridge bus through an SQS
  queue;
* a pytest plugin (``pytest_plugins = ["stream_core.testing.fixtures"]``) with the
  fixtures ``aws`` (moto's in-process mock with dummy credentials) and ``event_bus``.
"""

from __future__ import annotations

from typing import Any

from .memory import MemoryPublisher

__all__ = ["BusCapture", "MemoryPublisher"]


def __getattr__(name: str) -> Any:
    # BusCapture pulls in boto3 only when used.
    if name == "BusCapture":
        from .bus import BusCapture

        return BusCapture
    raise AttributeError(name)
