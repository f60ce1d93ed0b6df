"""The shared workload of bench/pipeline_overhead.py: the events, the execute function, the
rules and the hand-written loop. Both libraries get exactly the same inputs from here.

Nothing here imports stream_core or aws_lambda_stream: the flavor is passed in.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from typing import Any

RECORDS = 10_000
EVENT_TYPE = "thing-created"
OTHER_TYPES = [f"other-{n}-happened" for n in range(9)]  # the 9 rules that never match
BUS_NAME = "bench-bus"

_STATUSES = ("active", "pending", "archived")


def make_events(count: int = RECORDS, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` small domain events (~200 bytes of JSON each), timestamps increasing."""
    rnd = random.Random(seed)
    events = []
    for i in range(count):
        thing_id = f"thing-{rnd.randrange(1_000_000):06d}"
        events.append(
            {
                "id": f"{rnd.getrandbits(128):032x}",
                "type": EVENT_TYPE,
                "timestamp": 1_764_028_800_000 + i * 7,
                "partition_key": thing_id,
                "thing": {
                    "id": thing_id,
                    "name": f"Thing number {i}",
                    "status": _STATUSES[i % 3],
                    "quantity": rnd.randrange(1, 50),
                    "price": round(rnd.uniform(1, 500), 2),
                },
            }
        )
    return events


def make_kinesis_event(events: list[dict[str, Any]]) -> dict[str, Any]:
    """A Kinesis trigger event shaped like the one AWS Lambda delivers (one record per event).

    Built here, not with either library's test helper, so both read the same bytes.
    """
    records = []
    base_sequence = 49590338271490256608559692538361571095921575989136588898
    for i, event in enumerate(events):
        data = json.dumps(event, separators=(",", ":")).encode("utf-8")
        sequence = str(base_sequence + i)
        records.append(
            {
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"shardId-000000000000:{sequence}",
                "eventName": "aws:kinesis:record",
                "awsRegion": "us-west-2",
                "eventSourceARN": "arn:aws:kinesis:us-west-2:123456789012:stream/event-hub",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/listener",
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": event["partition_key"],
                    "sequenceNumber": sequence,
                    "data": base64.b64encode(data).decode("ascii"),
                    "approximateArrivalTimestamp": 1764028800.123,
                },
            }
        )
    return {"Records": records}


def average_event_bytes(events: list[dict[str, Any]]) -> float:
    return sum(len(json.dumps(e, separators=(",", ":"))) for e in events) / len(events)


def execute(uow: dict[str, Any], rule: Any) -> dict[str, Any]:
    """The business logic every case calls once per matching record."""
    thing = uow["event"]["thing"]
    return {"thing_id": thing["id"], "total": thing["quantity"] * thing["price"]}


def make_rules(flavor: Callable[..., Any], count: int) -> list[dict[str, Any]]:
    """``count`` task rules; only the first matches the benchmark's events."""
    rules = [
        {
            "id": "handle-thing-created",
            "flavor": flavor,
            "event_type": EVENT_TYPE,
            "execute": execute,
        }
    ]
    for n in range(count - 1):
        rules.append(
            {
                "id": f"handle-{OTHER_TYPES[n]}",
                "flavor": flavor,
                "event_type": OTHER_TYPES[n],
                "execute": execute,
            }
        )
    return rules


_HAND_RULE = {"id": "handle-thing-created", "event_type": EVENT_TYPE}


def hand_loop(event: dict[str, Any]) -> int:
    """Case (a): what you would write without a library."""
    b64decode = base64.b64decode
    loads = json.loads
    rule = _HAND_RULE
    event_type = rule["event_type"]
    handled = 0
    for record in event["Records"]:
        payload = loads(b64decode(record["kinesis"]["data"]))
        if payload["type"] == event_type:
            uow = {"record": record, "event": payload}
            uow["result"] = execute(uow, rule)
            handled += 1
    return handled
