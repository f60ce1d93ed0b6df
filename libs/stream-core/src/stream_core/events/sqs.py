"""SQS trigger -> UOWs, and record builders for tests.

``from_sqs``: each message body is the JSON of one domain event (what a producer sends, or
what SNS delivers with raw message delivery). ``from_sqs_sns``: each body is the JSON
envelope SNS writes for a subscribed queue, whose ``Message`` is the JSON of one event.

The event keeps its own ``id``/``timestamp``/``partition_key``; missing ones come from the
message (``messageId`` or the SNS ``MessageId``; the SNS ``Timestamp`` or
``attributes.SentTimestamp``; ``attributes.MessageGroupId`` of a FIFO queue). A body that is
not JSON, not an object, not an SNS envelope (``from_sqs_sns``) or an event without a
``type`` yields a malformed UOW (a fault with the raw record), never an exception.

>>> event = to_sqs_records([{"type": "thing-created", "timestamp": 1}])
>>> [uow["event"]["type"] for uow in from_sqs(event)]
['thing-created']
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from hashlib import md5
from types import MappingProxyType
from typing import Any

from ..types import Uow
from ..utils.json import dumps
from ._base import finish, malformed, records_of, to_uow
from ._sns import message_of, notification
from ._time import iso_ms

__all__ = ["from_sqs", "from_sqs_sns", "to_sqs_records", "to_sqs_sns_records"]

QUEUE_ARN = "arn:aws:sqs:us-west-2:123456789012:test-queue"
SENT_TIMESTAMP = 1548967022000
_NO_ATTRIBUTES: Mapping[str, Any] = MappingProxyType({})


def from_sqs(event: Mapping[str, Any]) -> list[Uow]:
    """Decode an SQS trigger event whose bodies are JSON events into UOWs ordered by event
    timestamp."""
    uows: list[Uow] = []
    append = uows.append
    loads = json.loads
    for record in records_of(event, "sqs"):
        try:
            payload = loads(record["body"])
            message_id, sent, group = message_defaults(record)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            append(malformed(record, f"sqs message is not a JSON event: {err!r}", err))
            continue
        append(
            to_uow(
                record,
                payload,
                default_id=message_id,
                default_timestamp=sent,
                default_partition_key=group,
            )
        )
    return finish(uows)


def from_sqs_sns(event: Mapping[str, Any]) -> list[Uow]:
    """Decode an SQS trigger event whose bodies are SNS notification envelopes into UOWs
    ordered by event timestamp."""
    uows: list[Uow] = []
    append = uows.append
    loads = json.loads
    for record in records_of(event, "sqs"):
        try:
            envelope = loads(record["body"])
            payload = loads(message_of(envelope, envelope=True))
            message_id, sent, group = message_defaults(record)
            if type(payload) is dict and "timestamp" not in payload:  # parse only if needed
                published = envelope.get("Timestamp")
                if published is not None:
                    sent = iso_ms(published)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            reason = f"sqs message is not an SNS notification of a JSON event: {err!r}"
            append(malformed(record, reason, err))
            continue
        append(
            to_uow(
                record,
                payload,
                default_id=envelope.get("MessageId") or message_id,
                default_timestamp=sent,
                default_partition_key=group,
            )
        )
    return finish(uows)


def message_defaults(record: Mapping[str, Any]) -> tuple[Any, int | None, Any]:
    """``(messageId, SentTimestamp in ms, MessageGroupId)`` of an SQS record, for the SQS
    sources that wrap other payloads. Raises on a record that is not an SQS message."""
    attributes = record.get("attributes") or _NO_ATTRIBUTES
    sent = attributes.get("SentTimestamp")
    return (
        record.get("messageId"),
        None if sent is None else int(sent),
        attributes.get("MessageGroupId"),
    )


def to_sqs_records(
    events: Iterable[Mapping[str, Any]] | None = None,
    *,
    bodies: Sequence[str] | None = None,
    queue_arn: str = QUEUE_ARN,
    sent_timestamp: int = SENT_TIMESTAMP,
) -> dict[str, Any]:
    """Build an SQS trigger event with one message per event (its JSON as the body), in
    order; or, with ``bodies``, one message per raw body string (to build malformed cases).

    ``SentTimestamp`` is ``sent_timestamp`` + the message's index (ms). A FIFO queue
    (``queue_arn`` ending in ``.fifo``) also gets ``MessageGroupId`` (the event's
    ``partition_key``, else its ``id``, else the index), ``SequenceNumber`` and
    ``MessageDeduplicationId``; the region comes from the ARN.
    """
    if bodies is not None:
        if events is not None:
            raise ValueError("to_sqs_records: pass events or bodies, not both")
        groups: list[Any] = [None] * len(bodies)
    else:
        events = list(events or ())
        bodies = [dumps(event) for event in events]
        groups = [event.get("partition_key") or event.get("id") for event in events]
    fifo = queue_arn.endswith(".fifo")
    region = queue_arn.split(":")[3]
    records = []
    for i, body in enumerate(bodies):
        attributes = {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": str(sent_timestamp + i),
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": str(sent_timestamp + i + 2),
        }
        if fifo:
            attributes["SequenceNumber"] = f"{18849496460467696128 + i}"
            attributes["MessageGroupId"] = str(groups[i] or i)
            attributes["MessageDeduplicationId"] = md5(body.encode("utf-8")).hexdigest()
        records.append(
            {
                "messageId": f"059f36b4-87a3-44ab-83d2-{i:012d}",
                "receiptHandle": f"AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a{i}",
                "body": body,
                "attributes": attributes,
                "messageAttributes": {},
                "md5OfBody": md5(body.encode("utf-8")).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def to_sqs_sns_records(
    events: Iterable[Mapping[str, Any]] | None = None,
    *,
    messages: Sequence[str] | None = None,
    queue_arn: str = QUEUE_ARN,
    topic_arn: str = "arn:aws:sns:us-west-2:123456789012:test-topic",
    sent_timestamp: int = SENT_TIMESTAMP,
) -> dict[str, Any]:
    """Build an SQS trigger event for a queue subscribed to an SNS topic: each body is the
    SNS envelope of one event (its JSON as ``Message``), or of one raw ``messages`` string.

    The SNS ``Timestamp`` of message ``i`` is ``sent_timestamp + i`` (ms).
    """
    if messages is not None:
        if events is not None:
            raise ValueError("to_sqs_sns_records: pass events or messages, not both")
    else:
        messages = [dumps(event) for event in events or ()]
    bodies = [
        dumps(notification(message, index=i, timestamp_ms=sent_timestamp + i, topic_arn=topic_arn))
        for i, message in enumerate(messages)
    ]
    return to_sqs_records(bodies=bodies, queue_arn=queue_arn, sent_timestamp=sent_timestamp)
