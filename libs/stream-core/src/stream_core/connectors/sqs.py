"""SQS connector: ``SendMessageBatch`` batched to the API's limits, with retries.

* at most 10 entries and 1 MiB per request, and 256 KiB per message (a message's size is
  its body plus its message attributes' names, types and values, as SQS counts it);
* requests run concurrently, at most ``max_in_flight`` at a time;
* an entry without an ``Id`` gets one (its position in the request); failures in the
  response's ``Failed`` list are matched by ``Id``: ``SenderFault: true`` fails at once,
  the service's own faults are retried alone with jittered backoff;
* what still fails comes back as ``FailedEntry`` values, by input position.

A SendMessageBatch request may carry 1 MiB in all (since 2025), so ten messages of 100 KiB
go in one request. A message is held to 256 KiB, the default ``MaximumMessageSize`` of a
queue; for a queue that allows more (up to 1 MiB), pass ``max_message_bytes``.

>>> queue = SqsConnector("https://sqs.us-east-1.amazonaws.com/123456789012/orders")
>>> failed = queue.send_message_batch([{"MessageBody": '{"id":"1"}'}])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..utils.concurrency import DEFAULT_MAX_IN_FLIGHT
from ..utils.json import dumps
from ..utils.json import size_of as _utf8_len
from ._batch import (
    BatchWriter,
    EntryFailure,
    FailedEntry,
    attributes_size,
    failures_by_id,
    with_ids,
)
from ._client import LazyClient
from ._retry import Caller, RetryPolicy

__all__ = [
    "MAX_ENTRIES_PER_REQUEST",
    "MAX_MESSAGE_BYTES",
    "MAX_REQUEST_BYTES",
    "FailedEntry",
    "SqsConnector",
    "message_size",
]

MAX_ENTRIES_PER_REQUEST = 10
MAX_REQUEST_BYTES = 1024 * 1024  # SendMessageBatch, all entries together
MAX_MESSAGE_BYTES = 256 * 1024  # a queue's default MaximumMessageSize (at most 1 MiB)


def message_size(entry: Mapping[str, Any]) -> int:
    """Size of a SendMessageBatch entry the way SQS counts it against the request limit."""
    return (
        _utf8_len(entry["MessageBody"])
        + attributes_size(entry.get("MessageAttributes"))
        + attributes_size(entry.get("MessageSystemAttributes"))
    )


class SqsConnector:
    """Sends messages to the queue at ``queue_url``.

    ``client`` defaults to the process-wide ``sqs`` client (created on first use);
    ``retry`` sets the retry of failed entries and transient errors; ``max_in_flight``
    bounds concurrent requests. ``calls`` counts the SQS requests made by this connector.
    """

    client = LazyClient("sqs")

    def __init__(
        self,
        queue_url: str,
        *,
        client: Any = None,
        config: Any = None,
        retry: RetryPolicy | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self.queue_url = queue_url
        self._client = client
        self._config = config
        self._caller = Caller(retry or RetryPolicy())
        self._writer = BatchWriter(
            self._send,
            max_entries=MAX_ENTRIES_PER_REQUEST,
            max_bytes=max_request_bytes,
            max_entry_bytes=min(max_message_bytes, max_request_bytes),
            size_of=message_size,
            retry=self._caller.retry,
            max_in_flight=max_in_flight,
        )

    @property
    def calls(self) -> int:
        """SQS requests made so far (retries included)."""
        return self._caller.calls + self._writer.calls

    def send_message(self, body: str | Any, **kwargs: Any) -> dict[str, Any]:
        """SendMessage; a ``body`` that is not a string is sent as JSON. ``kwargs`` are
        SendMessage's (MessageAttributes, DelaySeconds, MessageGroupId ...). Returns the
        response without its metadata (MessageId ...)."""
        text = body if isinstance(body, str) else dumps(body)
        response = self._caller(
            self.client.send_message, QueueUrl=self.queue_url, MessageBody=text, **kwargs
        )
        return {name: value for name, value in response.items() if name != "ResponseMetadata"}

    def send_message_batch(self, entries: Sequence[Mapping[str, Any]]) -> list[FailedEntry]:
        """Send ``entries`` (SendMessageBatch entries with a string ``MessageBody``; ``Id``
        optional); return those that still failed, ordered by index."""
        return self._writer.write(entries)

    def _send(self, entries: list[Mapping[str, Any]]) -> list[EntryFailure]:
        wire, ids = with_ids(entries)
        response = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=wire)
        return failures_by_id(ids, response.get("Failed") or ())
