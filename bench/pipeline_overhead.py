"""Pipeline overhead: stream-core vs a hand-written loop vs aws-lambda-stream 1.4.0.

Run with ``make bench`` (it runs this file with .venv-bench/bin/python), or directly:

    .venv-bench/bin/python bench/pipeline_overhead.py [--runs N] [--import-runs N]

Measures, in one run, for 10,000 Kinesis records carrying ~200-byte domain events:

* throughput: (a) a hand-written loop (base64 + json.loads + the same ``execute``),
  (b) stream-core with one task rule, (c) stream-core with 10 task rules of which one
  matches, (d) aws-lambda-stream 1.4.0 for (b) and (c); best of N timed runs after an
  untimed warm-up run, ``time.perf_counter``;
* cold import of a handler module (``bench/_handler_*.py``) vs ``import boto3``, each in a
  fresh interpreter, median of N;
* peak memory (tracemalloc) of one case (c) call, ``from_kinesis`` decode included.

stream-core is measured with the main ``.venv`` (reactivex 6.x, what users get) and
aws-lambda-stream 1.4.0 with ``.venv-bench`` (it pins reactivex<5); each library runs in
its own worker process (``bench/_pipeline_worker.py``) next to its own hand-loop baseline.
Exits 0 when a target is missed: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORKER = BENCH / "_pipeline_worker.py"
MAIN_VENV_PYTHON = ROOT / ".venv" / "bin" / "python"

MIB = 1024 * 1024
TARGET_B = 1.5  # x the hand loop's time
TARGET_C = 2.0
TARGET_IMPORT = 1.15  # x import boto3
TARGET_MEMORY_MIB = 10.0
REFERENCE = {"b": "~90x", "c": "~120x", "import": "~1.3x", "memory": "~113 MB"}

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


def _worker(python: str, lib: str, runs: int) -> dict[str, Any]:
    command = [python, "-E", str(WORKER), "--lib", lib, "--runs", str(runs)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"bench: worker failed: {' '.join(command)}")
    return json.loads(done.stdout.strip().splitlines()[-1])


_IMPORT_SNIPPET = """\
import sys, time
sys.path.insert(0, {bench!r})
start = time.perf_counter()
{imports}
elapsed = time.perf_counter() - start
print(elapsed, int("boto3" in sys.modules))
"""


def _import_times(commands: dict[str, tuple[str, str]], runs: int) -> dict[str, tuple[float, bool]]:
    """Median import time of each ``(python, import statements)``, each run in a fresh
    interpreter; one untimed warm-up each (bytecode caches), then ``runs`` interleaved
    rounds. Also whether boto3 ended up in ``sys.modules``."""

    def once(python: str, imports: str) -> tuple[float, bool]:
        code = _IMPORT_SNIPPET.format(bench=str(BENCH), imports=imports)
        done = subprocess.run(
            [python, "-E", "-c", code], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            raise SystemExit(f"bench: import failed in {python}: {imports}")
        elapsed, boto3_loaded = done.stdout.split()
        return float(elapsed), boto3_loaded == "1"

    loaded: dict[str, bool] = {}
    for key, (python, imports) in commands.items():
        loaded[key] = once(python, imports)[1]
    samples: dict[str, list[float]] = {key: [] for key in commands}
    for _ in range(runs):
        for key, (python, imports) in commands.items():
            samples[key].append(once(python, imports)[0])
    return {key: (statistics.median(ts), loaded[key]) for key, ts in samples.items()}


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS  <<<"


def _row(label: str, *cells: str) -> str:
    widths = (10, 10, 12, 13, 13)
    out = f"  {label:<46}"
    for width, cell in zip(widths, cells, strict=False):
        out += f"{cell:>{width}}"
    extra = cells[len(widths) :]
    return (out + ("  " + " ".join(extra) if extra else "")).rstrip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs, stream-core side")
    parser.add_argument(
        "--als-runs", type=int, default=5, help="timed runs, aws-lambda-stream side (slow)"
    )
    parser.add_argument("--import-runs", type=int, default=9, help="fresh interpreters per line")
    args = parser.parse_args()
    started = time.perf_counter()

    if MAIN_VENV_PYTHON.exists():
        sc_python = str(MAIN_VENV_PYTHON)
        sc_note = ""
    else:
        sc_python = sys.executable
        sc_note = f"  (fallback: {_rel(MAIN_VENV_PYTHON)} not found, using this interpreter)"
    have_als = importlib.util.find_spec("aws_lambda_stream") is not None
    als_python = sys.executable

    print("stream-core pipeline overhead")
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.platform()}, {_cpu_model()}, {os.cpu_count()} CPUs, "
        f"{time.strftime('%Y-%m-%d %H:%M')}"
    )

    sc = _worker(sc_python, "stream_core", args.runs)
    als = _worker(als_python, "aws_lambda_stream", args.als_runs) if have_als else None

    print(
        f"{SC} {sc['library_version']}: {_rel(sc['python'])}, reactivex {sc['reactivex']}, "
        f"best of {sc['runs']} after {sc['warmup']} warm-up{sc_note}"
    )
    if als is not None:
        print(
            f"{ALS}: {_rel(als['python'])}, reactivex {als['reactivex']}, "
            f"best of {als['runs']} after {als['warmup']} warm-up"
        )
    else:
        print(f"{ALS}: SKIPPED, not installed in {_rel(als_python)} (run it with `make bench`)")
    print(
        f"workload: {sc['records']:,} Kinesis records, {sc['event_bytes']:.0f}-byte JSON events, "
        "all of type thing-created; gc on; no network (guarded)"
    )

    # --- throughput ---------------------------------------------------------------------
    print()
    print("Throughput")
    print(_row("case", "best ms", "median ms", "records/s", "x hand loop", "target"))

    def line(
        label: str, side: dict[str, Any], case: str, target: float | None, ref: str = ""
    ) -> None:
        best, median = side["best"][case], side["median"][case]
        ratio = best / side["best"]["a"]
        if target is not None:
            goal = f"<= {target:g}x"
            verdict = _verdict(ratio <= target)
        else:
            goal, verdict = (f"ref {ref}" if ref else ""), ""
        print(
            _row(
                label,
                f"{best * 1e3:.1f}",
                f"{median * 1e3:.1f}",
                f"{side['records'] / best:,.0f}",
                f"{ratio:.2f}x",
                goal,
                verdict,
            )
        )

    line("(a) hand loop: b64 + json.loads + execute", sc, "a", None)
    line(f"(b) {SC}, 1 task rule", sc, "b", TARGET_B)
    line(f"(c) {SC}, 10 task rules, 1 matches", sc, "c", TARGET_C)
    if als is not None:
        line("(a) hand loop, in the 1.4.0 process", als, "a", None)
        line("(d) aws-lambda-stream 1.4.0, case (b)", als, "b", None, REFERENCE["b"])
        line("(d) aws-lambda-stream 1.4.0, case (c)", als, "c", None, REFERENCE["c"])
        print(
            f"  {SC} vs {ALS}: (b) {als['best']['b'] / sc['best']['b']:.0f}x faster, "
            f"(c) {als['best']['c'] / sc['best']['c']:.0f}x faster"
        )
    print("  (ratios: each library against the hand loop timed in its own process)")

    print()
    print("Breakdown (best ms, and per record)")

    def part(label: str, side: dict[str, Any], case: str) -> None:
        best = side["best"][case]
        print(_row(label, f"{best * 1e3:.1f}", "", f"{best / side['records'] * 1e6:.2f} us/rec"))

    part("decode by hand: [loads(b64decode(d)) ...]", sc, "decode_hand")
    part(f"{SC} from_kinesis(event)", sc, "decode")
    part(f"{SC} assemble(decoded), case (c)", sc, "pipeline_c")
    if als is not None:
        part("aws-lambda-stream 1.4.0 from_kinesis(event)", als, "decode")

    # --- cold import --------------------------------------------------------------------
    commands = {
        "sc_boto3": (sc_python, "import boto3"),
        "sc_handler": (sc_python, "import _handler_stream_core"),
        "sc_handler_boto3": (sc_python, "import _handler_stream_core\nimport boto3"),
    }
    if als is not None:
        commands["als_boto3"] = (als_python, "import boto3")
        commands["als_handler"] = (als_python, "import _handler_aws_lambda_stream")
        commands["als_handler_boto3"] = (
            als_python,
            "import _handler_aws_lambda_stream\nimport boto3",
        )
    imports = _import_times(commands, args.import_runs)

    print()
    print(
        f"Cold import (fresh interpreter each, median of {args.import_runs} after a warm-up; "
        "bench/_handler_*.py)"
    )
    print(_row("module", "ms", "", "x boto3", "boto3 loaded", "target"))

    def imp(label: str, key: str, base: str, target: float | None, note: str = "") -> None:
        ms = imports[key][0] * 1e3
        ratio = imports[key][0] / imports[base][0]
        if target is not None:
            goal, verdict = f"<= {target:g}x", _verdict(ratio <= target)
        elif note == "info":  # not a target, but say where it stands against the import one
            word = "within" if ratio <= TARGET_IMPORT else "above"
            goal, verdict = "info", f"({word} {TARGET_IMPORT:g}x)"
        else:
            goal, verdict = note, ""
        loaded = "yes" if imports[key][1] else "no"
        print(_row(label, f"{ms:.1f}", "", f"{ratio:.2f}x", loaded, goal, verdict))

    imp(f"import boto3 ({_rel(sc_python)})", "sc_boto3", "sc_boto3", None)
    imp(f"{SC} handler module", "sc_handler", "sc_boto3", TARGET_IMPORT)
    imp(f"{SC} handler module + import boto3", "sc_handler_boto3", "sc_boto3", None, "info")
    if als is not None:
        imp(f"import boto3 ({_rel(als_python)})", "als_boto3", "als_boto3", None)
        imp(f"{ALS} handler module", "als_handler", "als_boto3", None, f"ref {REFERENCE['import']}")
        imp("1.4.0 handler module + import boto3", "als_handler_boto3", "als_boto3", None, "info")
    print(
        "  (both libraries import boto3 only when they create their first client: the first\n"
        "   invocation that publishes pays the '+ import boto3' line, not the handler line)"
    )

    # --- memory -------------------------------------------------------------------------
    print()
    print("Peak memory of one call (tracemalloc, above what existed before the call)")
    print(_row("call", "MiB", "", "", "", "target"))

    def mem(
        label: str, side: dict[str, Any], case: str, target: float | None, note: str = ""
    ) -> None:
        mib = side["memory"][case] / MIB
        if target is not None:
            goal, verdict = f"<= {target:g} MiB", _verdict(mib <= target)
        else:
            goal, verdict = note, ""
        print(_row(label, f"{mib:.1f}", "", "", "", goal, verdict))

    mem("(a) hand loop (keeps nothing)", sc, "a", None)
    mem("decoded batch by hand (list of json.loads)", sc, "decode_hand", None, "floor")
    mem(f"{SC} from_kinesis(event) alone", sc, "decode", None)
    mem(f"(c) {SC}: from_kinesis + assemble", sc, "c", TARGET_MEMORY_MIB)
    if als is not None:
        mem("1.4.0 from_kinesis(event) alone", als, "decode", None)
        mem("(c) 1.4.0: from_kinesis + assemble", als, "c", None, f"ref {REFERENCE['memory']}")

    print()
    print(f"total bench time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
