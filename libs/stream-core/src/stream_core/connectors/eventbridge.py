"""EventBridge connector: ``PutEvents`` batched to the API's limits, with retries.

* at most 10 entries and 256 KB per request (entry size as AWS counts it: Source,
  DetailType, Detail, Resources and 14 bytes for Time);
* requests for one batch run concurrently, at most ``max_in_flight`` at a time;
* entries that fail with a transient code (throttling, internal failure) are retried alone,
  with jittered backoff, up to ``retry.max_attempts``; a request that fails as a whole
  with a transient error is retried the same way;
* what still fails comes back as ``FailedEntry`` values: the caller turns them into faults
  or batch item failures. Nothing is dropped silently.

>>> connector = EventBridgeConnector()                  # client created on first call
>>> failed = connector.put_events(entries)              # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..utils.concurrency import DEFAULT_MAX_IN_FLIGHT
from ._batch import BatchWriter, EntryFailure, FailedEntry
from ._client import LazyClient
from ._retry import RetryPolicy

__all__ = [
    "MAX_ENTRIES_PER_REQUEST",
    "MAX_REQUEST_BYTES",
    "EventBridgeConnector",
    "FailedEntry",
    "entry_size",
]

MAX_ENTRIES_PER_REQUEST = 10
MAX_REQUEST_BYTES = 256 * 1024


def _utf8_len(text: str | None) -> int:
    if not text:
        return 0
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def entry_size(entry: dict[str, Any]) -> int:
    """Size of a PutEvents entry the way EventBridge counts it against 256 KB."""
    size = 14 if entry.get("Time") is not None else 0
    size += _utf8_len(entry.get("Source"))
    size += _utf8_len(entry.get("DetailType"))
    size += _utf8_len(entry.get("Detail"))
    for resource in entry.get("Resources") or ():
        size += _utf8_len(resource)
    return size


class EventBridgeConnector:
    """Puts events on an EventBridge bus.

    ``client`` defaults to the process-wide ``events`` client (created on first use);
    ``retry`` sets the retry of failed entries; ``max_in_flight`` bounds concurrent
    requests. ``calls`` counts the PutEvents requests made by this connector.
    """

    client = LazyClient("events")

    def __init__(
        self,
        *,
        client: Any = None,
        config: Any = None,
        retry: RetryPolicy | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    ) -> None:
        self._client = client
        self._config = config
        self._writer = BatchWriter(
            self._send,
            max_entries=MAX_ENTRIES_PER_REQUEST,
            max_bytes=MAX_REQUEST_BYTES,
            size_of=entry_size,
            retry=retry or RetryPolicy(),
            max_in_flight=max_in_flight,
        )

    @property
    def calls(self) -> int:
        """PutEvents requests made so far (retries included)."""
        return self._writer.calls

    def put_events(self, entries: Sequence[dict[str, Any]]) -> list[FailedEntry]:
        """Put all ``entries``; return those that still failed, ordered by index."""
        return self._writer.write(entries)

    def _send(self, entries: list[dict[str, Any]]) -> list[EntryFailure]:
        response = self.client.put_events(Entries=entries)
        if not response.get("FailedEntryCount"):
            return []
        return [
            (position, result["ErrorCode"], result.get("ErrorMessage", ""))
            for position, result in enumerate(response.get("Entries", ()))
            if result.get("ErrorCode")
        ]
