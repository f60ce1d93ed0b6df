"""stream-core demo: rules over Kinesis, SQS and DynamoDB Streams batches, on a local moto.

    make demo                              # or: .venv/bin/python examples/demo.py
    .venv/bin/python examples/demo.py -v   # also show stream-core's own log lines

What it does (a few seconds, no AWS account, no Docker):

1. starts a real ``moto_server`` process on a free loopback port and points boto3 at it
   (``AWS_ENDPOINT_URL``, dummy credentials); the server is stopped at the end, also on
   Ctrl-C, SIGTERM or an error;
2. creates the EventBridge bus ``demo-bus`` and a ``BusCapture`` (a rule that copies every
   event of the bus to an SQS queue, so published events can be read back);
3. runs three Lambda handlers built with ``stream_handler(rules, from_<source>, options)``
   over sample batches, and prints for each: the records, what each rule did, the faults
   and the partial batch response the handler returns to Lambda;
4. reads every event back from the bus (domain events and ``fault`` events), prints them
   grouped by type, a summary, and a few self-checks (exit code 1 if one fails).

See examples/README.md for how to read the output.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from stream_core.batch import item_identifier
from stream_core.errors import RetryableError
from stream_core.events.dynamodb import from_dynamodb, to_dynamodb_records
from stream_core.events.kinesis import from_kinesis, to_kinesis_records
from stream_core.events.sqs import from_sqs, to_sqs_records
from stream_core.filters.content import compile_filters
from stream_core.flavors.task import task
from stream_core.pipelines import BatchResult, stream_handler
from stream_core.testing import BusCapture
from stream_core.utils.opt import DEFAULT_OPTIONS

BUS_NAME = "demo-bus"
REGION = "us-east-1"
T0 = 1764057600000  # 2025-11-25T08:00:00Z, epoch ms: fixed so every run prints the same
WIDTH = 100


# ---------------------------------------------------------------------------------------
# The rules. Each step is one Lambda function: a trigger source and the rules it runs.


def check_thing(uow: Mapping[str, Any], rule: Mapping[str, Any]) -> dict[str, Any]:
    """validate-thing: a rule that cannot handle one (poison) event."""
    thing = uow["event"]["thing"]
    if "poison" in thing["name"].lower():
        raise ValueError(f"thing {thing['id']}: name {thing['name']!r} fails validation")
    return {"valid": True}


def assign_sku(uow: Mapping[str, Any], rule: Mapping[str, Any]) -> dict[str, Any]:
    return {"sku": f"SKU-{uow['event']['thing']['id'].upper()}"}


def thing_processed(uow: Mapping[str, Any], rule: Mapping[str, Any], template: dict) -> dict:
    thing = uow["event"]["thing"]
    return {**template, "type": "thing-processed", "thing": {"id": thing["id"], **uow["result"]}}


def thing_activated(uow: Mapping[str, Any], rule: Mapping[str, Any], template: dict) -> dict:
    thing = uow["event"]["thing"]
    return {**template, "type": "thing-activated", "thing": {"id": thing["id"]}}


KINESIS_RULES: list[dict[str, Any]] = [
    {
        "id": "process-thing",
        "flavor": task,
        "event_type": "thing-created",
        "execute": assign_sku,
        "emit": thing_processed,
    },
    {
        "id": "notify-active-thing",
        "flavor": task,
        "event_type": ["thing-created", "thing-updated"],
        "filters": [{"thing.status": "active"}],  # a dot-path dict filter
        "emit": thing_activated,
    },
    {
        "id": "validate-thing",
        "flavor": task,
        "event_type": ["thing-created", "thing-updated"],
        "execute": check_thing,
    },
]

#: Warehouses whose (pretend) API answers 429 right now: a transient failure.
THROTTLED_WAREHOUSES = {"wh-north"}


def reserve_slots(uow: Mapping[str, Any], rule: Mapping[str, Any]) -> dict[str, Any]:
    event = uow["event"]
    if event["warehouse"] in THROTTLED_WAREHOUSES:
        # Retryable: the record goes back to Lambda (batchItemFailures), not to the faults.
        raise RetryableError(f"warehouse {event['warehouse']} answered 429, try again later")
    return {"slots": len(event["things"])}


def things_imported(uow: Mapping[str, Any], rule: Mapping[str, Any], template: dict) -> list:
    event = uow["event"]
    return [
        {
            **template,
            "id": str(uuid.uuid4()),  # the template's id is shared by the whole list
            "type": "thing-imported",
            "partition_key": thing["id"],
            "thing": {"id": thing["id"], "warehouse": event["warehouse"]},
        }
        for thing in event["things"]
    ]


SQS_RULES: list[dict[str, Any]] = [
    {
        "id": "import-things",
        "flavor": task,
        "event_type": "things-received",
        "execute": reserve_slots,
        "emit": things_imported,  # returns a list: one event per thing
    },
]


def thing_change(uow: Mapping[str, Any], rule: Mapping[str, Any], template: dict) -> dict:
    """cdc: a table change (thing-created/-updated/-deleted) becomes a domain event."""
    event = uow["event"]
    image = event["raw"]["new"] or event["raw"]["old"]
    internal = ("pk", "sk", "discriminator", "timestamp")
    thing = {"id": image["pk"], **{k: v for k, v in image.items() if k not in internal}}
    return {**template, "type": event["type"], "thing": thing}


DYNAMODB_RULES: list[dict[str, Any]] = [
    {
        "id": "thing-cdc",
        "flavor": task,
        "event_type": ["thing-created", "thing-updated", "thing-deleted"],
        "emit": thing_change,
    },
]


# ---------------------------------------------------------------------------------------
# The sample batches (trigger events as Lambda delivers them).


def kinesis_batch() -> dict[str, Any]:
    def thing(n: int, event_type: str, thing_id: str, name: str, status: str) -> dict:
        return {
            "id": f"k{n}",
            "type": event_type,
            "timestamp": T0 + n,
            "partition_key": thing_id,
            "thing": {"id": thing_id, "name": name, "status": status},
        }

    event = to_kinesis_records(
        [
            thing(1, "thing-created", "t-1", "Anvil", "active"),
            thing(2, "thing-created", "t-2", "Bucket", "draft"),
            thing(3, "thing-updated", "t-2", "Bucket", "active"),
            thing(4, "thing-created", "t-3", "Poison pill", "draft"),
            thing(5, "thing-archived", "t-4", "Crate", "archived"),  # no rule listens
            {"type": "placeholder", "partition_key": "t-5"},  # replaced below
        ]
    )
    # A producer wrote half an event: valid base64, invalid JSON.
    truncated = b'{"id": "k6", "type": "thing-created", "thing": {"id": "t-5", "na'
    event["Records"][-1]["kinesis"]["data"] = base64.b64encode(truncated).decode("ascii")
    return event


def sqs_batch() -> dict[str, Any]:
    def received(n: int, warehouse: str, thing_ids: Sequence[str]) -> dict:
        return {
            "id": f"s{n}",
            "type": "things-received",
            "timestamp": T0 + 100 + n,
            "warehouse": warehouse,
            "things": [{"id": thing_id} for thing_id in thing_ids],
        }

    return to_sqs_records(
        [
            received(1, "wh-east", ["t-10", "t-11"]),
            received(2, "wh-north", ["t-12"]),  # that warehouse is throttling
            received(3, "wh-east", ["t-13", "t-14", "t-15"]),
        ],
        queue_arn=f"arn:aws:sqs:{REGION}:123456789012:demo-imports",
    )


def dynamodb_batch() -> dict[str, Any]:
    def item(pk: str, name: str, status: str, at: int) -> dict:
        return {
            "pk": pk,
            "sk": "thing",
            "discriminator": "thing",
            "name": name,
            "status": status,
            "timestamp": T0 + at,
        }

    audit = {
        "pk": "audit-1",
        "sk": "audit",
        "discriminator": "audit",
        "actor": "ops",
        "timestamp": T0 + 240,
    }
    return to_dynamodb_records(
        [
            {"newImage": item("t-7", "Drill", "draft", 200)},  # INSERT
            {
                "newImage": item("t-7", "Drill", "active", 210),  # MODIFY
                "oldImage": item("t-7", "Drill", "draft", 200),
            },
            {"oldImage": item("t-8", "Easel", "active", 220)},  # REMOVE
            {"newImage": audit},  # INSERT of another entity: no rule listens
        ],
        stream_arn=f"arn:aws:dynamodb:{REGION}:123456789012:table/things/stream/2025-11-25",
    )


# ---------------------------------------------------------------------------------------
# moto_server: a real process on a free loopback port, always stopped.


class MotoServer:
    """``python -m moto.server`` on 127.0.0.1:<free port>; a context manager."""

    def __init__(self, timeout: float = 20.0) -> None:
        self.timeout = timeout
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None
        self.started_in = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> MotoServer:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        fd, name = tempfile.mkstemp(prefix="moto-server-", suffix=".log")
        self.log_path = Path(name)
        start = time.monotonic()
        with os.fdopen(fd, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own session: Ctrl-C reaches only this script, which then stops the server.
                start_new_session=True,
            )
        try:
            self._wait_until_it_answers(start)
        except BaseException:
            self.__exit__()
            raise
        self.started_in = time.monotonic() - start
        return self

    def _wait_until_it_answers(self, start: float) -> None:
        assert self.process is not None
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"moto_server exited with code {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() - start > self.timeout:
                raise RuntimeError(
                    f"moto_server did not answer on {self.url} within {self.timeout:.0f} s:\n"
                    f"{self.log_tail()}"
                )
            time.sleep(0.05)

    def log_tail(self, lines: int = 15) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> int | None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s); its exit code."""
        process, self.process = self.process, None
        code = None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            code = process.returncode
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
            self.log_path = None
        return code

    def __exit__(self, *exc: object) -> None:
        pid = self.process.pid if self.process is not None else None
        with signals_deferred():  # a Ctrl-C now must not cut the shutdown short
            code = self.stop()
            if pid is not None:
                how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                say(f"moto_server stopped (pid {pid}, {how})")


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while the block runs, then act on them (main thread only)."""
    received: list[int] = []
    deferred = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda n, _f: received.append(n)) for sig in deferred}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if signal.SIGINT in received:
            raise KeyboardInterrupt
        if signal.SIGTERM in received:
            sys.exit(128 + signal.SIGTERM)


def point_boto3_at(server: MotoServer) -> None:
    """Environment for every boto3 client created from now on: moto, dummy credentials."""
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL_") or name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            del os.environ[name]
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": server.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            # Never read ~/.aws: the demo must not depend on (or reach) a real account.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "BUS_NAME": BUS_NAME,
            "SERVICE": "stream-core-demo",
            "STAGE": "local",
        }
    )


# ---------------------------------------------------------------------------------------
# Printing


def say(text: str = "") -> None:
    try:
        print(text, flush=True)
    except BrokenPipeError:  # `demo.py | head`: stop printing, still clean up
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise


def cut(value: Any, width: int) -> str:
    text = str(value)
    return text if len(text) <= width else text[: max(width - 2, 1)] + ".."


def table(
    headers: Sequence[str] | None,
    rows: Iterable[Sequence[Any]],
    indent: int = 2,
    widths: Mapping[int, int] | None = None,
) -> None:
    """Print aligned columns (``headers`` None: no header line); column ``i`` is cut to
    ``widths[i]`` characters if given."""
    widths = widths or {}
    cells = [[cut(c, widths.get(i, WIDTH)) for i, c in enumerate(row)] for row in rows]
    lines = cells if headers is None else [list(headers), *cells]
    sizes = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))] if lines else []
    pad = " " * indent
    for row in lines:
        say(pad + "  ".join(c.ljust(s) for c, s in zip(row, sizes, strict=True)).rstrip())


def short_id(value: Any) -> str:
    return cut(value, 8) if len(str(value)) <= 8 else str(value)[:8]


def record_ref(record: Mapping[str, Any]) -> str:
    """The id Lambda knows the record by (sequence number, message id), last 4 chars."""
    ident = item_identifier(record) or "?"
    return ".." + ident[-4:]


def compact(types: Sequence[str]) -> str:
    """``thing-{created,updated}`` for types sharing a prefix, else ``a,b``."""
    prefixes = {t.rpartition("-")[0] for t in types}
    if len(types) > 1 and len(prefixes) == 1 and "" not in prefixes:
        return f"{prefixes.pop()}-{{{','.join(t.rpartition('-')[2] for t in types)}}}"
    return ",".join(types)


def listens_to(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, (list, tuple, set, frozenset)):
        return compact(list(spec))
    return getattr(spec, "pattern", None) or getattr(spec, "__name__", "(callable)")


def brief(event: Mapping[str, Any]) -> str:
    """One line about an event's payload (never the whole JSON)."""
    if event.get("type") == "fault":
        err = event.get("err") or {}
        return f"{err.get('name')}: {err.get('message')}"
    parts = []
    thing = event.get("thing")
    if isinstance(thing, Mapping):
        parts.append(" ".join(str(v) for k, v in thing.items() if v is not None))
    for key in ("warehouse", "actor"):
        if key in event:
            parts.append(f"{key}={event[key]}")
    if "things" in event:
        parts.append("things=" + ",".join(t["id"] for t in event["things"]))
    raw = event.get("raw")
    if isinstance(raw, Mapping):
        image = raw.get("new") or raw.get("old") or {}
        fields = [f"{k}={v}" for k, v in image.items() if k in ("name", "status", "actor")]
        parts.append(" ".join(fields))
    return "  ".join(p for p in parts if p)


