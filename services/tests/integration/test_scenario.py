"""The reference scenario on the whole local system (the five services, deployed by
stream-local on a moto server; see conftest.py).

1. Two orders are POSTed to rest-bff's REST API: rest-bff's trigger publishes
   ``order-submitted`` for each, control collects them.
2. A payments service authorizes order A (``payment-authorized`` on the bus): control emits
   ``order-ready``, rest-bff's listener sets A's status to READY.
3. The lake (event-lake-s3, Firehose to S3) holds both orders' events.
4. B is never paid. The clock moves past control's ``PAYMENT_TIMEOUT_SECONDS``, TTL removes
   B's submission, control emits ``order-payment-timeout``, B's status is PAYMENT_TIMEOUT.
5. A poison event (see ``test_poison_event_fault_and_resubmission``) makes control's
   listener fail on one record. The fault is stored by event-fault-monitor (S3 + index);
   after the fix, ``event_fault_monitor.faults resubmit`` re-delivers the record, the listener
   succeeds and the fault is marked resubmitted.

Each step is a fixture, so a test runs alone too (``-k``). Only end states are asserted, with
bounded waits.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import time
import uuid

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

WAIT = 30.0  # seconds: the longest any step may take (it takes about 2 to 6 s)
ORDER = {"customer": "c-1", "items": [{"sku": "A-1", "quantity": 2, "price": 9.99}]}


def outputs(system, stack):
    cloudformation = system.cloud.client("cloudformation")
    found = cloudformation.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", ())
    return {o["OutputKey"]: o["OutputValue"] for o in found}


def status_of(api, order_id):
    code, body = api("GET", f"/orders/{order_id}")
    return body["status"] if code == 200 else f"HTTP {code}"


def wait_status(system, api, order_id, status):
    return system.wait_for(lambda: status_of(api, order_id) == status, timeout=WAIT)


def lake_events(system):
    """Every event in the lake bucket: ``[(object key, event)]``."""
    s3 = system.cloud.client("s3")
    bucket = outputs(system, "event-lake-s3-local")["LakeBucketName"]
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="events/"):
        for listed in page.get("Contents", ()):
            body = s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read()
            text = gzip.decompress(body).decode() if listed["Key"].endswith(".gz") else body
            found += [(listed["Key"], json.loads(line)) for line in text.splitlines() if line]
    return found


def lake_types(system, order_ids):
    """``{order id: {event types in the lake}}``, after writing Firehose's buffers."""
    system.runtime.firehose.flush()
    types = {order_id: set() for order_id in order_ids}
    for _key, event in lake_events(system):
        if event.get("partition_key") in types:
            types[event["partition_key"]].add(event["type"])
    return types


def payment(order_id, **extra):
    return {
        "id": str(uuid.uuid4()),
        "type": "payment-authorized",
        "timestamp": int(time.time() * 1000),
        "partition_key": order_id,
        "tags": {"source": "payments"},
        "order": {"id": order_id},
        "payment": {"id": f"p-{order_id[:8]}", "amount": 19.98},
        **extra,
    }


# ---- the scenario's steps -------------------------------------------------------------------


@pytest.fixture(scope="module")
def orders(system, api):
    """A and B, POSTed to the REST API."""
    created = []
    for _ in range(2):
        code, body = api("POST", "/orders", ORDER)
        assert code == 201, body
        assert body["status"] == "SUBMITTED"
        created.append(body["id"])
    return created


@pytest.fixture(scope="module")
def paid(system, api, orders):
    """A is paid: ``payment-authorized`` on the bus, as a payments service would put it."""
    a, _b = orders
    system.send(payment(a))
    assert wait_status(system, api, a, "READY"), f"A is {status_of(api, a)}"
    return a


