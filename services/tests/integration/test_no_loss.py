"""No loss under faults: 1,000 orders through the five services with chaos on.

The five services run on a system of their own: its own moto server and clock, so the
shared ``system`` of conftest.py and its tests are not disturbed. stream-local's chaos
(``stream_local.chaos``) is on: invocations fail before or after the handler ran; AWS calls
made by handler code are throttled (most once, which the connectors retry; some in bursts
that outlive the retries and go back to Lambda in partial batch responses) or denied (the
record becomes a fault); batch writes come back with some entries failed (the connectors
retry those alone); pollers and rule taps deliver records twice.

1. ``ORDERS`` orders are POSTed to rest-bff's REST API, 8 at a time. The client retries a
   5xx answer (a chaos error in the ``rest`` function), as a client would. An invocation
   that failed *after* the handler ran has created an order all the same. Such "ghost"
   orders are found in the table and must reach a final state too.
2. A random half of them is paid (``payment-authorized`` on the bus). They become READY.
3. The clock moves past control's payment deadline. TTL removes every submission, and the
   unpaid orders (ghosts included) become PAYMENT_TIMEOUT. A few late payments arrive for
   orders that timed out already, and change nothing.
4. Throughout, an operator's desk resubmits the faults event-fault-monitor stored
   (``event_fault_monitor.faults.resubmit``, through the runtime) until none is open.

Then: every order is READY (paid) or PAYMENT_TIMEOUT (not paid); control's events table
holds exactly one decision per order, and it agrees; the lake holds exactly one final event
id per order (at-least-once delivery may have stored copies of it); no stream record was
given up and no on-failure destination or DLQ holds anything; every fault came from an
injected failure and was resubmitted. The counts are printed in a few lines (in ``make
test`` too), the whole report with ``pytest -s``.

``NO_LOSS_ORDERS`` (default 1000), ``NO_LOSS_SEED`` and ``NO_LOSS_CHAOS=0`` (the same run
without chaos) change the run; ``make test`` runs the default. ``NO_LOSS_TRACE=FILE`` writes
every invocation to FILE. libs/stream-local/README.md, "Chaos", has measured runs.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

ORDERS = int(os.environ.get("NO_LOSS_ORDERS", "1000"))
SEED = int(os.environ.get("NO_LOSS_SEED", "20261125"))
CLIENTS = 8  # concurrent REST requests
PAYMENT_TIMEOUT_SECONDS = 900  # control's default (params.paymentTimeoutSeconds)
FINAL = {"READY", "PAYMENT_TIMEOUT"}
FINAL_EVENTS = {"order-ready": "READY", "order-payment-timeout": "PAYMENT_TIMEOUT"}

STAGE = "local"
ORDERS_TABLE = f"rest-bff-{STAGE}-orders"
EVENTS_TABLE = f"control-{STAGE}-events"
BUS = f"event-hub-{STAGE}-bus"
FAULT_QUEUE = f"event-fault-monitor-{STAGE}-faults"
DLQS = [
    f"rest-bff-{STAGE}-trigger-dlq",
    f"rest-bff-{STAGE}-listener-dlq",
    f"control-{STAGE}-listener-dlq",
    f"control-{STAGE}-trigger-dlq",
    f"event-fault-monitor-{STAGE}-faults-dlq",
]


def chaos_settings():
    from stream_local.chaos import Chaos

    return Chaos(
        handler_error_rate=0.05,  # of invocations, half before and half after the handler
        throttle_rate=0.05,  # of AWS calls made by handler code: retried by the connectors
        burst_rate=0.002,  # of AWS calls: throttled 4 times in a row, back to Lambda
        error_rate=0.001,  # of AWS calls: access denied, the record becomes a fault
        partial_rate=0.1,  # of batch writes: some entries fail, the connectors retry them
        duplicate_rate=0.05,  # of batches (streams, queues) and events (rule taps)
        seed=SEED,
    )


class Tally:
    """What the runtime did, per function: invocations, failed ones (by error type), partial
    batch responses and the records they handed back (a ``DeliveryLog`` that counts)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.invocations: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.error_types: Counter[str] = Counter()
        self.partial: Counter[str] = Counter()
        self.handed_back: Counter[str] = Counter()
        self.last = time.monotonic()

    def log(self) -> Any:
        from stream_local.log import DeliveryLog

        tally = self

        class CountingLog(DeliveryLog):
            def invocation(self, source: str, function: str, records: int, result: Any) -> None:
                super().invocation(source, function, records, result)
                response = result.response if isinstance(result.response, dict) else {}
                failures = response.get("batchItemFailures") or []
                with tally.lock:
                    tally.last = time.monotonic()
                    tally.invocations[function] += 1
                    if not result.ok:
                        tally.errors[function] += 1
                        tally.error_types[str(result.error.get("errorType"))] += 1
                    elif failures:
                        tally.partial[function] += 1
                        tally.handed_back[function] += len(failures)

        keep = 200_000 if os.environ.get("NO_LOSS_TRACE") else 1000
        return CountingLog(stream=None, show_function_output=False, keep=keep)

    def quiet_for(self) -> float:
        with self.lock:
            return time.monotonic() - self.last