# ---------------------------------------------------------------------------------------
# Running a Lambda function and reporting what it did


class Function:
    """A Lambda handler from ``stream_handler`` and what its last invocation did: the UOWs
    its source decoded and the ``BatchResult`` handed to ``on_result``."""

    def __init__(
        self,
        name: str,
        rules: list[dict[str, Any]],
        from_source: Callable[[Any], list[dict[str, Any]]],
        options: Mapping[str, Any],
    ) -> None:
        self.name = name
        self.uows: list[dict[str, Any]] = []
        self.result = BatchResult()

        def decode(event: Any) -> list[dict[str, Any]]:
            self.uows = from_source(event)
            return self.uows

        def keep(result: BatchResult, _event: Any, _context: Any) -> None:
            self.result = result

        self.handler = stream_handler(rules, decode, options, on_result=keep)

    def invoke(self, event: Mapping[str, Any]) -> dict[str, Any]:
        os.environ["AWS_LAMBDA_FUNCTION_NAME"] = self.name  # stamped on events and faults
        context = SimpleNamespace(function_name=self.name, aws_request_id=f"req-{self.name}")
        return self.handler(event, context)


class Totals:
    def __init__(self) -> None:
        self.records: Counter[str] = Counter()
        self.rule_runs = 0
        self.unmatched = 0
        self.reported_faults = 0
        self.unpublished_faults = 0
        self.emitted = 0  # UOWs that rules with an `emit` passed on: their events were put
        self.handed_back: Counter[str] = Counter()
        self.checks: list[tuple[bool, str]] = []


