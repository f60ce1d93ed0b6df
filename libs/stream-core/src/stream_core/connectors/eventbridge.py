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

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..utils.concurrency import DEFAULT_MAX_IN_FLIGHT, map_bounded
from ._client import shared_client
from ._retry import RETRYABLE_CODES, RetryPolicy, is_retryable

__all__ = [
    "MAX_ENTRIES_PER_REQUEST",
    "MAX_REQUEST_BYTES",
    "EventBridgeConnector",
    "FailedEntry",
    "entry_size",
]

MAX_ENTRIES_PER_REQUEST = 10
MAX_REQUEST_BYTES = 256 * 1024


@dataclass(frozen=True)
class FailedEntry:
    """An entry that could not be put: its position in the input, the entry, and why."""

    index: int
    entry: dict[str, Any]
    code: str
    message: str
    retryable: bool


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
        self.retry = retry or RetryPolicy()
        self.max_in_flight = max_in_flight
        self.calls = 0
        self._calls_lock = threading.Lock()

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = shared_client("events", self._config)
        return self._client

    def put_events(self, entries: Sequence[dict[str, Any]]) -> list[FailedEntry]:
        """Put all ``entries``; return those that still failed, ordered by index."""
        failed: list[FailedEntry] = []
        chunks: list[list[int]] = []
        current: list[int] = []
        current_bytes = 0
        for index, entry in enumerate(entries):
            size = entry_size(entry)
            if size > MAX_REQUEST_BYTES:
                failed.append(
                    FailedEntry(
                        index,
                        entry,
                        "EntryTooLarge",
                        f"entry is {size} bytes; PutEvents takes at most {MAX_REQUEST_BYTES}",
                        False,
                    )
                )
                continue
            if current and (
                len(current) == MAX_ENTRIES_PER_REQUEST or current_bytes + size > MAX_REQUEST_BYTES
            ):
                chunks.append(current)
                current, current_bytes = [], 0
            current.append(index)
            current_bytes += size
        if current:
            chunks.append(current)

        for chunk_failures in map_bounded(
            lambda chunk: self._put_chunk(entries, chunk), chunks, self.max_in_flight
        ):
            failed.extend(chunk_failures)
        failed.sort(key=lambda f: f.index)
        return failed

    def _put_chunk(self, entries: Sequence[dict[str, Any]], chunk: list[int]) -> list[FailedEntry]:
        pending = chunk
        final: list[FailedEntry] = []
        for attempt in range(self.retry.max_attempts):
            if attempt:
                self.retry.backoff(attempt - 1)
            last_attempt = attempt == self.retry.max_attempts - 1
            try:
                with self._calls_lock:
                    self.calls += 1
                response = self.client.put_events(Entries=[entries[i] for i in pending])
            except Exception as err:
                retryable = is_retryable(err)
                if not retryable or last_attempt:
                    code = getattr(err, "response", {}).get("Error", {}).get("Code") or type(
                        err
                    ).__name__
                    final.extend(
                        FailedEntry(i, entries[i], code, str(err), retryable) for i in pending
                    )
                    return final
                continue
            if not response.get("FailedEntryCount"):
                return final
            retry_next: list[int] = []
            for i, result in zip(pending, response.get("Entries", ()), strict=False):
                code = result.get("ErrorCode")
                if not code:
                    continue
                retryable = code in RETRYABLE_CODES
                if retryable and not last_attempt:
                    retry_next.append(i)
                else:
                    final.append(
                        FailedEntry(i, entries[i], code, result.get("ErrorMessage", ""), retryable)
                    )
            if not retry_next:
                return final
            pending = retry_next
        return final
