"""I/O-bound materialize: stream-core vs a sequential boto3 loop vs aws-lambda-stream 1.4.0.

Run with ``make bench`` (it runs this file with .venv-bench/bin/python), or directly:

    .venv-bench/bin/python bench/io_bound.py [--runs N]

In one run: starts a ``moto_server`` on a free 127.0.0.1 port (stopped at the end, whatever
happens), creates one DynamoDB table (pk/sk) per case through the API, and times 100
materialize updates (100 distinct events -> 100 UpdateItem calls, each setting name and
timestamp on its own item) with 20 ms added to every AWS call on the client side (a botocore
``before-send`` hook that sleeps):

* (a) a sequential boto3 loop, ``client.update_item`` per event;
* (b) stream-core: ``StreamPipeline(initialize_from([materialize rule]), options)
  .assemble(from_kinesis(event))``, the rule's ``connector`` a ``DynamoDBConnector`` on a
  client with the hook (updates run 16 in flight, the default);
* (c) aws-lambda-stream 1.4.0's materialize on the same events (hook on
  ``boto3.DEFAULT_SESSION``, where 1.4.0 creates its resource).

Best of N timed runs after a warm-up run, ``time.perf_counter``, cases interleaved round by
round. stream-core is measured with the main ``.venv`` (reactivex 6.x) and 1.4.0 with
``.venv-bench`` (reactivex<5), each in its own worker process (``bench/_io_worker.py``) next
to its own sequential loop. Every run is checked (calls seen by the hook = HTTP requests
sent, the same 100 UpdateItem requests as the loop, the 100 items hold that run's values).
Exits 0 when the target is missed: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORKER = BENCH / "_io_worker.py"
MAIN_VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
sys.path.insert(0, str(BENCH))

from _io_moto import MotoServer  # noqa: E402
from _io_workload import LATENCY_S, UPDATES, create_table  # noqa: E402

TARGET = 0.15  # x the sequential loop's time
SC = "stream-core"
ALS = "aws-lambda-stream 1.4.0"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _rel(path: str | Path) -> str:
    try:
        return str(Path(path).relative_to(ROOT))
    except ValueError:
        return str(path)


def _worker(
    python: str, lib: str, server: MotoServer, tables: dict[str, str], runs: int
) -> dict[str, Any]:
    command = [python, "-E", str(WORKER), "--lib", lib, "--endpoint", server.endpoint]
    command += [arg for case, table in tables.items() for arg in ("--table", f"{case}={table}")]
    command += ["--runs", str(runs), "--server-pid", str(server.pid)]
    env = {**os.environ, **server.process_env()}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=300, check=False, env=env
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"bench: worker failed: {' '.join(command)}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row(label: str, *cells: str, widths: tuple[int, ...] = (10, 10, 17, 12, 11)) -> str:
    out = f"  {label:<42}"
    for width, cell in zip(widths, cells, strict=False):
        out += f"{cell:>{width}}"
    extra = cells[len(widths) :]
    return (out + ("  " + " ".join(extra) if extra else "")).rstrip()


def _calls(case: dict[str, Any]) -> str:
    counts = sorted(set(case["calls"]))
    ops = ", ".join(case["operations"])
    number = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return f"{number} {ops}"


def _stop_on_sigterm() -> None:
    """SIGTERM (a CI timeout, kill) unwinds like Ctrl-C, so ``finally`` stops moto_server."""

    def handler(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per case")
    args = parser.parse_args()
    started = time.perf_counter()
    _stop_on_sigterm()

    if MAIN_VENV_PYTHON.exists():
        sc_python, sc_note = str(MAIN_VENV_PYTHON), ""
    else:
        sc_python = sys.executable
        sc_note = f"  (fallback: {_rel(MAIN_VENV_PYTHON)} not found, using this interpreter)"
    have_als = importlib.util.find_spec("aws_lambda_stream") is not None
    als_python = sys.executable

    print("stream-core I/O-bound materialize")
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.platform()}, {_cpu_model()}, {os.cpu_count()} CPUs, "
        f"{time.strftime('%Y-%m-%d %H:%M')}"
    )

    fd, log_name = tempfile.mkstemp(prefix="bench-io-moto-", suffix=".log")
    os.close(fd)
    server = MotoServer(log_name)
    sc = als = None
    try:
        endpoint = server.start()
        print(
            f"moto_server {metadata.version('moto')} pid {server.pid} on {endpoint} "
            f"({_rel(server.command[0])})"
        )
        admin = server.client("dynamodb")
        sc_tables = {"seq": "io-sc-seq", "lib": "io-sc-lib", "seq0": "io-sc-seq0"}
        als_tables = {"seq": "io-als-seq", "lib": "io-als-lib"}
        for name in [*sc_tables.values(), *(als_tables.values() if have_als else ())]:
            create_table(admin, name)
        sc = _worker(sc_python, "stream_core", server, sc_tables, args.runs)
        if have_als:
            als = _worker(als_python, "aws_lambda_stream", server, als_tables, args.runs)
    finally:
        pid = server.pid
        server.stop()
        Path(log_name).unlink(missing_ok=True)
        if pid is not None:
            print(f"moto_server stopped (pid {pid})")

    assert sc is not None
    print(
        f"{SC} {sc['library_version']}: {_rel(sc['python'])}, reactivex {sc['reactivex']}, "
        f"boto3 {sc['boto3']}; best of {sc['runs']} after {sc['warmup']} warm-up{sc_note}"
    )
    if als is not None:
        print(
            f"{ALS}: {_rel(als['python'])}, reactivex {als['reactivex']}, boto3 {als['boto3']}; "
            f"best of {als['runs']} after {als['warmup']} warm-up"
        )
    else:
        print(f"{ALS}: SKIPPED, not installed in {_rel(als_python)} (run it with `make bench`)")
    print(
        f"workload: {UPDATES} distinct events -> {UPDATES} UpdateItem (SET name, timestamp + "
        f"timestamp condition), one item each; +{LATENCY_S * 1e3:.0f} ms per AWS call "
        "(botocore before-send sleep)"
    )

    print()
    print(_row("case", "best ms", "median ms", "AWS calls", "x seq loop", "target"))

    def line(label: str, side: dict[str, Any], case: str, target: float | None) -> float:
        data = side["cases"][case]
        ratio = data["best"] / side["cases"]["seq"]["best"]
        goal = verdict = ""
        if target is not None:
            goal = f"<= {target:g}x"
            verdict = "PASS" if ratio <= target else "MISS  <<<"
        print(
            _row(
                label,
                f"{data['best'] * 1e3:.1f}",
                f"{data['median'] * 1e3:.1f}",
                _calls(data),
                f"{ratio:.3f}x",
                goal,
                verdict,
            )
        )
        return ratio

    line("(a) sequential boto3 loop", sc, "seq", None)
    sc_ratio = line(f"(b) {SC} materialize, {sc['max_in_flight']} in flight", sc, "lib", TARGET)
    if als is not None:
        line("(a) sequential boto3 loop, 1.4.0 process", als, "seq", None)
        line(f"(c) {ALS} materialize", als, "lib", None)
        speedup = als["cases"]["lib"]["best"] / sc["cases"]["lib"]["best"]
        print(f"  {SC} vs {ALS}: {speedup:.1f}x faster")
    print("  (ratios: each library against the sequential loop timed in its own process)")

    # --- where the time goes ---------------------------------------------------------------
    bound = sc["max_in_flight"]
    rounds = math.ceil(UPDATES / bound)
    floor = rounds * LATENCY_S
    seq_best = sc["cases"]["seq"]["best"]
    print()
    print(
        "Where the time goes (medians of the timed runs; CPU: the worker's time.process_time, "
        "moto_server's /proc/<pid>/stat)"
    )
    cpu_widths = (10, 12, 17, 12)
    print(_row("case", "wall ms", "worker CPU", "moto_server CPU", "CPU / wall", widths=cpu_widths))

    def cpu_line(label: str, side: dict[str, Any], case: str) -> None:
        data = side["cases"][case]
        client, server = data["client_cpu"], data["server_cpu"]
        both = client + (server or 0.0)
        print(
            _row(
                label,
                f"{data['median'] * 1e3:.1f}",
                f"{client * 1e3:.0f} ms",
                "n/a" if server is None else f"{server * 1e3:.0f} ms",
                f"{both / data['median']:.2f}",
                widths=cpu_widths,
            )
        )

    cpu_line("(a) sequential boto3 loop", sc, "seq")
    cpu_line("(a0) the same loop, no added latency", sc, "seq0")
    cpu_line(f"(b) {SC} materialize", sc, "lib")
    if als is not None:
        cpu_line(f"(c) {ALS} materialize", als, "lib")
    seq0 = sc["cases"]["seq0"]["best"]
    print(
        f"  latency floor at {bound} in flight: ceil({UPDATES}/{bound}) = {rounds} rounds x "
        f"{LATENCY_S * 1e3:.0f} ms = {floor * 1e3:.0f} ms ({floor / seq_best:.3f}x the loop)"
    )
    print(
        f"  no-latency loop: (a0) makes the same {UPDATES} calls in {seq0 * 1e3:.1f} ms "
        f"(best; {seq0 / UPDATES * 1e3:.2f} ms per call, {seq0 / seq_best:.3f}x the loop)"
    )
    server = sc["cases"]["lib"]["server_cpu"]
    if server is not None:
        print(
            f"  moto_server floor: it spends {server * 1e3:.0f} ms of CPU serving (b)'s "
            f"{UPDATES} UpdateItem ({server / seq_best:.3f}x the loop), in one process under one "
            "GIL: no client-side concurrency gets below it"
        )
    print(f"  ({os.cpu_count()} CPUs, shared by the worker and moto_server)")

    print()
    print(
        f"Checks, every run (warm-up included): the hook saw every HTTP request sent; each "
        f"case sent the loop's {UPDATES} UpdateItem requests exactly; all {UPDATES} items held "
        "that run's name and timestamp"
    )
    if sc.get("connector_calls") is not None:
        hooked = sum(sc["cases"]["lib"]["calls"])
        print(
            f"  {SC} DynamoDBConnector.calls = {sc['connector_calls']} over "
            f"{sc['checked_runs']} runs (hook: {hooked})"
        )
    verdict = "PASS" if sc_ratio <= TARGET else "MISS"
    print()
    print(f"target {SC} <= {TARGET:g}x the sequential loop: {verdict} ({sc_ratio:.3f}x)")
    print(f"total bench time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
