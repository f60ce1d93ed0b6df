"""Worker of bench/io_bound.py: times one library's materialize against moto_server, next to
a sequential boto3 loop, in its own process.

    python bench/_io_worker.py --lib stream_core|aws_lambda_stream --endpoint URL \
        --table seq=NAME --table lib=NAME [--table seq0=NAME] [--runs N]

The environment (dummy credentials, AWS_ENDPOINT_URL, region) comes from io_bound.py;
sockets may connect to the moto endpoint only. Every AWS call of the timed cases goes
through a botocore ``before-send`` hook that records it and sleeps 20 ms (the ``seq0``
reference case: the same loop with the hook recording only). Every run, the warm-up
included, is checked: the hook saw every HTTP request botocore sent, the requests are
exactly the 100 UpdateItem of the loop, and the table holds the run's 100 values.

Prints one JSON object on stdout (times in seconds).
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import platform
import socket
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _io_workload import (
    EVENT_TYPE,
    LATENCY_S,
    SORT_KEY,
    UPDATES,
    CallRecorder,
    SendCounter,
    check_table,
    expected_bodies,
    operations,
    same_requests,
    scan_all,
    trigger_event,
    update_item_params,
)

MAX_IN_FLIGHT = 16  # stream-core's default; the rule does not set it


def _only_moto(endpoint: str) -> None:
    """Sockets may connect to the moto endpoint and nowhere else."""
    parts = urlsplit(endpoint)
    allowed = (parts.hostname, parts.port)
    connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if tuple(address[:2]) != allowed:
            raise RuntimeError(f"bench: connection to {address!r} refused (moto only)")
        return connect(self, address)

    socket.socket.connect = guarded  # type: ignore[method-assign]


def _plain_client(recorder: CallRecorder | None = None) -> Any:
    """A boto3 DynamoDB client of its own session (default config), hook registered."""
    import boto3

    client = boto3.session.Session().client("dynamodb")
    if recorder is not None:
        recorder.register(client.meta.events)
    return client


@dataclass
class Case:
    name: str  # also the prefix of the values it writes
    table: str
    execute: Callable[[dict[str, Any]], Any]  # runs one trigger event; raises on a fault
    recorder: CallRecorder
    times: list[float] = field(default_factory=list)
    client_cpu: list[float] = field(default_factory=list)  # this process, per timed run
    server_cpu: list[float] = field(default_factory=list)  # moto_server, per timed run
    calls: list[int] = field(default_factory=list)
    operations: dict[str, int] = field(default_factory=dict)


def _sequential(table: str, client: Any) -> Callable[[dict[str, Any]], None]:
    """Case (a): decode each record and send its UpdateItem, one after the other."""

    def execute(event: dict[str, Any]) -> None:
        for record in event["Records"]:
            payload = json.loads(base64.b64decode(record["kinesis"]["data"]))
            if payload["type"] == EVENT_TYPE:
                client.update_item(**update_item_params(table, payload))

    return execute


def _stream_core(table: str, recorder: CallRecorder) -> tuple[Callable, dict[str, Any]]:
    """Case (b): stream-core's materialize, connector on a client with the latency hook."""
    import boto3

    from stream_core.connectors._client import default_config
    from stream_core.connectors.dynamodb import DynamoDBConnector
    from stream_core.events.kinesis import from_kinesis
    from stream_core.flavors.materialize import materialize
    from stream_core.pipelines import StreamPipeline, initialize_from
    from stream_core.utils.dynamodb import update_expression

    # The client the connector would create itself (shared_client): default_config().
    client = boto3.session.Session().client("dynamodb", config=default_config())
    recorder.register(client.meta.events)
    connector = DynamoDBConnector(table, client=client)
    rule = {
        "id": "materialize-thing",
        "flavor": materialize,
        "event_type": EVENT_TYPE,
        # the flavor adds the timestamp condition itself (":timestamp" is among the values)
        "to_update_request": lambda uow: {
            "Key": {"pk": uow["event"]["thing"]["id"], "sk": SORT_KEY},
            **update_expression(
                {"name": uow["event"]["thing"]["name"], "timestamp": uow["event"]["timestamp"]}
            ),
        },
        "connector": connector,
    }
    published: list[Any] = []

    def fault_publisher(fault_events: list[Any]) -> dict[int, Any]:
        published.extend(fault_events)  # never EventBridge: a fault fails the run below
        return {}

    options = {"bus_name": "bench-bus", "fault_publisher": fault_publisher}

    def execute(event: dict[str, Any]) -> None:
        result = StreamPipeline(initialize_from([rule]), options).assemble(from_kinesis(event))
        if result.faults or result.retry_records or published:
            raise SystemExit(f"bench: stream-core reported faults: {result.faults[:1]}")

    return execute, {"connector": connector}