@pytest.fixture(scope="module")
def tally():
    return Tally()


@pytest.fixture(scope="module")
def chaos():
    # NO_LOSS_CHAOS=0: the same run without chaos (to compare timings)
    return chaos_settings() if os.environ.get("NO_LOSS_CHAOS", "1") != "0" else None


@pytest.fixture(scope="module")
def chaotic(five_services, chaos, tally):
    """The five services on a moto server of their own, with chaos on."""
    local = five_services(tally.log(), ttl_interval=1.0, chaos=chaos)
    with local:
        # The faults queue retries a failed batch after its visibility timeout: 180 s
        # (six times the function's timeout, as AWS advises). Compressed here like
        # stream-local compresses stream retries; the receive count (redrive after 5) is
        # the same.
        sqs = local.cloud.client("sqs")
        url = sqs.get_queue_url(QueueName=FAULT_QUEUE)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "3"})
        yield local


# ---- the client side ----------------------------------------------------------------------


class Client:
    """rest-bff's API over HTTP, retrying 5xx answers (and counting them)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.lock = threading.Lock()
        self.answers: Counter[int] = Counter()
        self.retries = 0

    def call(self, method: str, path: str, body: Any = None, attempts: int = 10) -> Any:
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(attempts):
            request = urllib.request.Request(
                self.url + path,
                data=data,
                method=method,
                headers={"content-type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    status, text = response.status, response.read()
            except urllib.error.HTTPError as err:
                status, text = err.code, err.read()
            with self.lock:
                self.answers[status] += 1
                if status >= 500 and attempt < attempts - 1:
                    self.retries += 1
            if status < 500:
                return status, json.loads(text) if text else None
            time.sleep(0.05 * (attempt + 1))
        raise AssertionError(f"{method} {path}: still HTTP {status} after {attempts} attempts")


def new_order(n: int) -> dict[str, Any]:
    return {
        "customer": f"c-{n % 97}",
        "items": [{"sku": f"SKU-{n % 13}", "quantity": 1 + n % 3, "price": 9.99}],
    }


def payment(order_id: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": "payment-authorized",
        "timestamp": int(time.time() * 1000),
        "partition_key": order_id,
        "tags": {"source": "payments"},
        "order": {"id": order_id},
        "payment": {"id": f"p-{order_id}", "amount": 9.99},
    }


def put_events(local: Any, events: list[dict[str, Any]]) -> int:
    """PutEvents in tens, failed entries sent again; returns the requests made."""
    client = local.cloud.client("events")
    requests = 0
    pending = list(events)
    while pending:
        batch, pending = pending[:10], pending[10:]
        requests += 1
        response = client.put_events(
            Entries=[
                {
                    "EventBusName": BUS,
                    "Source": "payments",
                    "DetailType": event["type"],
                    "Detail": json.dumps(event),
                }
                for event in batch
            ]
        )
        pending += [e for e, r in zip(batch, response["Entries"], strict=True) if "ErrorCode" in r]
    return requests


# ---- reading the system's state ---------------------------------------------------------


def scan(local: Any, table: str, **kwargs: Any) -> list[dict[str, Any]]:
    from boto3.dynamodb.types import TypeDeserializer

    plain = TypeDeserializer()
    pages = local.cloud.client("dynamodb").get_paginator("scan").paginate(TableName=table, **kwargs)
    return [
        {k: plain.deserialize(v) for k, v in item.items()}
        for page in pages
        for item in page.get("Items", [])
    ]


def statuses(local: Any) -> dict[str, str]:
    """``{order id: status}`` of every order in rest-bff's table."""
    items = scan(
        local,
        ORDERS_TABLE,
        ProjectionExpression="id, #s",
        ExpressionAttributeNames={"#s": "status"},
    )
    return {item["id"]: item["status"] for item in items}


