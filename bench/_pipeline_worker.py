"""Worker of bench/pipeline_overhead.py: times one library in its own process.

    python bench/_pipeline_worker.py --lib stream_core|aws_lambda_stream [--runs N]
    python bench/_pipeline_worker.py --lib stream_core --profile c   # cProfile, no timing

Prints one JSON object on stdout (times in seconds, memory in bytes). The hand loop (a) is
timed in the same process, interleaved with the library's cases, so each library's ratios
are against a baseline measured under the same conditions.
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
import tracemalloc
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workload import (
    BUS_NAME,
    RECORDS,
    average_event_bytes,
    hand_loop,
    make_events,
    make_kinesis_event,
    make_rules,
)


def _no_network() -> None:
    """Belt and braces: dummy credentials, an endpoint nobody listens on, and a socket that
    refuses to connect. A case that tried to reach AWS would fail loudly, not silently."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-west-2",
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        AWS_EC2_METADATA_DISABLED="true",
    )

    def refuse(self: socket.socket, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"bench: network call attempted: {args!r}")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign,assignment]


Cases = dict[str, Callable[..., Any]]


def _cases_stream_core(event: dict[str, Any]) -> tuple[Cases, Cases, Callable]:
    from stream_core.events.kinesis import from_kinesis
    from stream_core.flavors.task import task
    from stream_core.pipelines import StreamPipeline, initialize_from

    rules_1 = make_rules(task, 1)
    rules_10 = make_rules(task, 10)
    options = {"bus_name": BUS_NAME}

    def one_rule(on_next: Any = None) -> Any:
        return StreamPipeline(initialize_from(rules_1), options).assemble(
            from_kinesis(event), on_next=on_next
        )

    def ten_rules(on_next: Any = None) -> Any:
        return StreamPipeline(initialize_from(rules_10), options).assemble(
            from_kinesis(event), on_next=on_next
        )

    decoded = from_kinesis(event)  # assemble() never mutates its UOWs: reusable

    def pipeline_only(on_next: Any = None) -> Any:
        return StreamPipeline(initialize_from(rules_10), options).assemble(decoded, on_next=on_next)

    def check(result: Any) -> None:
        if result.faults or result.retry_records:
            raise SystemExit(f"bench: stream-core reported faults: {result.faults[:1]}")

    extra = {"decode": lambda: from_kinesis(event), "pipeline_c": pipeline_only}
    return {"b": one_rule, "c": ten_rules}, extra, check


def _cases_aws_lambda_stream(event: dict[str, Any]) -> tuple[Cases, Cases, Callable]:
    from aws_lambda_stream.events.kinesis import from_kinesis
    from aws_lambda_stream.flavors.task import task
    from aws_lambda_stream.pipelines import StreamPipeline, initialize_from
    from aws_lambda_stream.utils import faults as als_faults
    from aws_lambda_stream.utils.opt import DEFAULT_OPTIONS

    rules_1 = make_rules(task, 1)
    rules_10 = make_rules(task, 10)
    # 1.4.0's assemble ends with flush_faults(), which pipes the (empty) fault list through
    # opt['publish'] and fails with a KeyError without one: pass its default EventBridge
    # publisher, as a user would. With no faults it never creates a boto3 client (checked:
    # the socket guard above would raise).
    options = {"bus_name": BUS_NAME, "publish": DEFAULT_OPTIONS["publish"]}

    def one_rule(on_next: Any = None) -> Any:
        return StreamPipeline(initialize_from(rules_1), options).assemble(
            from_kinesis(event), on_next=on_next
        )

    def ten_rules(on_next: Any = None) -> Any:
        return StreamPipeline(initialize_from(rules_10), options).assemble(
            from_kinesis(event), on_next=on_next
        )

    def check(_result: Any) -> None:
        if als_faults.the_faults:
            raise SystemExit(
                f"bench: aws-lambda-stream reported faults: {als_faults.the_faults[:1]}"
            )

    return {"b": one_rule, "c": ten_rules}, {"decode": lambda: from_kinesis(event)}, check


