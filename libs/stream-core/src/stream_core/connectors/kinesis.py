"""Kinesis connector: ``PutRecords`` batched to the API's limits, with retries.

* at most 500 records and 5 MiB per request, 1 MiB per record (a record's size is its
  ``Data`` plus its ``PartitionKey``, in bytes, as Kinesis counts it);
* requests run concurrently, at most ``max_in_flight`` at a time;
* records that fail with ``ProvisionedThroughputExceededException`` or ``InternalFailure``
  are retried alone with jittered backoff; other codes (KMS access ...) fail at once;
* what still fails comes back as ``FailedEntry`` values, by input position.

Retried records land after the others of their request: order within a shard holds only
among records that succeeded on the same attempt.

>>> stream = KinesisConnector("event-hub-stream")      # client created on first call
>>> failed = stream.put_records([{"Data": b'{"type":"thing-created"}',
...                               "PartitionKey": "thing-1"}])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigurationError
from ..utils.concurrency import DEFAULT_MAX_IN_FLIGHT
from ..utils.json import size_of as _utf8_len
from ._batch import BatchWriter, EntryFailure, FailedEntry, data_bytes, failures_by_position
from ._client import LazyClient
from ._retry import RetryPolicy

__all__ = [
    "MAX_RECORDS_PER_REQUEST",
    "MAX_RECORD_BYTES",
    "MAX_REQUEST_BYTES",
    "FailedEntry",
    "KinesisConnector",
    "record_size",
]

MAX_RECORDS_PER_REQUEST = 500
MAX_REQUEST_BYTES = 5 * 1024 * 1024
MAX_RECORD_BYTES = 1024 * 1024


def record_size(record: Mapping[str, Any]) -> int:
    """Size of a PutRecords record the way Kinesis counts it: Data plus PartitionKey bytes."""
    data = record["Data"]
    size = _utf8_len(data) if isinstance(data, str) else len(data)
    return size + _utf8_len(record["PartitionKey"])


class KinesisConnector:
    """Puts records on one Kinesis stream, named by ``stream_name`` or ``stream_arn``.

    ``client`` defaults to the process-wide ``kinesis`` client (created on first use);
    ``retry`` sets the retry of failed records; ``max_in_flight`` bounds concurrent
    requests. ``calls`` counts the PutRecords requests made by this connector.
    """

    client = LazyClient("kinesis")

    def __init__(
        self,
        stream_name: str | None = None,
        stream_arn: str | None = None,
        *,
        client: Any = None,
        config: Any = None,
        retry: RetryPolicy | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    ) -> None:
        if not stream_name and not stream_arn:
            raise ConfigurationError("KinesisConnector needs a stream_name or a stream_arn")
        self.stream_name = stream_name
        self.stream_arn = stream_arn
        self._stream = {"StreamARN": stream_arn} if stream_arn else {"StreamName": stream_name}
        self._client = client
        self._config = config
        self._writer = BatchWriter(
            self._send,
            max_entries=MAX_RECORDS_PER_REQUEST,
            max_bytes=MAX_REQUEST_BYTES,
            max_entry_bytes=MAX_RECORD_BYTES,
            size_of=record_size,
            retry=retry or RetryPolicy(),
            max_in_flight=max_in_flight,
        )

    @property
    def calls(self) -> int:
        """PutRecords requests made so far (retries included)."""
        return self._writer.calls

    def put_records(self, records: Sequence[Mapping[str, Any]]) -> list[FailedEntry]:
        """Put ``records`` (``{"Data": bytes | str, "PartitionKey": str}``, optionally
        ``ExplicitHashKey``); return those that still failed, ordered by index."""
        return self._writer.write(records)

    def _send(self, records: list[Mapping[str, Any]]) -> list[EntryFailure]:
        wire = [{**record, "Data": data_bytes(record)} for record in records]
        response = self.client.put_records(Records=wire, **self._stream)
        if not response.get("FailedRecordCount"):
            return []
        return failures_by_position(response.get("Records", ()))