def decisions(local: Any) -> dict[str, list[str]]:
    """``{order id: [outcome, ...]}`` of control's decision items."""
    items = scan(
        local,
        EVENTS_TABLE,
        FilterExpression="sk = :d",
        ExpressionAttributeValues={":d": {"S": "DECISION"}},
    )
    found: dict[str, list[str]] = defaultdict(list)
    for item in items:
        found[item["pk"]].append(item["outcome"])
    return found


def lake_events(local: Any) -> list[dict[str, Any]]:
    s3 = local.cloud.client("s3")
    outputs = local.cloud.client("cloudformation").describe_stacks(
        StackName=f"event-lake-s3-{STAGE}"
    )["Stacks"][0]["Outputs"]
    bucket = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "LakeBucketName")
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="events/"):
        for listed in page.get("Contents", ()):
            body = s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read()
            text = gzip.decompress(body) if listed["Key"].endswith(".gz") else body
            found += [json.loads(line) for line in text.decode().splitlines() if line]
    return found


def queue_depth(local: Any, name: str) -> int:
    sqs = local.cloud.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def settle(local: Any, tally: Tally, quiet: float = 4.0, timeout: float = 300.0) -> None:
    """Wait until no function was invoked for ``quiet`` seconds and the rule taps and the
    faults queue are empty: everything in flight has arrived."""
    taps = [r["tap_queue_url"] for r in local.registry.rules() if r.get("tap_queue_url")]
    sqs = local.cloud.client("sqs")

    def empty(url: str) -> bool:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        return not any(int(v) for v in attributes.values())

    def settled() -> bool:
        return (
            tally.quiet_for() >= quiet
            and all(empty(url) for url in taps)
            and queue_depth(local, FAULT_QUEUE) == 0
        )

    assert local.wait_for(settled, timeout=timeout), "the system did not settle"


def wait_statuses(local: Any, want: Any, timeout: float, meanwhile: Any = None) -> dict[str, str]:
    """Poll the orders table until ``want(statuses)`` holds, calling ``meanwhile()`` before
    each look; the last statuses."""
    last: dict[str, str] = {}

    def done() -> bool:
        if meanwhile is not None:
            meanwhile()
        last.clear()
        last.update(statuses(local))
        return bool(want(last))

    from stream_local.runtime import wait_for

    # a scan of the whole table each time: moto takes about 0.4 s for 1,000 orders, and
    # DynamoDB serves nothing else meanwhile
    wait_for(done, timeout=timeout, interval=5.0)
    return last


class Progress:
    """A line every ``every`` seconds while the test runs (printed at the end, also when it
    fails): the orders by status, the invocations so far and the events waiting in taps."""

    def __init__(self, local: Any, tally: Tally, every: float = 15.0) -> None:
        self.local, self.tally, self.every = local, tally, every
        self.lines: list[str] = []
        self.started = time.monotonic()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.wait(self.every):
            try:
                self.note()
            except Exception as err:  # a snapshot must never fail the test
                self.lines.append(f"(snapshot failed: {err})")

    def note(self, what: str = "") -> None:
        by_status = Counter(statuses(self.local).values())
        with self.tally.lock:
            calls = {f.replace(f"-{STAGE}-", "/"): n for f, n in self.tally.invocations.items()}
        sqs = self.local.cloud.client("sqs")
        waiting = 0
        for rule in self.local.registry.rules():
            if rule.get("tap_queue_url"):
                attributes = sqs.get_queue_attributes(
                    QueueUrl=rule["tap_queue_url"],
                    AttributeNames=["ApproximateNumberOfMessages"],
                )["Attributes"]
                waiting += int(attributes["ApproximateNumberOfMessages"])
        self.lines.append(
            f"{time.monotonic() - self.started:6.1f} s {what:10} {dict(by_status)} "
            f"invocations {calls} tapped {waiting}"
        )

    def stop(self) -> str:
        self.stopping.set()
        self.thread.join(30)
        return "\n".join(self.lines)


