"""Kinesis Data Streams trigger -> UOWs, and a record builder for tests.

Each record's ``kinesis.data`` is base64 JSON holding one domain event. The event keeps its
own ``id``/``timestamp``/``partition_key``; missing ones come from the record (``eventID``,
``approximateArrivalTimestamp``, ``kinesis.partitionKey``). Bad base64, bad JSON or an event
without a ``type`` yields a malformed UOW (a fault with the raw record), never an exception.

>>> event = to_kinesis_records([{"type": "thing-created", "timestamp": 1, "partition_key": "t1"}])
>>> [uow["event"]["type"] for uow in from_kinesis(event)]
['thing-created']
"""

from __future__ import annotations

import binascii
import json
import time
from base64 import b64encode
from binascii import a2b_base64
from collections.abc import Iterable, Mapping
from typing import Any

from ..types import Uow
from ..utils.json import dumps
from ._base import finish, malformed, records_of, to_uow

__all__ = ["from_kinesis", "to_kinesis_records"]

_SEQUENCE_BASE = 49590338271490256608559692538361571095921575989136588898


def from_kinesis(event: Mapping[str, Any]) -> list[Uow]:
    """Decode a Kinesis trigger event into UOWs ordered by event timestamp."""
    uows: list[Uow] = []
    append = uows.append
    loads = json.loads
    ordered = True
    last: Any = None
    # The loop is the per-record hot path: the checks of ``to_uow`` are inlined here and
    # the record-derived defaults are computed only when the event lacks them.
    for record in records_of(event, "kinesis"):
        try:
            kinesis = record["kinesis"]
            data = a2b_base64(kinesis["data"], strict_mode=True)
        except (KeyError, TypeError, ValueError, binascii.Error) as err:
            append(malformed(record, f"kinesis record data is not base64: {err!r}", err))
            continue
        try:
            # decoding to str first skips json's encoding detection (JSON is UTF-8, RFC 8259)
            payload = loads(data.decode("utf-8"))
        except ValueError as err:  # UnicodeDecodeError is a ValueError too
            append(malformed(record, f"kinesis record data is not UTF-8 JSON: {err}", err))
            continue
        if type(payload) is not dict or not payload.get("type") or type(payload["type"]) is not str:
            append(to_uow(record, payload, default_id=None, default_timestamp=None))
            continue
        if "id" not in payload:
            payload["id"] = record.get("eventID")
        timestamp = payload.get("timestamp")
        if timestamp is None:
            timestamp = payload["timestamp"] = _arrival_ms(kinesis)
        if ordered and last is not None:
            try:
                ordered = timestamp >= last
            except TypeError:  # incomparable timestamps: let the sort decide
                ordered = False
        last = timestamp
        if "partition_key" not in payload:
            payload["partition_key"] = kinesis.get("partitionKey")
        append({"record": record, "event": payload})
    return finish(uows, ordered=ordered)


def _arrival_ms(kinesis: Mapping[str, Any]) -> int | None:
    arrival = kinesis.get("approximateArrivalTimestamp")
    return None if arrival is None else int(float(arrival) * 1000)


def to_kinesis_records(
    events: Iterable[Mapping[str, Any]],
    *,
    shard_id: str = "shardId-000000000000",
    region: str = "us-west-2",
    stream_arn: str = "arn:aws:kinesis:us-west-2:123456789012:stream/test-stream",
    sequence_start: int | None = None,
) -> dict[str, Any]:
    """Build a Kinesis trigger event carrying ``events`` (one record each, in order).

    Sequence numbers (and so the default event ids, ``<shard>:<sequence>``) are increasing
    decimal strings, as on AWS, and distinct across calls (they start from the clock unless
    ``sequence_start`` is given), so two batches built in one test never share ids.
    """
    if sequence_start is None:
        sequence_start = _SEQUENCE_BASE + time.time_ns() * 1_000_000
    records = []
    for i, event in enumerate(events):
        data = b64encode(dumps(event).encode("utf-8")).decode("ascii")
        sequence = str(sequence_start + i)
        records.append(
            {
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{sequence}",
                "eventName": "aws:kinesis:record",
                "awsRegion": region,
                "eventSourceARN": stream_arn,
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role",
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": str(event.get("partition_key") or event.get("id") or i),
                    "sequenceNumber": sequence,
                    "data": data,
                    "approximateArrivalTimestamp": 1545084650.987,
                },
            }
        )
    return {"Records": records}
