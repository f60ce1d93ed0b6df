"""The reference scenario, played on the whole local system and told step by step.

    make demo                                   # bootstraps, then: stream-local demo
    .venv/bin/stream-local demo --rest-port 0   # the same, once bootstrapped

``stream-local demo`` packages the five services with serverless, deploys them on a local
moto server, calls ``run(local)`` with the started ``stream_local.LocalSystem`` and stops
everything afterwards. The scenario (services/tests/integration/test_scenario.py asserts
the same end states):

1. two orders are POSTed to rest-bff's REST API (served on localhost);
2. a payments service authorizes order A: control emits ``order-ready``, A turns READY;
3. the lake (event-lake-s3) holds both orders' events, gzipped in S3;
4. B is never paid: the clock moves past control's payment timeout, TTL removes B's
   submission, control emits ``order-payment-timeout``, B turns PAYMENT_TIMEOUT;
5. a poison event (a late, claim-checked payment for B whose stored body is missing) makes
   control's listener fail: event-fault-monitor stores the fault; once the body is written
   (the fix), ``event_fault_monitor.faults`` resubmits it and the listener succeeds.

Under each step, "what happened" is stream-local's live log for that step: one line per
delivery, ``source → target  [records | event type]  result``.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

SERVICES = Path(__file__).resolve().parent
STEP_TIMEOUT = 30.0  # seconds; each step takes about 2 to 8 s
ORDER = {"customer": "c-1", "items": [{"sku": "A-1", "quantity": 2, "price": 9.99}]}
BOLD, RESET = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")


def run(local: Any) -> int:
    started = time.monotonic()
    demo = Demo(local)
    demo.intro()
    a, b = demo.post_orders()
    demo.pay(a)
    demo.lake([a, b])
    demo.time_out(b)
    demo.poison(b)
    ok = demo.summary([a, b])
    print(f"\nplayed in {time.monotonic() - started:.0f} s; stopping moto and the runtime")
    return 0 if ok else 1


class Demo:
    def __init__(self, local: Any) -> None:
        self.local = local
        self.url = local.runtime.rest.url
        self.names: dict[str, str] = {}  # order id -> "A" / "B"
        self.checks: list[tuple[str, bool]] = []
        # the live log goes quiet: each step prints its own part of it
        local.log.stream = None
        local.log.color = False
        self.seen = len(local.log.lines)
        if local.runtime.lambda_api is None:
            raise SystemExit(
                "the demo resubmits through Lambda's API: RuntimeOptions(lambda_port=0)"
            )
        # the services' commands (event_fault_monitor.faults ...) in this process: on moto,
        # and Lambda's Invoke API on the runtime's endpoint (moto runs functions in Docker only)
        for src in sorted(SERVICES.glob("*/src")):
            sys.path.append(str(src))
        os.environ.update(
            AWS_ENDPOINT_URL=local.cloud.endpoint,
            AWS_ENDPOINT_URL_LAMBDA=local.runtime.lambda_api.url,
            AWS_ACCESS_KEY_ID="demo",
            AWS_SECRET_ACCESS_KEY="demo",
            AWS_REGION=local.cloud.region,
            AWS_DEFAULT_REGION=local.cloud.region,
        )
        os.environ.pop("AWS_PROFILE", None)

    # ---- the steps --------------------------------------------------------------------

    def intro(self) -> None:
        timeout = self.payment_timeout()
        print(
            f"\n{BOLD}stream-core demo: the five reference services on a local moto server{RESET}"
        )
        print(f"  moto      {self.local.cloud.endpoint}")
        print(f"  REST API  {self.url}  (rest-bff, /orders)")
        print(f"  Lambda    {self.local.runtime.lambda_api.url}  (Invoke: AWS_ENDPOINT_URL_LAMBDA)")
        print(f"  bus       {self.local.bus()}  → stream event-hub-local-stream, the lake, faults")
        print(f"  control   pays-or-times-out each order; payment timeout {timeout} s")

    def post_orders(self) -> tuple[str, str]:
        self.step(1, "POST two orders to rest-bff's REST API")
        ids = []
        for name in "AB":
            code, body = self.api("POST", "/orders", ORDER)
            self.names[body["id"]] = name
            ids.append(body["id"])
            print(f"  POST /orders {json.dumps(ORDER)}")
            print(f"    → {code} order {name} = {body['id']}  status {body['status']}")
        dynamodb = self.local.cloud.client("dynamodb")

        def correlated() -> bool:  # control collected both submissions, and correlated them
            items = dynamodb.scan(TableName="control-local-events", ConsistentRead=True)["Items"]
            return {i["pk"]["S"] for i in items} >= {f"{i}.payment" for i in ids}

        self.wait("both submissions collected and correlated by control", correlated)
        self.happened()
        return ids[0], ids[1]

    def pay(self, a: str) -> None:
        self.step(2, "order A is paid: a payments service puts payment-authorized on the bus")
        event = payment(a)
        self.local.send(event)
        print(f"  sent {short(event)}")
        sent, ready = time.monotonic(), []

        def is_ready() -> bool:
            if self.status(a) == "READY":
                ready.append(time.monotonic())
            return bool(ready)

        self.wait("A is READY", is_ready)
        took = (ready or [time.monotonic()])[0] - sent
        self.happened()
        print(f"  GET /orders/{a[:8]}… → status {self.status(a)} ({took:.1f} s after the payment)")

    def lake(self, ids: list[str]) -> None:
        self.step(3, "the lake: every event in S3 (event-lake-s3's Firehose)")
        wanted = {ids[0]: {"order-submitted", "payment-authorized", "order-ready"}}
        wanted[ids[1]] = {"order-submitted"}
        print("  (Firehose buffers for up to 300 s; the demo flushes its buffers now)")

        def complete() -> bool:
            self.local.runtime.firehose.flush()
            found = self.lake_events(ids)
            return all(
                wanted[i] <= {e["type"] for _k, e in found if e["partition_key"] == i} for i in ids
            )

        self.wait("both orders' events in the lake", complete)
        self.happened()
        bucket = self.outputs("event-lake-s3-local")["LakeBucketName"]
        by_prefix: dict[str, tuple[set[str], list[str]]] = {}
        for key, event in self.lake_events(ids):
            prefix, name = key.rsplit("/", 1)
            objects, events = by_prefix.setdefault(prefix, (set(), []))
            objects.add(name)
            events.append(f"{event['type']}({self.names[event['partition_key']]})")
        print(f"  s3://{bucket}/  (gzipped JSON lines, by arrival date and type)")
        for prefix, (objects, events) in sorted(by_prefix.items()):
            print(f"    {prefix}/  {len(objects)} object(s): {', '.join(sorted(events))}")

    def time_out(self, b: str) -> None:
        timeout = self.payment_timeout()
        self.step(4, f"order B is never paid: the clock moves {timeout + 60} s ahead")
        print(
            f"  control stored B's submission with a TTL of {timeout} s "
            "(PAYMENT_TIMEOUT_SECONDS); stream-local runs DynamoDB TTL on its own clock"
        )
        self.local.clock.advance(timeout + 60)
        self.wait("B is PAYMENT_TIMEOUT", lambda: self.status(b) == "PAYMENT_TIMEOUT")
        self.happened()
        print(f"  GET /orders/{b[:8]}… → status {self.status(b)}")

    def poison(self, b: str) -> None:
        from event_fault_monitor.faults import main
        from event_fault_monitor.store import FaultStore

        self.step(5, "a poison event: a late payment for B, claim-checked, its body missing")
        print(
            "  The payments service authorizes B after all. The payment carries a large\n"
            "  receipt, so it is claim-checked: the event goes to the service's S3 bucket, a\n"
            "  stub {id, type, ..., s3: {bucket, key}} goes on the bus. But its S3 write has\n"
            "  not landed, so control's listener cannot read the event: the record becomes a\n"
            "  fault (retrying at once cannot help)."
        )
        s3 = self.local.cloud.client("s3")
        claims = "payments-local-claims"
        s3.create_bucket(Bucket=claims)
        late = payment(b, receipt={"pdf": "JVBERi0xLjQK" * 1000})
        key = time.strftime("claims/%Y/%m/%d/", time.gmtime()) + f"{late['id']}.json"
        stub = {name: late[name] for name in ("id", "type", "timestamp", "partition_key", "tags")}
        stub["s3"] = {"bucket": claims, "key": key}
        self.local.send(stub)
        print(f"  sent {short(stub)}")

        monitor = self.outputs("event-fault-monitor-local")
        store = FaultStore(monitor["FaultsTableName"], monitor["FaultsBucketName"])

        def stored() -> Any:
            for item in store.list(function="control-local-listener"):
                if key in str(item.get("err_message")):
                    return item
            return None

        item = self.wait("the fault stored by event-fault-monitor", stored)
        self.happened()
        if not item:
            return
        print(
            f"  stored: s3://{monitor['FaultsBucketName']}/{item['s3_key']} (the whole fault,"
            " raw Kinesis record included)"
        )
        print(f"          {monitor['FaultsTableName']}[{item['pk']}] status {item['status']}")
        out = io.StringIO()
        main(["--stage", "local", "list", "--function", "control-local-listener"], out=out)
        print(
            "  $ python -m event_fault_monitor.faults --stage local list "
            "--function control-local-listener"
        )
        for line in out.getvalue().splitlines():
            print(f"    {line[:150]}")

        print(f"  the fix: the payments service's write lands: s3://{claims}/{key}")
        s3.put_object(Bucket=claims, Key=key, Body=json.dumps(late).encode())
        print(f"  $ python -m event_fault_monitor.faults --stage local resubmit {item['pk']}")
        out = io.StringIO()
        code = main(["--stage", "local", "resubmit", item["pk"]], out=out)
        for line in out.getvalue().splitlines():
            print(f"    {line}")
        self.check("resubmission succeeded", code == 0)
        self.settle()
        self.happened()
        after = store.get(item["pk"], consistent=True) or {}
        self.check("fault marked resubmitted", after.get("status") == "resubmitted")
        dynamodb = self.local.cloud.client("dynamodb")
        collected = dynamodb.get_item(
            TableName="control-local-events",
            Key={"pk": {"S": late["id"]}, "sk": {"S": "EVENT"}},
            ConsistentRead=True,
        ).get("Item")
        self.check("the late payment collected by control", bool(collected))
        print(
            f"  fault {item['pk']}: {after.get('status')}; control collected the late payment;"
            f" B stays {self.status(b)} (one decision per order)"
        )

    def summary(self, ids: list[str]) -> bool:
        print(f"\n{BOLD}Final state{RESET}")
        for order_id in ids:
            _code, body = self.api("GET", f"/orders/{order_id}")
            print(
                f"  order {self.names[order_id]} {order_id}  {body['status']:<16} "
                f"version {body['version']}  total {body['total']}"
            )
        monitor = self.outputs("event-fault-monitor-local")
        from event_fault_monitor.store import FaultStore

        faults = list(FaultStore(monitor["FaultsTableName"], monitor["FaultsBucketName"]).list())
        states = Counter(str(f.get("status")) for f in faults)
        print(
            f"  faults    {len(faults)} stored: "
            + ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
        )
        self.local.runtime.firehose.flush()
        everything = self.lake_events(None)
        kinds = Counter(e["type"] for _k, e in everything)
        print(
            f"  lake      {len(everything)} events: "
            + ", ".join(f"{n} {t}" for t, n in sorted(kinds.items()))
        )
        self.check("A is READY", self.status(ids[0]) == "READY")
        self.check("B is PAYMENT_TIMEOUT", self.status(ids[1]) == "PAYMENT_TIMEOUT")
        failed = [name for name, ok in self.checks if not ok]
        print("  checks    " + ("all passed" if not failed else "FAILED: " + ", ".join(failed)))
        return not failed

    # ---- helpers ----------------------------------------------------------------------

    def step(self, number: int, title: str) -> None:
        print(f"\n{BOLD}{number}. {title}{RESET}")
        self.seen = len(self.local.log.lines)

    def wait(self, what: str, predicate: Any) -> Any:
        from stream_local.runtime import wait_for

        value = wait_for(predicate, STEP_TIMEOUT, interval=0.2)
        self.check(what, bool(value))
        if not value:
            print(f"  !! not within {STEP_TIMEOUT:.0f} s: {what}")
        self.settle()
        return value

    def settle(self, quiet: float = 1.5, limit: float = 6.0) -> None:
        """Until the live log has been quiet for ``quiet`` seconds: the step's last
        deliveries (a trigger skipping a latched write ...) belong to it."""
        deadline = time.monotonic() + limit
        count = len(self.local.log.lines)
        calm_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = len(self.local.log.lines)
            if now != count:
                count, calm_since = now, time.monotonic()
            elif time.monotonic() - calm_since >= quiet:
                return

    def happened(self) -> None:
        """The live log since the step began, shortened, identical lines counted."""
        lines = list(self.local.log.lines)[self.seen :]
        self.seen += len(lines)
        # not the function's own output ([name] ...), nor the demo's own GETs (polling)
        counted = Counter(tidy(line) for line in lines if not line.startswith(("[", "http:GET")))
        counted.pop("", None)
        if counted:
            print("  what happened (stream-local's live log):")
        for line, count in counted.items():
            print(f"    {line}" + (f"  (x{count})" if count > 1 else ""))

    def check(self, what: str, ok: bool) -> None:
        self.checks.append((what, ok))

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"content-type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def status(self, order_id: str) -> str:
        code, body = self.api("GET", f"/orders/{order_id}")
        return body["status"] if code == 200 else f"HTTP {code}"

    def outputs(self, stack: str) -> dict[str, str]:
        cloudformation = self.local.cloud.client("cloudformation")
        found = cloudformation.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", ())
        return {o["OutputKey"]: o["OutputValue"] for o in found}

    def payment_timeout(self) -> int:
        environment = self.local.registry.function("control-local-listener").environment
        return int(environment["PAYMENT_TIMEOUT_SECONDS"])

    def lake_events(self, ids: list[str] | None) -> list[tuple[str, dict[str, Any]]]:
        """``(object key, event)`` of the lake, of the orders ``ids`` (None: all)."""
        s3 = self.local.cloud.client("s3")
        bucket = self.outputs("event-lake-s3-local")["LakeBucketName"]
        found = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="events/"):
            for listed in page.get("Contents", ()):
                body = s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read()
                for line in gzip.decompress(body).decode().splitlines():
                    event = json.loads(line)
                    if ids is None or event.get("partition_key") in ids:
                        found.append((listed["Key"], event))
        return found


def payment(order_id: str, **extra: Any) -> dict[str, Any]:
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


def short(event: dict[str, Any]) -> str:
    """An event as one line, long ids and values cut."""
    shown = {k: v for k, v in event.items() if k not in ("receipt", "timestamp")}
    text = json.dumps(shown, separators=(",", ":"))
    text = re.sub(r"([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", r"\1…", text)
    return text if len(text) <= 170 else text[:169] + "…"


_SHARD = re.compile(r"/shardId-[0-9a-zA-Z-]+")
_TIMING = re.compile(r"\s+\d+ ms( \(cold start\))?$")
_UUID = re.compile(r"([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def tidy(line: str) -> str:
    """A live log line without shard ids, durations and full uuids."""
    line = _TIMING.sub("", _SHARD.sub("", line)).replace("  event  ", "  ")
    line = re.sub(r"s3://(\S+?)/(\S+)", lambda m: f"s3://{m[1][:40]}/…", line)
    return _UUID.sub(r"\1…", line)[:160]
