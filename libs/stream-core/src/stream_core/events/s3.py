"""S3 event notifications -> UOWs, delivered directly or through SNS and/or SQS, and record
builders for tests.

Each S3 record becomes one event::

    {"id": "s3://<bucket>/<key>#<sequencer, else x-amz-request-id>",
     "type": "object-created",      # eventName "ObjectCreated:Put" -> lower-kebab prefix
     "timestamp": <eventTime in ms>,
     "partition_key": <object key, as S3 wrote it (URL-encoded)>,
     "s3": <the record's "s3" object>}

The id names one change of one object: the sequencer orders the changes of a key, and a
request id alone is shared by every object of a multi-object delete.

A UOW's ``record`` is always the top-level record of the Lambda event (the SQS message even
when it wraps an SNS notification of an S3 notification), because partial batch responses
and resubmission work on it; the UOWs of the S3 records of one message share it. An
``s3:TestEvent`` yields no UOW. Anything that cannot be decoded yields a malformed UOW (a
fault with the top-level record), never an exception.

>>> event = to_s3_records([{"bucket": {"name": "b"}, "object": {"key": "k"}}])
>>> [(uow["event"]["type"], uow["event"]["partition_key"]) for uow in from_s3(event)]
[('object-created', 'k')]
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..types import Event, Uow
from ..utils.json import dumps
from ._base import malformed, records_of, sort_uows
from ._sns import message_of
from ._time import iso_ms, ms_iso
from .sns import TOPIC_ARN, to_sns_records
from .sqs import QUEUE_ARN, to_sqs_records, to_sqs_sns_records

__all__ = [
    "from_s3",
    "from_sns_s3",
    "from_sqs_s3",
    "from_sqs_sns_s3",
    "to_s3_records",
    "to_sns_s3_records",
    "to_sqs_s3_records",
    "to_sqs_sns_s3_records",
]

EVENT_TIME = 1548967022000
_CAPITAL = re.compile(r"(?<!^)(?=[A-Z])")
_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


def from_s3(event: Mapping[str, Any]) -> list[Uow]:
    """Decode an S3 trigger event (S3 -> Lambda) into UOWs ordered by event timestamp."""
    types: dict[str, str] = {}
    uows: list[Uow] = []
    append = uows.append
    for record in records_of(event, "s3"):
        try:
            change = _event_of(record, types)
        except _ERRORS as err:
            append(malformed(record, f"s3 record cannot be decoded: {err!r}", err))
            continue
        append({"record": record, "event": change})
    return sort_uows(uows)


def from_sqs_s3(event: Mapping[str, Any]) -> list[Uow]:
    """Decode an SQS trigger event whose bodies are S3 notifications (S3 -> SQS)."""
    return _from_wrapped(event, "sqs", _sqs_body)


def from_sqs_sns_s3(event: Mapping[str, Any]) -> list[Uow]:
    """Decode an SQS trigger event whose bodies are SNS envelopes of S3 notifications
    (S3 -> SNS -> SQS)."""
    return _from_wrapped(event, "sqs", _sqs_sns_message)


def from_sns_s3(event: Mapping[str, Any]) -> list[Uow]:
    """Decode an SNS trigger event whose messages are S3 notifications (S3 -> SNS)."""
    return _from_wrapped(event, "sns", _sns_message)


def _sqs_body(record: Mapping[str, Any]) -> str:
    return record["body"]


def _sqs_sns_message(record: Mapping[str, Any]) -> str:
    return message_of(json.loads(record["body"]), envelope=True)


def _sns_message(record: Mapping[str, Any]) -> str:
    return message_of(record["Sns"], envelope=False)


def _from_wrapped(
    event: Mapping[str, Any], source: str, message: Callable[[Mapping[str, Any]], str]
) -> list[Uow]:
    types: dict[str, str] = {}
    uows: list[Uow] = []
    append = uows.append
    loads = json.loads
    for record in records_of(event, source):
        try:
            s3_records = _records_of(loads(message(record)))
        except _ERRORS as err:
            reason = f"{source} message is not an S3 notification: {err!r}"
            append(malformed(record, reason, err))
            continue
        for i, s3_record in enumerate(s3_records):
            try:
                change = _event_of(s3_record, types)
            except _ERRORS as err:
                reason = f"S3 record {i} of the {source} message cannot be decoded: {err!r}"
                append(malformed(record, reason, err))
                continue
            append({"record": record, "event": change})
    return sort_uows(uows)


def _records_of(notification: Any) -> list[Any]:
    """The S3 records of an S3 notification; none for the test event S3 sends when a
    notification configuration is saved."""
    if type(notification) is not dict:
        raise ValueError(f"an S3 notification is an object, not {type(notification).__name__}")
    records = notification.get("Records")
    if type(records) is not list:
        if notification.get("Event") == "s3:TestEvent":
            return []
        raise ValueError("S3 notification has no 'Records' list")
    return records


def _event_of(record: Mapping[str, Any], types: dict[str, str]) -> Event:
    event_name = record["eventName"]
    event_type = types.get(event_name)
    if event_type is None:
        event_type = types[event_name] = _event_type(event_name)
    s3 = record["s3"]
    key = s3["object"]["key"]
    if type(key) is not str or not key:
        raise ValueError("S3 record has no object key")
    sequencer = s3["object"].get("sequencer")
    if not sequencer:
        sequencer = (record.get("responseElements") or {}).get("x-amz-request-id")
    event_time = record.get("eventTime")
    return {
        "id": f"s3://{s3['bucket']['name']}/{key}#{sequencer}",
        "type": event_type,
        "timestamp": None if event_time is None else iso_ms(event_time),
        "partition_key": key,
        "s3": s3,
    }


def _event_type(event_name: Any) -> str:
    """``ObjectCreated:Put`` -> ``object-created``, ``LifecycleExpiration:Delete`` ->
    ``lifecycle-expiration``."""
    prefix = event_name.partition(":")[0]
    if not prefix:
        raise ValueError(f"S3 record has no eventName: {event_name!r}")
    return _CAPITAL.sub("-", prefix).lower()


def to_s3_records(
    notifications: Iterable[Mapping[str, Any]],
    *,
    region: str = "us-west-2",
    event_time: int = EVENT_TIME,
) -> dict[str, Any]:
    """Build an S3 notification (also the S3 trigger event of a Lambda), one record per item.

    Each item is ``{"bucket": {...}, "object": {...}}`` with an optional ``eventName``
    (default ``ObjectCreated:Put``), the shape of aws-lambda-stream's builder. The
    ``eventTime`` of record ``i`` is ``event_time + i`` (ms).
    """
    return {
        "Records": [_s3_record(item, i, region, event_time) for i, item in enumerate(notifications)]
    }


def _s3_record(item: Mapping[str, Any], i: int, region: str, event_time: int) -> dict[str, Any]:
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": ms_iso(event_time + i),
        "eventName": item.get("eventName", "ObjectCreated:Put"),
        "userIdentity": {"principalId": "AWS:AIDAINPONIXQXHT3IKHL2"},
        "requestParameters": {"sourceIPAddress": "205.255.255.255"},
        "responseElements": {
            "x-amz-request-id": f"C3D13FE58DE4{i:04X}",
            "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "test-notification",
            "bucket": dict(item.get("bucket") or {}),
            "object": dict(item.get("object") or {}),
        },
    }


def _notifications(
    notifications: Iterable[Mapping[str, Any]], arn: str, event_time: int
) -> list[str]:
    """One S3 notification JSON per item, as S3 publishes them to SNS or SQS (in the region
    of ``arn``)."""
    region = arn.split(":")[3]
    return [
        dumps({"Records": [_s3_record(item, i, region, event_time)]})
        for i, item in enumerate(notifications)
    ]


def to_sqs_s3_records(
    notifications: Iterable[Mapping[str, Any]],
    *,
    queue_arn: str = QUEUE_ARN,
    event_time: int = EVENT_TIME,
) -> dict[str, Any]:
    """Build an SQS trigger event for S3 -> SQS: one message per item (see
    ``to_s3_records``), each body an S3 notification with one record."""
    bodies = _notifications(notifications, queue_arn, event_time)
    return to_sqs_records(bodies=bodies, queue_arn=queue_arn)


def to_sqs_sns_s3_records(
    notifications: Iterable[Mapping[str, Any]],
    *,
    queue_arn: str = QUEUE_ARN,
    topic_arn: str = TOPIC_ARN,
    event_time: int = EVENT_TIME,
) -> dict[str, Any]:
    """Build an SQS trigger event for S3 -> SNS -> SQS: one message per item (see
    ``to_s3_records``), each an SNS envelope of an S3 notification with one record.

    For a notification with several records, or the ``s3:TestEvent``, pass its JSON to
    ``sqs.to_sqs_sns_records(messages=[...])``.
    """
    return to_sqs_sns_records(
        messages=_notifications(notifications, topic_arn, event_time),
        queue_arn=queue_arn,
        topic_arn=topic_arn,
    )


def to_sns_s3_records(
    notifications: Iterable[Mapping[str, Any]],
    *,
    topic_arn: str = TOPIC_ARN,
    event_time: int = EVENT_TIME,
) -> dict[str, Any]:
    """Build an SNS trigger event for S3 -> SNS: one notification per item (see
    ``to_s3_records``), each message an S3 notification with one record."""
    messages = _notifications(notifications, topic_arn, event_time)
    return to_sns_records(messages=messages, topic_arn=topic_arn)
