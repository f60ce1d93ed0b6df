"""Firehose connector: ``PutRecordBatch`` batched to the API's limits, with retries.

* at most 500 records and 4 MiB per request, 1,000 KiB of ``Data`` per record;
* requests run concurrently, at most ``max_in_flight`` at a time;
* records that fail with a transient code (``ServiceUnavailableException``, internal
  failures) are retried alone with jittered backoff; other codes fail at once;
* what still fails comes back as ``FailedEntry`` values, by input position.

Firehose does not add delimiters: end each record with a newline if the objects it writes
are to be read line by line.

>>> lake = FirehoseConnector("event-lake")             # client created on first call
>>> failed = lake.put_record_batch([{"Data": b'{"type":"thing-created"}\\n'}])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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
    "FirehoseConnector",
    "record_size",
]

MAX_RECORDS_PER_REQUEST = 500
MAX_REQUEST_BYTES = 4 * 1024 * 1024
MAX_RECORD_BYTES = 1000 * 1024


def record_size(record: Mapping[str, Any]) -> int:
    """Size of a PutRecordBatch record: its ``Data`` in bytes (before base64)."""
    data = record["Data"]
    return _utf8_len(data) if isinstance(data, str) else len(data)


class FirehoseConnector:
    """Puts records on one Firehose delivery stream.

    ``client`` defaults to the process-wide ``firehose`` client (created on first use);
    ``retry`` sets the retry of failed records; ``max_in_flight`` bounds concurrent
    requests. ``calls`` counts the PutRecordBatch requests made by this connector.
    """

    client = LazyClient("firehose")

    def __init__(
        self,
        delivery_stream_name: str,
        *,
        client: Any = None,
        config: Any = None,
        retry: RetryPolicy | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    ) -> None:
        self.delivery_stream_name = delivery_stream_name
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
        """PutRecordBatch requests made so far (retries included)."""
        return self._writer.calls

    def put_record_batch(self, records: Sequence[Mapping[str, Any]]) -> list[FailedEntry]:
        """Put ``records`` (``{"Data": bytes | str}``); return those that still failed,
        ordered by index."""
        return self._writer.write(records)

    def _send(self, records: list[Mapping[str, Any]]) -> list[EntryFailure]:
        wire = [{"Data": data_bytes(record)} for record in records]
        response = self.client.put_record_batch(
            DeliveryStreamName=self.delivery_stream_name, Records=wire
        )
        if not response.get("FailedPutCount"):
            return []
        return failures_by_position(response.get("RequestResponses", ()))