class FaultDesk:
    """What an operator does with event-fault-monitor: list the open faults and resubmit
    each to the function that failed (``event_fault_monitor.faults.resubmit``: boto3's
    ``Invoke``, sent by ``AWS_ENDPOINT_URL_LAMBDA`` to stream-local's Invoke API, as the
    command does). Chaos is still on, so a resubmission can fail again; the fault then
    stays open (or is re-opened) and is tried again later."""

    def __init__(self, local: Any, boto3_at: Any) -> None:
        from event_fault_monitor.store import FaultStore

        boto3_at(local)  # the store's connectors and resubmit's Invoke: this system
        outputs = local.cloud.client("cloudformation").describe_stacks(
            StackName=f"event-fault-monitor-{STAGE}"
        )["Stacks"][0]["Outputs"]
        names = {o["OutputKey"]: o["OutputValue"] for o in outputs}
        self.store = FaultStore(names["FaultsTableName"], names["FaultsBucketName"])
        self.resubmitted: set[str] = set()
        self.attempts = 0
        self.outcomes: list[str] = []

    def faults(self) -> list[dict[str, Any]]:
        return list(self.store.list())

    def work(self) -> int:
        """Resubmit every open fault once; how many were open."""
        from event_fault_monitor.faults import resubmit

        open_faults = [f for f in self.faults() if f.get("status") != "resubmitted"]
        for item in open_faults:
            self.attempts += 1
            ok, message = resubmit(self.store, item["pk"])  # boto3 -> the Invoke API
            self.outcomes.append(message)
            if ok:
                self.resubmitted.add(item["pk"])
        return len(open_faults)


# ---- the test -----------------------------------------------------------------------------


def test_no_order_is_lost_or_decided_twice_under_chaos(chaotic, chaos, tally, boto3_at, capsys):
    progress = Progress(chaotic, tally)
    try:
        report = check_no_loss(chaotic, chaos, tally, boto3_at, progress)
        with capsys.disabled():  # the counts, in `make test`'s output too
            print("\n" + summary(report))
    finally:
        print("\nprogress (orders by status, invocations, events waiting in rule taps):")
        print(progress.stop())
        if os.environ.get("NO_LOSS_TRACE"):  # every invocation, for a look at the timeline
            with open(os.environ["NO_LOSS_TRACE"], "w") as trace:
                for d in list(chaotic.log.deliveries):
                    took = d.invocation.duration if d.invocation else 0
                    trace.write(
                        f"{d.at:.3f} {took:.3f} {d.source} {d.function} {d.records} {d.ok}\n"
                    )


