"""SNS connector: ``Publish`` and ``PublishBatch`` batched to the API's limits, with retries.

* at most 10 entries and 256 KiB per request (a message's size is its text plus its
  message attributes' names, types and values);
* requests run concurrently, at most ``max_in_flight`` at a time;
* an entry without an ``Id`` gets one (its position in the request); failures in the
  response's ``Failed`` list are matched by ``Id``: ``SenderFault: true`` fails at once,
  the service's own faults are retried alone with jittered backoff;
* what still fails comes back as ``FailedEntry`` values, by input position.

>>> topic = SnsConnector("arn:aws:sns:us-east-1:123456789012:orders")
>>> failed = topic.publish_batch([{"Message": '{"id":"1"}'}])  # doctest: +SKIP
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
    "MAX_REQUEST_BYTES",
    "FailedEntry",
    "SnsConnector",
    "message_size",
]

MAX_ENTRIES_PER_REQUEST = 10
MAX_REQUEST_BYTES = 256 * 1024


def message_size(entry: Mapping[str, Any]) -> int:
    """Size of a PublishBatch entry the way SNS counts it against the request limit."""
    return _utf8_len(entry["Message"]) + attributes_size(entry.get("MessageAttributes"))


class SnsConnector:
    """Publishes messages to the topic ``topic_arn``.

    ``client`` defaults to the process-wide ``sns`` client (created on first use);
    ``retry`` sets the retry of failed entries and transient errors; ``max_in_flight``
    bounds concurrent requests. ``calls`` counts the SNS requests made by this connector.
    """

    client = LazyClient("sns")

    def __init__(
        self,
        topic_arn: str,
        *,
        client: Any = None,
        config: Any = None,
        retry: RetryPolicy | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    ) -> None:
        self.topic_arn = topic_arn
        self._client = client
        self._config = config
        self._caller = Caller(retry or RetryPolicy())
        self._writer = BatchWriter(
            self._send,
            max_entries=MAX_ENTRIES_PER_REQUEST,
            max_bytes=MAX_REQUEST_BYTES,
            size_of=message_size,
            retry=self._caller.retry,
            max_in_flight=max_in_flight,
        )

    @property
    def calls(self) -> int:
        """SNS requests made so far (retries included)."""
        return self._caller.calls + self._writer.calls

    def publish(self, message: str | Any, **kwargs: Any) -> dict[str, Any]:
        """Publish; a ``message`` that is not a string is sent as JSON. ``kwargs`` are
        Publish's (Subject, MessageAttributes, MessageGroupId ...). Returns the response
        without its metadata (MessageId ...)."""
        text = message if isinstance(message, str) else dumps(message)
        response = self._caller(
            self.client.publish, TopicArn=self.topic_arn, Message=text, **kwargs
        )
        return {name: value for name, value in response.items() if name != "ResponseMetadata"}

    def publish_batch(self, entries: Sequence[Mapping[str, Any]]) -> list[FailedEntry]:
        """Publish ``entries`` (PublishBatch entries with a string ``Message``; ``Id``
        optional); return those that still failed, ordered by index."""
        return self._writer.write(entries)

    def _send(self, entries: list[Mapping[str, Any]]) -> list[EntryFailure]:
        wire, ids = with_ids(entries)
        response = self.client.publish_batch(
            TopicArn=self.topic_arn, PublishBatchRequestEntries=wire
        )
        return failures_by_id(ids, response.get("Failed") or ())