def run_step(
    number: int,
    title: str,
    source: str,
    function: Function,
    event: dict[str, Any],
    capture: BusCapture,
    totals: Totals,
) -> None:
    say()
    say(f"== {number}. {title} ".ljust(WIDTH, "="))
    say(f"function {function.name!r} = stream_handler(rules, from_{source}, options)")
    seen = len(capture.envelopes())
    started = time.monotonic()
    response = function.invoke(event)
    took = time.monotonic() - started
    published = [envelope["detail"] for envelope in capture.envelopes()[seen:]]
    uows, result = function.uows, function.result
    records = event["Records"]
    by_record = {id(uow["record"]): uow for uow in uows}

    say(f"records in ({len(records)})")
    rows = []
    for n, record in enumerate(records, 1):
        uow = by_record.get(id(record), {})
        ev = uow.get("event")
        if ev is None:
            rows.append((n, record_ref(record), "(malformed)", "-", str(uow.get("malformed"))))
        else:
            key = ev.get("partition_key") or "-"
            rows.append((n, record_ref(record), ev["type"], key, brief(ev)))
    table(["#", "record", "type", "key", "payload"], rows, indent=4, widths={4: 58})

    say("rules")
    rows = []
    matched_any: set[int] = set()
    for pid, pipeline in function.handler.pipeline.pipelines.items():
        rule = pipeline.rule
        matched = [u for u in uows if u.get("event") is not None and pipeline.matcher(u)]
        matched_any.update(id(u) for u in matched)
        keep = compile_filters(rule)
        filtered = "-" if keep is None else len(matched) - sum(1 for u in matched if keep(u))
        faults = sum(1 for f in result.faults if f["tags"].get("pipeline") == pid)
        mine = Counter(e["type"] for e in published if e.get("tags", {}).get("pipeline") == pid)
        out = f"{mine.total()} {compact(list(mine))}" if mine else "-"
        rows.append(
            (
                pid,
                listens_to(rule.get("event_type")),
                len(matched),
                filtered,
                faults,
                result.outputs.get(pid, 0),
                out,
            )
        )
        totals.rule_runs += len(matched)
        if rule.get("emit"):
            totals.emitted += result.outputs.get(pid, 0)
    table(["rule", "listens to", "in", "filtered", "faults", "out", "published"], rows, indent=4)
    ignored = Counter(
        u["event"]["type"] for u in uows if u.get("event") is not None and id(u) not in matched_any
    )
    if ignored:
        totals.unmatched += sum(ignored.values())
        names = ", ".join(f"{t} x{n}" for t, n in ignored.items())
        say(f"    no rule listens to: {names} (ignored, not a fault)")

    fault_events = [e for e in published if e.get("type") == "fault"]
    say(f"faults ({len(result.faults)} reported, {len(fault_events)} read back from the bus)")
    if fault_events:
        rows = [
            (
                f["tags"].get("pipeline", "?").replace("undefined", "(decoding)"),
                record_ref(f["uow"]["record"]),
                brief(f),
            )
            for f in fault_events
        ]
        table(["rule", "record", "error"], rows, indent=4, widths={2: 70})

    retry = result.retry_records
    failures = response["batchItemFailures"]
    say(f"Lambda answer ({took * 1000:.0f} ms): {json.dumps(response)}")
    if retry:
        refs = ", ".join(record_ref(r) for r in retry)
        say(
            f"    {len(retry)} record(s) to deliver again ({refs}): a RetryableError, "
            "so no fault: Lambda retries"
        )
    say(
        f"    -> {len(records)} records: {len(result.faults)} stored as faults, "
        f"{len(failures)} handed back to Lambda, the rest done"
    )

    totals.records[source] += len(records)
    totals.reported_faults += len(result.faults)
    totals.unpublished_faults += len(result.unpublished_faults)
    totals.handed_back[source] += len(failures)


