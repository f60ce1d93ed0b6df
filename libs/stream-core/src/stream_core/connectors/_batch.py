"""The shape every batched AWS write shares (PutEvents, PutRecords, PutRecordBatch,
SendMessageBatch, PublishBatch, BatchWriteItem):

1. split entries into requests of at most ``max_entries`` entries and ``max_bytes`` bytes
   (an entry larger than ``max_entry_bytes``, default ``max_bytes``, fails at once, without
   a call);
2. send the requests concurrently, at most ``max_in_flight`` at a time;
3. retry only the entries the service reports as failed with a transient code, and whole
   requests that failed with a transient error, with jittered backoff, up to the policy's
   attempts;
4. return what still failed as ``FailedEntry`` values, by input position.

A connector supplies ``send(entries) -> [(position_in_request, code, message), ...]``
listing the entries that failed in that request (an empty list when all went through).
A failure may carry a fourth element, ``retryable``, when the service says so itself (SQS
and SNS ``SenderFault``); otherwise the code decides (``retryable_codes``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..utils.concurrency import map_bounded
from ._retry import RETRYABLE_CODES, RetryPolicy, is_retryable

__all__ = [
    "BatchWriter",
    "EntryFailure",
    "FailedEntry",
    "attributes_size",
    "chunk",
    "data_bytes",
    "failures_by_id",
    "failures_by_position",
    "with_ids",
]

#: A failure inside one request: (position in that request, error code, message), optionally
#: followed by whether it is retryable (else the code decides).
EntryFailure = tuple[int, str, str] | tuple[int, str, str, bool]


@dataclass(frozen=True)
class FailedEntry:
    """An entry that could not be written: its position in the input, the entry, and why."""

    index: int
    entry: Any
    code: str
    message: str
    retryable: bool


def chunk(
    sizes: Sequence[int], max_entries: int, max_bytes: int, max_entry_bytes: int | None = None
) -> tuple[list[list[int]], list[int]]:
    """Group positions into requests within both limits, keeping order.

    Returns the requests and the positions too large to send at all (over
    ``max_entry_bytes``, which defaults to ``max_bytes``).
    """
    entry_limit = max_bytes if max_entry_bytes is None else min(max_entry_bytes, max_bytes)
    requests: list[list[int]] = []
    too_large: list[int] = []
    current: list[int] = []
    current_bytes = 0
    for index, size in enumerate(sizes):
        if size > entry_limit:
            too_large.append(index)
            continue
        if current and (len(current) == max_entries or current_bytes + size > max_bytes):
            requests.append(current)
            current, current_bytes = [], 0
        current.append(index)
        current_bytes += size
    if current:
        requests.append(current)
    return requests, too_large


class BatchWriter:
    """Runs the batched-write algorithm above for one connector's ``send``."""

    def __init__(
        self,
        send: Callable[[list[Any]], list[EntryFailure]],
        *,
        max_entries: int,
        max_bytes: int,
        size_of: Callable[[Any], int],
        retry: RetryPolicy,
        max_in_flight: int,
        retryable_codes: frozenset[str] = RETRYABLE_CODES,
        max_entry_bytes: int | None = None,
    ) -> None:
        self.send = send
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_bytes if max_entry_bytes is None else max_entry_bytes
        self.size_of = size_of
        self.retry = retry
        self.max_in_flight = max_in_flight
        self.retryable_codes = retryable_codes
        self.calls = 0
        self._lock = threading.Lock()

    def write(self, entries: Sequence[Any]) -> list[FailedEntry]:
        """Write all ``entries``; return those that still failed, ordered by index."""
        sizes = [self.size_of(e) for e in entries]
        requests, too_large = chunk(sizes, self.max_entries, self.max_bytes, self.max_entry_bytes)
        limit = min(self.max_entry_bytes, self.max_bytes)
        failed = [
            FailedEntry(
                i,
                entries[i],
                "EntryTooLarge",
                f"entry is {sizes[i]} bytes; an entry takes at most {limit}",
                False,
            )
            for i in too_large
        ]
        for request_failures in map_bounded(
            lambda request: self._write_request(entries, request), requests, self.max_in_flight
        ):
            failed.extend(request_failures)
        failed.sort(key=lambda f: f.index)
        return failed

    def _write_request(self, entries: Sequence[Any], request: list[int]) -> list[FailedEntry]:
        pending = request
        final: list[FailedEntry] = []
        attempts = self.retry.max_attempts
        for attempt in range(attempts):
            if attempt:
                self.retry.backoff(attempt - 1)
            last = attempt == attempts - 1
            with self._lock:
                self.calls += 1
            try:
                failures = self.send([entries[i] for i in pending])
            except Exception as err:
                retryable = is_retryable(err, self.retryable_codes)
                if retryable and not last:
                    continue
                response = getattr(err, "response", None) or {}
                code = response.get("Error", {}).get("Code") or type(err).__name__
                final.extend(FailedEntry(i, entries[i], code, str(err), retryable) for i in pending)
                return final
            retry_next: list[int] = []
            for failure in failures:
                position, code, message = failure[0], failure[1], failure[2]
                index = pending[position]
                retryable = failure[3] if len(failure) > 3 else code in self.retryable_codes
                if retryable and not last:
                    retry_next.append(index)
                else:
                    final.append(FailedEntry(index, entries[index], code, message, retryable))
            if not retry_next:
                return final
            pending = retry_next
        return final