def _aws_lambda_stream(table: str, recorder: CallRecorder) -> tuple[Callable, dict[str, Any]]:
    """Case (c): aws-lambda-stream 1.4.0's materialize. It creates its boto3 resource from
    boto3's default session (a new Connector, so a new resource, per assemble), so the hook
    goes on that session before anything is created."""
    import boto3

    boto3.setup_default_session()
    recorder.register(boto3.DEFAULT_SESSION.events)
    os.environ["ENTITY_TABLE_NAME"] = table  # read by its materialize at assemble time

    from aws_lambda_stream.events.kinesis import from_kinesis
    from aws_lambda_stream.flavors.materialize import materialize
    from aws_lambda_stream.pipelines import StreamPipeline, initialize_from
    from aws_lambda_stream.utils.dynamodb import timestamp_condition, update_expression
    from reactivex import operators as ops

    rule = {
        "id": "materialize-thing",
        "flavor": materialize,
        "event_type": EVENT_TYPE,
        # 1.4.0 adds no condition of its own: the rule asks for the same one (its helper)
        "to_update_request": lambda uow: {
            "Key": {"pk": uow["event"]["thing"]["id"], "sk": SORT_KEY},
            **update_expression(
                {"name": uow["event"]["thing"]["name"], "timestamp": uow["event"]["timestamp"]}
            ),
            **timestamp_condition(),
        },
    }
    published: list[Any] = []
    # 1.4.0's assemble ends with flush_faults(), which pipes the fault list through
    # opt['publish'] (a KeyError without one). This publisher records the faults instead of
    # sending them to EventBridge, so a fault fails the run below instead of adding a call.
    options = {"publish": lambda _opt: ops.do_action(published.append)}

    def execute(event: dict[str, Any]) -> None:
        StreamPipeline(initialize_from([rule]), options).assemble(from_kinesis(event))
        if published:
            raise SystemExit(f"bench: aws-lambda-stream reported faults: {published[:1]}")

    return execute, {}


def _cpu_of(pid: int | None) -> float | None:
    """CPU seconds (user + system) used so far by process ``pid`` (Linux /proc), or None."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run_once(
    case: Case, run: int, counter: SendCounter, checker: Any, timed: bool, server_pid: int | None
) -> None:
    event = trigger_event(case.name, run)
    case.recorder.reset()
    sent_before = counter.count
    gc.collect()
    server_before = _cpu_of(server_pid)
    cpu_before = time.process_time()
    start = time.perf_counter()
    case.execute(event)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_before
    server_after = _cpu_of(server_pid)
    sent = counter.count - sent_before
    calls = list(case.recorder.calls)

    where = f"bench: case {case.name}, run {run}"
    if sent != len(calls):
        raise SystemExit(f"{where}: {sent} HTTP requests sent, the hook saw {len(calls)}")
    ops = operations(calls)
    if ops != {"UpdateItem": UPDATES}:
        raise SystemExit(f"{where}: calls {ops}, expected {{'UpdateItem': {UPDATES}}}")
    matched = same_requests(calls, expected_bodies(case.table, case.name, run))
    if matched != UPDATES:
        raise SystemExit(f"{where}: {matched} of {UPDATES} requests as the loop sends them")
    problem = check_table(checker, case.table, case.name, run)
    if problem:
        raise SystemExit(f"{where}: {problem}")
    if timed:
        case.times.append(elapsed)
        case.client_cpu.append(cpu)
        if server_before is not None and server_after is not None:
            case.server_cpu.append(server_after - server_before)
    case.calls.append(sent)
    case.operations = ops


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lib", choices=["stream_core", "aws_lambda_stream"], required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--table", action="append", default=[], help="case=table")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--server-pid", type=int, help="moto_server's pid, for its CPU time")
    args = parser.parse_args()
    tables = dict(item.split("=", 1) for item in args.table)

    _only_moto(args.endpoint)
    counter = SendCounter()
    checker = _plain_client()  # verification scans: no hook, outside the timed part

    def sequential_case(name: str, latency: float) -> Case:
        recorder = CallRecorder(latency)
        execute = _sequential(tables[name], _plain_client(recorder))
        return Case(name, tables[name], execute, recorder)

    cases = [sequential_case("seq", LATENCY_S)]
    lib_recorder = CallRecorder()
    build = _stream_core if args.lib == "stream_core" else _aws_lambda_stream
    execute, extra = build(tables["lib"], lib_recorder)
    cases.append(Case("lib", tables["lib"], execute, lib_recorder))
    if "seq0" in tables:  # the reference: the same loop, the hook records but never sleeps
        cases.append(sequential_case("seq0", 0.0))

    for case in cases:
        if scan_all(checker, case.table):
            raise SystemExit(f"bench: table {case.table} is not empty before the first run")

    # Round by round: every case once per round, so a slow patch hits all cases alike.
    for run in range(args.warmup + args.runs):
        for case in cases:
            _run_once(case, run, counter, checker, run >= args.warmup, args.server_pid)

    connector = extra.get("connector")
    print(
        json.dumps(
            {
                "lib": args.lib,
                "python": sys.executable,
                "python_version": platform.python_version(),
                "reactivex": metadata.version("reactivex"),
                "boto3": metadata.version("boto3"),
                "library_version": metadata.version(
                    "stream-core" if args.lib == "stream_core" else "aws-lambda-stream"
                ),
                "runs": args.runs,
                "warmup": args.warmup,
                "updates": UPDATES,
                "latency_s": LATENCY_S,
                "max_in_flight": MAX_IN_FLIGHT if args.lib == "stream_core" else 1,
                "checked_runs": args.warmup + args.runs,
                "connector_calls": connector.calls if connector is not None else None,
                "cases": {
                    case.name: {
                        "best": min(case.times),
                        "median": statistics.median(case.times),
                        "times": case.times,
                        "client_cpu": statistics.median(case.client_cpu),
                        "server_cpu": (
                            statistics.median(case.server_cpu) if case.server_cpu else None
                        ),
                        "calls": case.calls,
                        "operations": case.operations,
                    }
                    for case in cases
                },
            }
        )
    )


if __name__ == "__main__":
    main()