def print_bus(capture: BusCapture, totals: Totals) -> None:
    envelopes = capture.envelopes()
    say()
    say(f"== events on the bus {BUS_NAME!r} ".ljust(WIDTH, "="))
    say(f"read back through the capture queue: {len(envelopes)} events, by type")
    groups: dict[str, list[dict[str, Any]]] = {}
    for envelope in envelopes:
        groups.setdefault(envelope["detail"]["type"], []).append(envelope)
    order = sorted(groups, key=lambda t: (t == "fault", t))
    for event_type in order:
        members = groups[event_type]
        say()
        say(f"  {event_type} x{len(members)}")
        rows = []
        for envelope in sorted(members, key=lambda e: e["detail"].get("timestamp") or 0):
            detail = envelope["detail"]
            tags = detail.get("tags") or {}
            rows.append(
                (
                    short_id(detail.get("id")),
                    detail.get("partition_key"),
                    tags.get("functionname"),
                    tags.get("pipeline", "?").replace("undefined", "(decoding)"),
                    brief(detail),
                )
            )
        table(["id", "key", "function", "rule", "payload"], rows, indent=4, widths={1: 10, 4: 52})

    faults = len(groups.get("fault", []))
    events = len(envelopes) - faults
    say()
    say("== summary ".ljust(WIDTH, "="))
    by_source = ", ".join(f"{s} {n}" for s, n in totals.records.items())
    back = ", ".join(f"{s} {n}" for s, n in totals.handed_back.items() if n) or "none"
    table(
        None,
        [
            ("records in", sum(totals.records.values()), by_source),
            (
                "rules matched",
                totals.rule_runs,
                f"record x rule runs; {totals.unmatched} records matched no rule",
            ),
            ("events published", events, "domain events read back from the bus"),
            ("faults stored", faults, "fault events read back from the bus"),
            (
                "records handed back to Lambda",
                sum(totals.handed_back.values()),
                f"batchItemFailures: {back}",
            ),
        ],
        indent=0,
    )

    totals.checks += [
        (
            faults == totals.reported_faults - totals.unpublished_faults,
            f"every fault the pipelines reported is on the bus ({faults} of "
            f"{totals.reported_faults - totals.unpublished_faults})",
        ),
        (
            events == totals.emitted,
            f"every event the rules emitted is on the bus ({events} of {totals.emitted})",
        ),
        (
            all(e["source"] and e["detail-type"] == e["detail"]["type"] for e in envelopes),
            "each envelope's detail-type is its event's type",
        ),
    ]


