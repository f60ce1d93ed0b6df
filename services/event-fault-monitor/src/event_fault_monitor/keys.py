"""What identifies a fault, and how its record goes back to the function that failed.

A fault's **key** is stable across redeliveries: the same record failing the same way in
the same function and pipeline always gets the same key, so it is stored once::

    sha256(functionname, pipeline, record identity, error name)[:24]

The record identity is the one its source gives it: the Kinesis ``eventID`` (shard and
sequence number) and the SQS ``messageId`` and the DynamoDB ``eventID``, each with the
source's ARN; the SNS message id; the EventBridge event id. A record of any other shape is
identified by the hash of its JSON.

>>> record = {"eventSource": "aws:sqs", "messageId": "m-1", "eventSourceARN": "arn:q"}
>>> record_identity(record)
('sqs', 'arn:q#m-1')
>>> trigger_event(record)
{'Records': [{'eventSource': 'aws:sqs', 'messageId': 'm-1', 'eventSourceARN': 'arn:q'}]}
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["UNDEFINED", "fault_key", "fault_parts", "record_identity", "trigger_event"]

UNDEFINED = "undefined"

_SOURCES = {"aws:kinesis": "kinesis", "aws:sqs": "sqs", "aws:dynamodb": "dynamodb"}


def record_identity(record: Any) -> tuple[str, str]:
    """``(source, id)`` of a raw Lambda record (the ``uow.record`` a fault carries)."""
    if isinstance(record, Mapping):
        source = _SOURCES.get(record.get("eventSource"))  # type: ignore[arg-type]
        arn = record.get("eventSourceARN") or ""
        if source == "kinesis":
            kinesis = record.get("kinesis") or {}
            ident = record.get("eventID") or kinesis.get("sequenceNumber")
            if ident:
                return source, f"{arn}#{ident}"
        elif source == "sqs" and record.get("messageId"):
            return source, f"{arn}#{record['messageId']}"
        elif source == "dynamodb" and record.get("eventID"):
            return source, f"{arn}#{record['eventID']}"
        if record.get("EventSource") == "aws:sns" and isinstance(record.get("Sns"), Mapping):
            sns = record["Sns"]
            return "sns", f"{sns.get('TopicArn', '')}#{sns.get('MessageId', '')}"
        if record.get("eventSource") == "aws:s3":
            s3 = record.get("s3") or {}
            obj = s3.get("object") or {}
            bucket = (s3.get("bucket") or {}).get("name", "")
            return "s3", f"{bucket}/{obj.get('key', '')}#{obj.get('sequencer', '')}"
        if "detail-type" in record and record.get("id"):
            return "eventbridge", str(record["id"])
    text = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))
    return "unknown", hashlib.sha256(text.encode()).hexdigest()


def fault_parts(fault: Mapping[str, Any]) -> dict[str, str]:
    """The fields a fault is indexed by: function name, pipeline, error name, source and
    record id (missing ones are ``"undefined"``)."""
    tags = fault.get("tags") or {}
    uow = fault.get("uow") or {}
    err = fault.get("err") or {}
    source, record_id = record_identity(uow.get("record"))
    return {
        "functionname": str(tags.get("functionname") or UNDEFINED),
        "pipeline": str(tags.get("pipeline") or uow.get("pipeline") or UNDEFINED),
        "err_name": str(err.get("name") or UNDEFINED),
        "source": source,
        "record_id": record_id,
    }


def fault_key(fault: Mapping[str, Any]) -> str:
    """The de-duplication key of ``fault`` (24 hex digits)."""
    parts = fault_parts(fault)
    text = "\n".join(
        (
            parts["functionname"],
            parts["pipeline"],
            f"{parts['source']}:{parts['record_id']}",
            parts["err_name"],
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def trigger_event(record: Mapping[str, Any]) -> dict[str, Any]:
    """The Lambda event that delivers ``record`` again, in its source's shape.

    Kinesis, SQS, DynamoDB Streams, SNS and S3 records go in a one-record ``Records`` batch;
    an EventBridge envelope is the event itself.
    """
    source, _ = record_identity(record)
    if source == "eventbridge":
        return dict(record)
    if source == "unknown":
        raise ValueError("the fault's record has no known source shape; it cannot be resubmitted")
    return {"Records": [record]}