def with_ids(entries: Sequence[Mapping[str, Any]]) -> tuple[list[Mapping[str, Any]], list[str]]:
    """Entries of an ``Id``-keyed batch API (SendMessageBatch, PublishBatch) and their Ids.

    An entry without an ``Id`` gets its position in the request (made unique against the
    Ids given); the caller's entries are not changed.
    """
    taken = {entry["Id"] for entry in entries if entry.get("Id")}
    wire: list[Mapping[str, Any]] = []
    ids: list[str] = []
    for position, entry in enumerate(entries):
        entry_id = entry.get("Id")
        if not entry_id:
            entry_id = str(position)
            while entry_id in taken:
                entry_id += "_"
            taken.add(entry_id)
            entry = {**entry, "Id": entry_id}
        wire.append(entry)
        ids.append(entry_id)
    return wire, ids


def failures_by_id(ids: Sequence[str], failed: Sequence[Mapping[str, Any]]) -> list[EntryFailure]:
    """``EntryFailure`` values of a response's ``Failed`` list (``Id``, ``Code``, ``Message``,
    ``SenderFault``): a sender's fault is never retryable, the service's always is."""
    positions = {entry_id: position for position, entry_id in enumerate(ids)}
    failures: list[EntryFailure] = []
    for result in failed:
        position = positions.get(result.get("Id", ""))
        if position is None:
            continue
        code, message = result.get("Code", "Unknown"), result.get("Message", "")
        sender_fault = result.get("SenderFault")
        if sender_fault is None:
            failures.append((position, code, message))
        else:
            failures.append((position, code, message, not sender_fault))
    return failures


def failures_by_position(results: Sequence[Mapping[str, Any]]) -> list[EntryFailure]:
    """``EntryFailure`` values of a response that answers each record in request order
    (Kinesis ``Records``, Firehose ``RequestResponses``): the ones with an ``ErrorCode``."""
    return [
        (position, result["ErrorCode"], result.get("ErrorMessage", ""))
        for position, result in enumerate(results)
        if result.get("ErrorCode")
    ]


def data_bytes(record: Mapping[str, Any]) -> bytes:
    """A Kinesis or Firehose record's ``Data`` as bytes (a string is sent as UTF-8)."""
    data = record["Data"]
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def attributes_size(attributes: Mapping[str, Mapping[str, Any]] | None) -> int:
    """Bytes that SQS/SNS message attributes add to a message: name, data type and value."""
    size = 0
    for name, attribute in (attributes or {}).items():
        size += _utf8_len(name) + _utf8_len(attribute.get("DataType", ""))
        if "StringValue" in attribute:
            size += _utf8_len(attribute["StringValue"])
        elif "BinaryValue" in attribute:
            size += len(attribute["BinaryValue"])
    return size


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))
