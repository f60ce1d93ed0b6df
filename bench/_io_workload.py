"""The shared workload of bench/io_bound.py: the events, the UpdateItem each one must cause,
the latency hook that also records every call, and the check of the table afterwards.

Nothing here imports stream_core or aws_lambda_stream: both worker processes (and the
orchestrator, which creates the tables) use it with their own boto3.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from _workload import make_kinesis_event

UPDATES = 100
LATENCY_S = 0.020  # added to every AWS call, client side (botocore before-send)
EVENT_TYPE = "thing-updated"
SORT_KEY = "THING"
_BASE_TIMESTAMP = 1_764_028_800_000
_CONDITION = "attribute_not_exists(#timestamp) OR #timestamp < :timestamp"


# --- events and requests ------------------------------------------------------------------


def thing_id(i: int) -> str:
    return f"thing-{i:03d}"


def expected_values(case: str, run: int) -> list[tuple[str, int]]:
    """``(name, timestamp)`` of item ``i`` after run ``run`` of ``case``: a name no other run
    or case writes, and timestamps that increase run after run (the timestamp condition of
    the requests lets a newer event through and stops an older one)."""
    return [
        (f"{case} run {run} thing {i}", _BASE_TIMESTAMP + run * 10_000 + i) for i in range(UPDATES)
    ]


def make_events(case: str, run: int) -> list[dict[str, Any]]:
    """``UPDATES`` distinct events, one per item, timestamps increasing (as a shard delivers)."""
    return [
        {
            "id": f"{case}-{run}-{i}",
            "type": EVENT_TYPE,
            "timestamp": timestamp,
            "partition_key": thing_id(i),
            "thing": {"id": thing_id(i), "name": name},
        }
        for i, (name, timestamp) in enumerate(expected_values(case, run))
    ]


def trigger_event(case: str, run: int) -> dict[str, Any]:
    """The Kinesis trigger event of one run (built like bench/_workload.py's)."""
    return make_kinesis_event(make_events(case, run))


def update_item_params(table: str, event: dict[str, Any]) -> dict[str, Any]:
    """The low-level UpdateItem of one event: what the sequential loop sends, and what the
    libraries' materialize rules below send too (checked on the wire by the workers)."""
    return {
        "TableName": table,
        "Key": {"pk": {"S": event["thing"]["id"]}, "sk": {"S": SORT_KEY}},
        "UpdateExpression": "SET #name = :name, #timestamp = :timestamp",
        "ExpressionAttributeNames": {"#name": "name", "#timestamp": "timestamp"},
        "ExpressionAttributeValues": {
            ":name": {"S": event["thing"]["name"]},
            ":timestamp": {"N": str(event["timestamp"])},
        },
        "ConditionExpression": _CONDITION,
        "ReturnValues": "ALL_NEW",
    }


def expected_bodies(table: str, case: str, run: int) -> list[dict[str, Any]]:
    return [update_item_params(table, event) for event in make_events(case, run)]


# --- the latency hook and the call record -------------------------------------------------


class CallRecorder:
    """A botocore ``before-send`` handler: records the call (operation, request body), then
    sleeps ``LATENCY_S`` (0 for the no-latency reference). Thread-safe; returns None, so
    botocore goes on and sends the request."""

    def __init__(self, latency: float = LATENCY_S) -> None:
        self.latency = latency
        self._lock = threading.Lock()
        self.calls: list[tuple[str, bytes]] = []

    def __call__(self, request: Any, event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        body = request.body
        if hasattr(body, "read"):  # streaming bodies are not used by DynamoDB; be safe
            body = b"<stream>"
        with self._lock:
            self.calls.append((operation, body if isinstance(body, bytes) else str(body).encode()))
        if self.latency:
            time.sleep(self.latency)

    def reset(self) -> None:
        with self._lock:
            self.calls = []

    def register(self, events: Any) -> None:
        """Register on an event emitter: a client's ``meta.events`` or a session's ``events``."""
        events.register("before-send", self)


class SendCounter:
    """Counts every HTTP request botocore sends in this process, whatever the client, by
    wrapping ``botocore.endpoint.Endpoint._send`` (called after before-send when no handler
    answered). Compared with the hook's count, it proves the hook saw every call."""

    def __init__(self) -> None:
        from botocore import endpoint

        self._lock = threading.Lock()
        self.count = 0
        original = endpoint.Endpoint._send

        def counted(endpoint_self: Any, request: Any) -> Any:
            with self._lock:
                self.count += 1
            return original(endpoint_self, request)

        endpoint.Endpoint._send = counted  # type: ignore[method-assign]


def operations(calls: list[tuple[str, bytes]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for operation, _ in calls:
        counts[operation] = counts.get(operation, 0) + 1
    return counts


def same_requests(calls: list[tuple[str, bytes]], expected: list[dict[str, Any]]) -> int:
    """How many of ``expected`` UpdateItem requests were sent exactly (as JSON, any order)."""
    sent = [
        json.dumps(json.loads(body), sort_keys=True) for op, body in calls if op == "UpdateItem"
    ]
    remaining: dict[str, int] = {}
    for text in sent:
        remaining[text] = remaining.get(text, 0) + 1
    matched = 0
    for request in expected:
        text = json.dumps(request, sort_keys=True)
        if remaining.get(text):
            remaining[text] -= 1
            matched += 1
    return matched


# --- tables -------------------------------------------------------------------------------


def create_table(client: Any, name: str) -> None:
    """An on-demand table keyed pk (hash) + sk (range), created through the API."""
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2})


def scan_all(client: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        items.extend(page.get("Items", ()))
        if not page.get("LastEvaluatedKey"):
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def check_table(client: Any, table: str, case: str, run: int) -> str | None:
    """None when the table holds exactly the ``UPDATES`` items of run ``run`` of ``case``
    with their name and timestamp; else what is wrong."""
    items = {(item["pk"]["S"], item["sk"]["S"]): item for item in scan_all(client, table)}
    if len(items) != UPDATES:
        return f"{table}: {len(items)} items, expected {UPDATES}"
    for i, (name, timestamp) in enumerate(expected_values(case, run)):
        item = items.get((thing_id(i), SORT_KEY))
        if item is None:
            return f"{table}: item {thing_id(i)} missing"
        got = (item.get("name", {}).get("S"), item.get("timestamp", {}).get("N"))
        if got != (name, str(timestamp)):
            return f"{table}: item {thing_id(i)} holds {got}, expected {(name, str(timestamp))}"
    return None
