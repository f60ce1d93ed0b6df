"""`make demo`: examples/demo.py runs end to end on a moto_server and cleans up after itself.

The demo is run as a subprocess with this interpreter; the assertions are on what it prints
(counts read back from the EventBridge bus, the Lambda answers) and on the moto_server
process it started being gone afterwards, also when the demo is interrupted with Ctrl-C.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "examples" / "demo.py"

SERVER_LINE = re.compile(r"^moto_server\s+pid (\d+) on http://127\.0\.0\.1:(\d+) ")


def _gone(pid: int) -> bool:
    """Whether ``pid`` no longer runs (a zombie, or a reused pid not running moto, count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return "State:\tZ" in status or b"moto.server" not in cmdline


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture(scope="module")
def demo() -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, str(DEMO)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=45,
    )
    run.elapsed = time.monotonic() - started  # type: ignore[attr-defined]
    return run


def _server(output: str) -> tuple[int, int]:
    for line in output.splitlines():
        match = SERVER_LINE.match(line)
        if match:
            return int(match[1]), int(match[2])
    raise AssertionError(f"no moto_server line in:\n{output}")


def _bus_groups(output: str) -> dict[str, int]:
    """``{type: count}`` from the "events on the bus" section (lines ``  <type> x<n>``)."""
    section = output.split("== events on the bus", 1)[1].split("== summary", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^  (\S+) x(\d+)$", section, re.M)}


def _summary(output: str, label: str) -> int:
    match = re.search(rf"^{re.escape(label)}\s+(\d+)\s", output, re.M)
    assert match, f"no summary line {label!r}"
    return int(match[1])


def test_demo_succeeds_quickly(demo: subprocess.CompletedProcess[str]) -> None:
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert demo.elapsed < 30  # type: ignore[attr-defined]
    assert "Traceback" not in demo.stdout + demo.stderr


def test_every_published_type_is_read_back_from_the_bus(
    demo: subprocess.CompletedProcess[str],
) -> None:
    assert _bus_groups(demo.stdout) == {
        "thing-processed": 3,  # process-thing: t-1, t-2 and the poison t-3
        "thing-activated": 2,  # the dot-path filter kept status=active only
        "thing-imported": 5,  # a list emit: 2 + 3 things; the throttled message none
        "thing-created": 1,  # cdc of the DynamoDB INSERT/MODIFY/REMOVE
        "thing-updated": 1,
        "thing-deleted": 1,
        "fault": 2,  # the poison event and the malformed record
    }


def test_faults_name_the_rule_and_the_error(demo: subprocess.CompletedProcess[str]) -> None:
    section = demo.stdout.split("  fault x2", 1)[1].split("== summary", 1)[0]
    rows = [line.split() for line in section.strip().splitlines()[1:]]
    assert sorted(row[3] for row in rows) == ["(decoding)", "validate-thing"]
    assert "ValueError: thing t-3" in section
    assert "MalformedRecordError:" in section


def test_summary_and_checks(demo: subprocess.CompletedProcess[str]) -> None:
    out = demo.stdout
    assert _summary(out, "records in") == 13
    assert _summary(out, "rules matched") == 17
    assert _summary(out, "events published") == 13
    assert _summary(out, "faults stored") == 2
    assert _summary(out, "records handed back to Lambda") == 1
    checks = out.split("\nchecks\n", 1)[1].splitlines()
    results = [line.split()[0] for line in checks if line.startswith("  ")]
    assert results == ["ok", "ok", "ok"], out


def _demo_module() -> Any:
    spec = importlib.util.spec_from_file_location("examples_demo", DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # only definitions: main() runs under __main__
    return module


def test_lambda_answers(demo: subprocess.CompletedProcess[str]) -> None:
    answers = re.findall(r"^Lambda answer \(\d+ ms\): (.*)$", demo.stdout, re.M)
    throttled = _demo_module().sqs_batch()["Records"][1]  # the wh-north message
    assert "wh-north" in throttled["body"]
    assert [json.loads(answer) for answer in answers] == [
        {"batchItemFailures": []},  # kinesis: faults were stored, nothing to retry
        {"batchItemFailures": [{"itemIdentifier": throttled["messageId"]}]},
        {"batchItemFailures": []},  # dynamodb
    ]


def test_moto_server_is_stopped(demo: subprocess.CompletedProcess[str]) -> None:
    pid, port = _server(demo.stdout)
    assert f"moto_server stopped (pid {pid}," in demo.stdout
    assert _gone(pid)
    assert not _listening(port)


def test_ctrl_c_stops_moto_server_too() -> None:
    process = subprocess.Popen(
        [sys.executable, str(DEMO)],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line)
            if SERVER_LINE.match(line):
                break
        pid, port = _server("".join(seen))
        assert not _gone(pid)
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = "".join(seen) + rest
    assert process.returncode == 130, output
    assert "interrupted" in output
    assert f"moto_server stopped (pid {pid}," in output
    assert _gone(pid)
    assert not _listening(port)
