"""Fault events and the per-invocation fault collector.

A *fault* is what a record becomes when it cannot be processed: an event of type
``fault`` that carries the error and the unit of work (with its raw AWS record, so the
record can be resubmitted after a fix)::

    {
        "id": "...", "type": "fault", "timestamp": 1548967022000, "partition_key": "...",
        "tags": {"functionname": "...", "pipeline": "rule-id", ...},
        "err": {"name": "KeyError", "message": "'thing'", "stack": "Traceback ..."},
        "uow": {"pipeline": "rule-id", "record": {...raw record...}, "event": {...}},
    }

``err.details`` is present when the error is a ``RecordError`` with ``details`` (structured,
JSON-ready data such as an ``EventValidationError``'s validation errors).

Faults are collected by a ``FaultCollector`` that lives for one invocation
(``StreamPipeline.assemble`` creates it and makes it *current* for the code it runs,
including worker threads) and are published at the end of the batch. There is no
module-level list of faults.

Guarantee: a reported fault is either published or its record is handed back in the
partial batch response; ``report_fault`` outside an invocation raises instead of dropping.
"""

from __future__ import annotations

import threading
import traceback
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from .errors import RecordError, RetryableError, StreamCoreError
from .utils.tags import env_tags
from .utils.time import now

__all__ = [
    "FAULT_EVENT_TYPE",
    "REDACTED",
    "FaultCollector",
    "current_collector",
    "fault_event",
    "report_fault",
]

FAULT_EVENT_TYPE = "fault"
REDACTED = "[REDACTED]"

_current: ContextVar[FaultCollector | None] = ContextVar("stream_core_faults", default=None)


class FaultCollector:
    """Collects what went wrong with individual records during one invocation.

    * ``faults``: fault events for records that failed for good (``RecordError`` and any
      unexpected exception raised by rule code for one record);
    * ``retry_records``: raw records that failed with a ``RetryableError`` and must be
      delivered again by Lambda (they go to the partial batch response).

    Thread-safe: pipelines running concurrently report into the same collector.
    """

    def __init__(
        self,
        *,
        redact: Iterable[str] = (),
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        self.faults: list[dict[str, Any]] = []
        self.retry_records: list[dict[str, Any]] = []
        #: why each retry record is retried: (pipeline, event id, error), for the logs
        self.retry_reasons: list[tuple[Any, Any, BaseException]] = []
        self._redact = tuple(path.split(".") for path in redact)
        self._tags = dict(tags) if tags is not None else env_tags()
        self._lock = threading.Lock()

    def report(self, uow: Mapping[str, Any], err: BaseException) -> None:
        """Record that ``uow`` failed with ``err``."""
        if isinstance(err, RetryableError):
            record = uow.get("record")
            if record is not None:
                event = uow.get("event") or {}
                with self._lock:
                    self.retry_records.append(record)
                    self.retry_reasons.append((uow.get("pipeline"), event.get("id"), err))
                return
        event = fault_event(uow, err, tags=self._tags, redact=self._redact)
        with self._lock:
            self.faults.append(event)

    @contextmanager
    def activate(self) -> Iterator[FaultCollector]:
        """Make this collector current for the enclosed code (and contexts copied from it)."""
        token = _current.set(self)
        try:
            yield self
        finally:
            _current.reset(token)


def current_collector() -> FaultCollector | None:
    """The collector of the invocation being processed, if any."""
    return _current.get()


def report_fault(uow: Mapping[str, Any], err: BaseException) -> None:
    """Report a per-record failure to the current invocation's collector.

    Outside ``StreamPipeline.assemble`` there is no collector: the error is re-raised so a
    failure is never silently swallowed.
    """
    collector = _current.get()
    if collector is None:
        raise err
    collector.report(uow, err)


def fault_event(
    uow: Mapping[str, Any],
    err: BaseException,
    *,
    tags: Mapping[str, Any] | None = None,
    redact: Iterable[Iterable[str]] = (),
) -> dict[str, Any]:
    """The fault event for ``uow`` failing with ``err``.

    Callables are stripped from the event (rules sometimes stash functions on a UOW), and
    every dot path in ``redact`` (e.g. ``("customer", "ssn")``) is replaced by
    ``[REDACTED]`` in the copy of the event. The raw ``record`` is kept as AWS delivered it:
    resubmission needs it byte for byte (store faults encrypted if records are sensitive).
    """
    pipeline = uow.get("pipeline")
    event = uow.get("event")
    clean_event = _strip(event) if event is not None else None
    for path in redact:
        _redact_path(clean_event, list(path))
    partition_key = None
    if isinstance(event, Mapping):
        partition_key = event.get("partition_key") or event.get("id")
    if partition_key is None:
        partition_key = _record_key(uow.get("record"))
    fault_tags = dict(tags) if tags is not None else env_tags()
    fault_tags["pipeline"] = pipeline or "undefined"
    fault: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "type": FAULT_EVENT_TYPE,
        "timestamp": now(),
        "partition_key": str(partition_key) if partition_key is not None else str(uuid.uuid4()),
        "tags": fault_tags,
        "err": {
            "name": type(err).__name__,
            "message": str(err),
            "stack": "".join(traceback.format_exception(err)),
            "retryable": isinstance(err, RetryableError),
            "stream_core": isinstance(err, StreamCoreError),
        },
        "uow": {"pipeline": pipeline, "record": uow.get("record"), "event": clean_event},
    }
    if isinstance(err, RecordError) and err.details is not None:
        fault["err"]["details"] = err.details  # structured, e.g. validation errors
    return fault


def _record_key(record: Any) -> Any:
    """A partition key for a fault whose event could not be decoded: the record's own."""
    if not isinstance(record, Mapping):
        return None
    kinesis = record.get("kinesis")
    if isinstance(kinesis, Mapping):
        return kinesis.get("partitionKey")
    return record.get("messageId") or record.get("eventID")


def _strip(value: Any) -> Any:
    """A copy of ``value`` without callables (containers are copied, leaves shared)."""
    if isinstance(value, Mapping):
        return {k: _strip(v) for k, v in value.items() if not callable(v)}
    if isinstance(value, (list, tuple)):
        return [_strip(v) for v in value if not callable(v)]
    return value


def _redact_path(value: Any, path: list[str]) -> None:
    if not path or not isinstance(value, dict):
        return
    head, rest = path[0], path[1:]
    if head == "*":
        for key in value:
            if rest:
                _redact_path(value[key], rest)
            else:
                value[key] = REDACTED
        return
    if head not in value:
        return
    if rest:
        child = value[head]
        if isinstance(child, list):
            for item in child:
                _redact_path(item, rest)
        else:
            _redact_path(child, rest)
    else:
        value[head] = REDACTED