def check_no_loss(local: Any, chaos: Any, tally: Tally, boto3_at: Any, progress: Progress):
    rng = random.Random(SEED)
    client = Client(local.runtime.rest.url)
    desk = FaultDesk(local, boto3_at)
    timings: dict[str, float] = {}
    started = time.monotonic()

    # 1. the orders, through the API
    with ThreadPoolExecutor(CLIENTS) as pool:
        created = list(
            pool.map(lambda n: client.call("POST", "/orders", new_order(n)), range(ORDERS))
        )
    assert all(status == 201 for status, _ in created), Counter(s for s, _ in created)
    ids = [body["id"] for _, body in created]
    assert len(set(ids)) == ORDERS
    timings["create"] = time.monotonic() - started
    progress.note("created")

    # 2. pay a random half; they become READY (faults resubmitted meanwhile, as an operator
    # would: a payment stuck in a fault must be in before the deadline passes)
    mark = time.monotonic()
    paid = set(rng.sample(ids, ORDERS // 2))
    put_events(local, [payment(order_id) for order_id in sorted(paid)])
    seen = wait_statuses(
        local,
        lambda s: all(s.get(i) == "READY" for i in paid),
        timeout=120 + ORDERS * 0.3,
        meanwhile=desk.work,
    )
    not_ready = sorted(i for i in paid if seen.get(i) != "READY")
    assert not not_ready, (
        f"{len(not_ready)} paid orders not READY: {not_ready[:5]} {Counter(seen.values())}"
    )
    timings["pay"] = time.monotonic() - mark
    progress.note("paid")

    # 3. the payment deadline passes: every unpaid order (ghosts included) times out
    mark = time.monotonic()
    local.clock.advance(PAYMENT_TIMEOUT_SECONDS + 60)
    seen = wait_statuses(
        local,
        lambda s: set(s.values()) <= FINAL,
        timeout=120 + ORDERS * 0.3,
        meanwhile=desk.work,
    )
    assert set(seen.values()) <= FINAL, Counter(seen.values())
    late = rng.sample(sorted(set(ids) - paid), max(1, ORDERS // 100))
    put_events(local, [payment(order_id) for order_id in late])
    settle(local, tally)
    timings["time out"] = time.monotonic() - mark
    progress.note("timed out")

    # 4. the faults left: resubmitted until none is open and nothing moves any more
    mark = time.monotonic()
    for _round in range(10):
        if not desk.work():
            break
        settle(local, tally)
    faults = desk.faults()
    not_injected = [f for f in faults if "stream-local chaos" not in str(f.get("err_message"))]
    still_open = [f["pk"] for f in faults if f.get("status") != "resubmitted"]
    timings["faults"] = time.monotonic() - mark
    progress.note("faults")

    # the end state
    final = statuses(local)
    ghosts = sorted(set(final) - set(ids))
    decided = decisions(local)
    local.runtime.firehose.flush()
    lake = lake_events(local)
    final_ids: dict[str, set[str]] = defaultdict(set)
    final_types: dict[str, set[str]] = defaultdict(set)
    copies: Counter[str] = Counter()
    submitted: set[str] = set()
    for event in lake:
        order_id = (event.get("order") or {}).get("id") or event.get("partition_key")
        if event.get("type") in FINAL_EVENTS:
            final_ids[order_id].add(event["id"])
            final_types[order_id].add(event["type"])
            copies[event["id"]] += 1
        elif event.get("type") == "order-submitted":
            submitted.add(order_id)
    dlqs = {name: queue_depth(local, name) for name in DLQS}
    pollers = [p for p in local.runtime.pollers if hasattr(p, "stats")]
    batch_retries = sum(getattr(p.stats, "retries", 0) for p in pollers)
    discarded = sum(getattr(p.stats, "discarded", 0) for p in pollers)
    injected = chaos.counts() if chaos is not None else Counter()
    timings["total"] = time.monotonic() - started

    report = {
        "orders": {
            "created through the API": ORDERS,
            "ghosts (created by a request the client saw fail)": len(ghosts),
            "in the table": len(final),
            "paid": len(paid),
            "late payments (after the timeout)": len(late),
        },
        "final states": dict(Counter(final.values())),
        "injected": {**injected, "seed": chaos.seed if chaos is not None else None},
        "retries": {
            "API requests retried by the client (5xx)": client.retries,
            "HTTP answers": dict(sorted(client.answers.items())),
            "failed invocations (retried by the event source)": sum(tally.errors.values()),
            "failed invocations by error": dict(tally.error_types),
            "partial batch responses (records handed back)": (
                f"{sum(tally.partial.values())} ({sum(tally.handed_back.values())})"
            ),
            "stream batch retries": batch_retries,
            "stream records given up": discarded,
        },
        "duplicates": {
            "deliveries repeated by chaos": injected["duplicate_deliveries"],
            "records in them": injected["duplicate_records"],
            "final events in the lake / distinct": f"{sum(copies.values())} / {len(copies)}",
        },
        "faults": {
            "stored": len(faults),
            "not from chaos": len(not_injected),
            "resubmitted": len(desk.resubmitted),
            "resubmissions (failed ones included)": desk.attempts,
            "still open": len(still_open),
            "by function and pipeline": dict(
                Counter(f"{f.get('functionname')}/{f.get('pipeline')}" for f in faults)
            ),
            "occurrences": sum(int(f.get("occurrences", 1)) for f in faults),
        },
        "dead-letter queues": dlqs,
        "invocations": dict(sorted(tally.invocations.items())),
        "seconds": {k: round(v, 1) for k, v in timings.items()},
    }
    print("\nno-loss run under chaos:\n" + json.dumps(report, indent=2, default=str))

    # every order is in a final state: paid ones READY, the others PAYMENT_TIMEOUT
    assert set(ids) <= set(final)
    wrong = {i: s for i, s in final.items() if s != ("READY" if i in paid else "PAYMENT_TIMEOUT")}
    assert not wrong, f"{len(wrong)} orders in the wrong state: {list(wrong.items())[:5]}"
    # exactly one decision per order, the same as the view
    assert set(decided) == set(final), set(final) ^ set(decided)
    twice = {i: d for i, d in decided.items() if len(d) != 1}
    assert not twice, twice
    assert all(FINAL_EVENTS[d[0]] == final[i] for i, d in decided.items())
    # the lake: every order submitted, and exactly one final event per order (by id)
    assert set(final) <= submitted, sorted(set(final) - submitted)[:5]
    assert set(final_ids) == set(final), sorted(set(final) ^ set(final_ids))[:5]
    once = {i: sorted(e) for i, e in final_ids.items() if len(e) != 1}
    assert not once, f"orders with more than one final event: {list(once.items())[:5]}"
    assert all(FINAL_EVENTS[t] == final[i] for i, ts in final_types.items() for t in ts)
    # nothing given up: every failure was retried to success or is a fault
    assert discarded == 0 and not any(dlqs.values()), (discarded, dlqs)
    assert not not_injected, [f.get("err_message") for f in not_injected]
    assert not still_open, desk.outcomes[-10:]
    # chaos did happen
    assert chaos is None or (
        injected["handler_errors"]
        and injected["throttles"]
        and injected["partial_entries"]
        and injected["duplicate_records"]
    )
    return report


def summary(report: dict[str, Any]) -> str:
    """The counts of a run in a few lines."""
    orders, injected, retries = report["orders"], report["injected"], report["retries"]
    faults, duplicates = report["faults"], report["duplicates"]
    states = ", ".join(f"{n} {state}" for state, n in sorted(report["final states"].items()))
    dlqs = sum(report["dead-letter queues"].values())
    seconds = ", ".join(f"{k} {v:.0f}" for k, v in report["seconds"].items())
    return "\n".join(
        [
            f"no-loss under chaos (seed {injected['seed']}): {orders['created through the API']}"
            f" orders + {orders['ghosts (created by a request the client saw fail)']} ghosts"
            f" -> {states}, one decision and one final event id each",
            f"  injected: {injected.get('handler_errors', 0)} handler errors"
            f" ({injected.get('handler_errors_before', 0)} before,"
            f" {injected.get('handler_errors_after', 0)} after the handler ran),"
            f" {injected.get('throttles', 0)} throttled calls"
            f" ({injected.get('throttle_bursts', 0)} bursts),"
            f" {injected.get('aws_errors', 0)} denied calls,"
            f" {injected.get('partial_failures', 0)} partial batch failures"
            f" ({injected.get('partial_entries', 0)} entries),"
            f" {injected.get('duplicate_deliveries', 0)} duplicate deliveries"
            f" ({injected.get('duplicate_records', 0)} records)",
            f"  retried:  {retries['API requests retried by the client (5xx)']} API requests"
            f" (5xx), {retries['failed invocations (retried by the event source)']} failed"
            f" invocations, {retries['partial batch responses (records handed back)']}"
            f" partial batch responses (records); stream records given up:"
            f" {retries['stream records given up']}; DLQ messages: {dlqs}",
            f"  faults:   {faults['stored']} stored ({faults['not from chaos']} not from chaos),"
            f" {faults['resubmitted']} resubmitted"
            f" ({faults['resubmissions (failed ones included)']} attempts),"
            f" {faults['still open']} open",
            f"  lake:     {duplicates['final events in the lake / distinct']} final events"
            " (copies / distinct ids)",
            f"  seconds:  {seconds}",
        ]
    )