def _decode_hand(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The decode step alone, by hand: the floor for any API that takes a decoded batch."""
    b64decode = base64.b64decode
    loads = json.loads
    return [loads(b64decode(record["kinesis"]["data"])) for record in event["Records"]]


def _warm_up_and_verify(cases: Cases, check: Callable, event: dict[str, Any]) -> None:
    """The untimed warm-up run of each case; it also checks that every record was handled
    exactly once, by the one matching rule, with no fault."""
    if hand_loop(event) != RECORDS:
        raise SystemExit("bench: hand loop did not handle every record")
    for name, case in cases.items():
        outputs: list[str] = []
        result = case(on_next=lambda pipeline_id, _uow, out=outputs: out.append(pipeline_id))
        check(result)
        if len(outputs) != RECORDS or set(outputs) != {"handle-thing-created"}:
            raise SystemExit(f"bench: case {name} output {len(outputs)} UOWs, expected {RECORDS}")


def _time(cases: Cases, runs: int, warmup: int) -> dict[str, list[float]]:
    """``warmup`` more untimed rounds, then ``runs`` timed rounds; each round runs every
    case once (interleaved, so a slow patch of the machine hits all cases alike)."""
    for _ in range(warmup):
        for case in cases.values():
            case()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, case in cases.items():
            gc.collect()
            start = time.perf_counter()
            case()
            times[name].append(time.perf_counter() - start)
    return times


def _peak(case: Callable[[], Any]) -> int:
    """Peak traced memory (bytes) allocated during one call, above what existed before."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = case()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result
    return peak - before


def _profile(case: Callable[[], Any], label: str) -> None:
    import cProfile
    import pstats

    case()  # warm-up
    profiler = cProfile.Profile()
    profiler.enable()
    case()
    profiler.disable()
    print(f"--- cProfile of {label} ({RECORDS} records), by own time ---", file=sys.stderr)
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lib", choices=["stream_core", "aws_lambda_stream"], required=True)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--extra-warmup", type=int, default=0, help="more untimed rounds")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--profile", choices=["a", "b", "c"])
    args = parser.parse_args()

    _no_network()
    events = make_events()
    event = make_kinesis_event(events)
    build = _cases_stream_core if args.lib == "stream_core" else _cases_aws_lambda_stream
    cases, extra, check = build(event)

    if args.profile:
        target = (lambda: hand_loop(event)) if args.profile == "a" else cases[args.profile]
        _profile(target, f"{args.lib} case ({args.profile})")
        return

    _warm_up_and_verify(cases, check, event)
    timed = {
        "a": lambda: hand_loop(event),
        **cases,
        "decode_hand": lambda: _decode_hand(event),
        **extra,
    }
    for name in ("decode_hand", *extra):
        timed[name]()  # their warm-up
    times = _time(timed, args.runs, args.extra_warmup)
    memory = {}
    if not args.no_memory:
        memory = {
            "a": _peak(lambda: hand_loop(event)),
            "decode_hand": _peak(lambda: _decode_hand(event)),
            "decode": _peak(extra["decode"]),
            "c": _peak(cases["c"]),
        }

    print(
        json.dumps(
            {
                "lib": args.lib,
                "python": sys.executable,
                "python_version": platform.python_version(),
                "reactivex": metadata.version("reactivex"),
                "library_version": metadata.version(
                    "stream-core" if args.lib == "stream_core" else "aws-lambda-stream"
                ),
                "records": RECORDS,
                "event_bytes": average_event_bytes(events),
                "runs": args.runs,
                "warmup": 1 + args.extra_warmup,
                "best": {name: min(ts) for name, ts in times.items()},
                "median": {name: statistics.median(ts) for name, ts in times.items()},
                "memory": memory,
            }
        )
    )


if __name__ == "__main__":
    main()