@pytest.fixture(scope="module")
def timed_out(system, api, orders, paid):
    """B's payment deadline passes: the clock moves past PAYMENT_TIMEOUT_SECONDS (control's
    setting, read from the deployed function), and TTL removes B's submission."""
    _a, b = orders
    environment = system.registry.function("control-local-listener").environment
    timeout = int(environment["PAYMENT_TIMEOUT_SECONDS"])
    system.clock.advance(timeout + 60)
    assert wait_status(system, api, b, "PAYMENT_TIMEOUT"), f"B is {status_of(api, b)}"
    return b


# ---- tests ----------------------------------------------------------------------------------


def test_posted_orders_are_submitted_and_collected(system, api, orders):
    for order_id in orders:
        code, body = api("GET", f"/orders/{order_id}")
        assert code == 200 and body["id"] == order_id
    # control's listener collected both submissions (its events table, by order id)
    table = "control-local-events"
    dynamodb = system.cloud.client("dynamodb")

    def collected():
        items = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
        return {i["data"]["S"] for i in items if i.get("sk", {}).get("S") == "EVENT"} >= set(orders)

    assert system.wait_for(collected, timeout=WAIT)


def test_paid_order_becomes_ready(system, api, orders, paid):
    code, body = api("GET", f"/orders/{paid}")
    assert (code, body["status"]) == (200, "READY")
    assert body["version"] == 1  # a materialized status is not an API write


def test_both_orders_events_are_in_the_lake(system, orders, paid):
    a, b = orders
    wanted = {
        a: {"order-submitted", "payment-authorized", "order-ready"},
        b: {"order-submitted"},
    }
    found = system.wait_for(
        lambda: (t := lake_types(system, orders)) and all(wanted[o] <= t[o] for o in orders) and t,
        timeout=WAIT,
    )
    assert found, f"lake has {lake_types(system, orders)}, wanted {wanted}"
    # laid out as on AWS: events/<yyyy>/<MM>/<dd>/<type>/<stream>-1-<time>-<uuid>.gz
    for key, event in lake_events(system):
        if event.get("partition_key") in orders:
            assert re.fullmatch(rf"events/\d{{4}}/\d\d/\d\d/{event['type']}/[^/]+\.gz", key), key


def test_unpaid_order_times_out(system, api, orders, timed_out):
    a, b = orders
    assert status_of(api, b) == "PAYMENT_TIMEOUT"
    assert status_of(api, a) == "READY"  # paid: its submission expired too, but no timeout
    found = system.wait_for(
        lambda: "order-payment-timeout" in lake_types(system, [b])[b], timeout=WAIT
    )
    assert found, "the timeout is not in the lake"
    timeouts = [e for _k, e in lake_events(system) if e["type"] == "order-payment-timeout"]
    assert {e["partition_key"] for e in timeouts} & set(orders) == {b}