# ---------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also print stream-core's log lines (faults, retries)",
    )
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.CRITICAL,
        format="    log | %(levelname)s %(name)s: %(message)s",
        stream=sys.stdout,
    )
    logging.getLogger("botocore").setLevel(logging.WARNING)
    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so the server is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    say(
        "stream-core demo: rules over Kinesis, SQS and DynamoDB Streams batches, "
        "on a local moto_server"
    )
    try:
        with MotoServer() as server:
            assert server.process is not None
            say(
                f"moto_server   pid {server.process.pid} on {server.url} "
                f"(ready in {server.started_in:.1f} s)"
            )
            return run(server)
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except BrokenPipeError:
        return 141


def run(server: MotoServer) -> int:
    point_boto3_at(server)
    started = time.monotonic()
    capture = BusCapture.create(BUS_NAME)
    say(
        f"event bus     {BUS_NAME}, captured by a rule to the SQS queue "
        f"{capture.queue_url.rsplit('/', 1)[-1]}"
    )
    say(
        "rule tables  in: records routed to the rule by event type, filtered: dropped by its "
        "filters,\n             out: UOWs it passed on (one per emitted event), published: "
        "read back from the bus"
    )

    options = {
        **DEFAULT_OPTIONS,
        "bus_name": BUS_NAME,
        "logger": logging.getLogger("demo.lambda"),
    }
    totals = Totals()
    steps = [
        (
            "Kinesis batch: create/update things, one poison event, one malformed record",
            "kinesis",
            Function("demo-listener", KINESIS_RULES, from_kinesis, options),
            kinesis_batch(),
        ),
        (
            "SQS batch: each message imports several things (a rule emitting a list)",
            "sqs",
            Function("demo-importer", SQS_RULES, from_sqs, options),
            sqs_batch(),
        ),
        (
            "DynamoDB Streams batch: INSERT/MODIFY/REMOVE of table items -> cdc events",
            "dynamodb",
            Function("demo-trigger", DYNAMODB_RULES, from_dynamodb, options),
            dynamodb_batch(),
        ),
    ]
    for number, (title, source, function, event) in enumerate(steps, 1):
        run_step(number, title, source, function, event, capture, totals)

    print_bus(capture, totals)
    say()
    say("checks")
    for ok, text in totals.checks:
        say(f"  {'ok  ' if ok else 'FAIL'}  {text}")
    say(f"done in {time.monotonic() - started:.1f} s")
    return 0 if all(ok for ok, _ in totals.checks) else 1


if __name__ == "__main__":
    sys.exit(main())