def test_poison_event_fault_and_resubmission(system, api, orders, timed_out, aws_env):
    """The poison: a late payment for B, claim-checked, whose stored event is not there yet.

    A payments service authorizes B after its deadline. The payment carries a large receipt,
    so the service publishes it the way stream-core's claim check does: the whole event in its
    S3 bucket, a stub ``{id, type, timestamp, partition_key, tags, s3: {bucket, key}}`` on the
    bus. Its S3 write has not landed (it failed, and the service retries it later): control's
    listener cannot read the stored event, so the record becomes a fault (``claim check ...
    unreadable: NoSuchKey``), published to the bus and stored by event-fault-monitor. Retrying
    at once cannot help, which is why it is a fault, not a batch item failure.

    The fix: the payments service writes the object. Resubmitting the fault re-delivers the
    original Kinesis record to ``control-local-listener``. It now reads the payment and
    collects it. B stays PAYMENT_TIMEOUT: control decides once per order, and a late payment
    changes nothing. (On AWS, control's role would also need ``s3:GetObject`` on the payments
    bucket; moto does not enforce IAM.)
    """
    from event_fault_monitor.faults import main
    from event_fault_monitor.store import FaultStore

    b = timed_out
    s3 = system.cloud.client("s3")
    claims = f"payments-local-claims-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=claims)
    late = payment(b, receipt={"pdf": "JVBERi0xLjQK" * 1000})
    key = time.strftime("claims/%Y/%m/%d/", time.gmtime()) + f"{late['id']}.json"
    stub = {name: late[name] for name in ("id", "type", "timestamp", "partition_key", "tags")}
    stub["s3"] = {"bucket": claims, "key": key}
    system.send(stub)

    # the fault, stored by event-fault-monitor: the index item and the whole fault in S3
    monitor = outputs(system, "event-fault-monitor-local")
    store = FaultStore(monitor["FaultsTableName"], monitor["FaultsBucketName"])

    def stored():
        for item in store.list(function="control-local-listener"):
            if key in str(item.get("err_message")):
                return item
        return None

    item = system.wait_for(stored, timeout=WAIT)
    assert item, f"no fault stored; faults seen: {[x for x in system.log.lines if 'fault' in x]}"
    assert item["status"] == "open" and item["err_name"] == "MalformedRecordError"
    fault = store.fault(item)
    record = fault["uow"]["record"]
    assert record["eventSource"] == "aws:kinesis"  # the raw record, kept for resubmission
    assert s3.head_object(Bucket=monitor["FaultsBucketName"], Key=item["s3_key"])

    out = io.StringIO()  # the command lists it (against the local system: aws_env)
    assert main(["--stage", "local", "list", "--function", "control-local-listener"], out=out) == 0
    assert item["pk"] in out.getvalue()

    def resubmit(key):
        """The command an operator runs: it invokes the function through Lambda's Invoke API
        (AWS_ENDPOINT_URL_LAMBDA: the runtime's, see aws_env)."""
        out = io.StringIO()
        code = main(["--stage", "local", "resubmit", key], out=out)
        return code, out.getvalue()

    # before the fix: the function runs fine (the record just becomes a fault again), so the
    # fault is marked resubmitted, and the monitor re-opens it when the new fault arrives
    invoked = len([d for d in system.log.deliveries if d.source == "lambda:Invoke"])
    code, message = resubmit(item["pk"])
    assert code == 0 and "resubmitted to control-local-listener" in message, message
    through_api = [d for d in system.log.deliveries if d.source == "lambda:Invoke"][invoked:]
    assert [d.function for d in through_api] == ["control-local-listener"]

    def reopened():
        now = store.get(item["pk"], consistent=True) or {}
        return now.get("status") == "open" and now.get("reopened_at") and now

    again = system.wait_for(reopened, timeout=WAIT)
    assert again, store.get(item["pk"], consistent=True)
    assert int(again["occurrences"]) == 2

    # the fix: the payments service's S3 write lands
    s3.put_object(Bucket=claims, Key=key, Body=json.dumps(late).encode())
    code, message = resubmit(item["pk"])
    assert code == 0, message
    after = store.get(item["pk"], consistent=True)
    assert after["status"] == "resubmitted"
    assert after["resubmitted_to"] == "control-local-listener"

    # the listener collected the late payment (whole, receipt included) ...
    dynamodb = system.cloud.client("dynamodb")
    collected = dynamodb.get_item(
        TableName="control-local-events",
        Key={"pk": {"S": late["id"]}, "sk": {"S": "EVENT"}},
        ConsistentRead=True,
    ).get("Item")
    assert collected and collected["data"]["S"] == b
    # ... and it changed nothing: B's one decision stands, and no new fault re-opened it
    time.sleep(2)  # the trigger's batching window, once more
    assert status_of(api, b) == "PAYMENT_TIMEOUT"
    decision = dynamodb.get_item(
        TableName="control-local-events",
        Key={"pk": {"S": b}, "sk": {"S": "DECISION"}},
        ConsistentRead=True,
    )["Item"]
    assert decision["outcome"]["S"] == "order-payment-timeout"
    assert store.get(item["pk"], consistent=True)["status"] == "resubmitted"
