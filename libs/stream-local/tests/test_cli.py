"""The command line: durations, the attach commands against the session's moto_server, and
`stream-local up` as a real process (moto, serverless, deploy, live log, Ctrl-C)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from stream_local.cli import main, parse_duration
from stream_local.local import load_clock
from stream_local.registry import STATE_BUCKET
from stream_local.runtime import wait_for

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("+2h", 7200),
        ("-30m", -1800),
        ("90s", 90),
        ("1d12h", 129600),
        ("3600", 3600),
        ("+1.5h", 5400),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_bad_durations_are_rejected():
    with pytest.raises(Exception, match="not a duration"):
        parse_duration("2 hours")


@pytest.mark.integration
def test_send_clock_and_ls_attach_to_a_running_endpoint(cloud, aws, capsys):
    bus = aws.name("bus")
    cloud.client("events").create_event_bus(Name=bus)
    inbox_url, inbox_arn = aws.queue()
    cloud.client("events").put_rule(
        Name="all", EventBusName=bus, EventPattern='{"source": [{"prefix": ""}]}'
    )
    cloud.client("events").put_targets(
        Rule="all", EventBusName=bus, Targets=[{"Id": "q", "Arn": inbox_arn}]
    )
    event = {"type": "thing-created", "id": "t-1", "tags": {"source": "cli-test"}}
    assert main(["send", json.dumps(event), "--bus", bus, "--endpoint", cloud.endpoint]) == 0
    (envelope,) = aws.drain(inbox_url)
    assert envelope["detail"] == event and envelope["source"] == "cli-test"
    assert envelope["detail-type"] == "thing-created"

    before = load_clock(cloud) or 0
    assert main(["clock", "+2h", "--endpoint", cloud.endpoint]) == 0
    assert load_clock(cloud) == before + 7200
    main(["clock", "0", "--absolute", "--endpoint", cloud.endpoint])
    assert main(["ls", "--endpoint", cloud.endpoint]) == 0
    assert f"moto endpoint {cloud.endpoint}" in capsys.readouterr().out


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_up_runs_the_service_until_interrupted(tmp_path):
    env = {**os.environ, "NO_COLOR": "1"}
    up = [sys.executable, "-m", "stream_local.cli", "up", str(FIXTURES / "hub")]
    process = subprocess.Popen(
        [*up, "--rest-port", "0", "--lambda-port", "0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    threading.Thread(
        target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True
    ).start()
    try:
        assert wait_for(lambda: any("==> up in" in line for line in lines), timeout=90), lines
        endpoint_file = tmp_path / ".stream-local" / "endpoint"
        endpoint = endpoint_file.read_text()
        event = {"type": "thing-created", "id": "from-cli", "partition_key": "p"}
        subprocess.run(
            [
                sys.executable,
                "-m",
                "stream_local.cli",
                "send",
                json.dumps(event),
                "--endpoint",
                endpoint,
            ],
            check=True,
            capture_output=True,
        )
        delivered = wait_for(
            lambda: [line for line in lines if "kinesis:" in line and "listener" in line],
            timeout=20,
        )
        assert delivered and "1 record" in delivered[0] and " ok " in delivered[0], lines
        # the printed Lambda endpoint answers Invoke
        (export,) = [line for line in lines if "export AWS_ENDPOINT_URL_LAMBDA=" in line]
        url = export.split("=", 1)[1].split()[0]
        request = urllib.request.Request(
            f"{url}/2015-03-31/functions/sl-fixture-hub-local-listener/invocations",
            data=b"{}",
            headers={"X-Amz-Invocation-Type": "DryRun"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204
        # `invoke` goes through up's Invoke API: up's warm worker, in up's live log
        assert (tmp_path / ".stream-local" / "lambda-endpoint").read_text() == url
        invoked = subprocess.run(
            [
                sys.executable,
                "-m",
                "stream_local.cli",
                "invoke",
                "sl-fixture-hub-local-listener",
                '{"Records": []}',
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert invoked.returncode == 0, invoked.stderr
        assert json.loads(invoked.stdout) == {"batchItemFailures": []}
        assert wait_for(
            lambda: [line for line in lines if "lambda:Invoke" in line and "listener" in line],
            timeout=10,
        ), lines
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
    assert code == 0, lines
    assert any("==> stopping" in line for line in lines)
    assert not (tmp_path / ".stream-local" / "endpoint").exists()
    assert not (tmp_path / ".stream-local" / "lambda-endpoint").exists()
    steps = [line.split(" (")[0].strip() for line in lines if line.startswith("==> ")]
    assert steps[1:4] == [
        "==> packaging hub",
        "==> deploying sl-fixture-hub",
        steps[3],  # "==> up in N s; endpoint ..."
    ] and steps[3].startswith("==> up in")


@pytest.mark.integration
def test_invoke_runs_one_function_of_the_running_system(
    cloud, journal, journal_function, registry_of, capsys, tmp_path, monkeypatch
):
    registry = registry_of("cli-invoke", [journal_function("fn-cli-invoke", journal)])
    registry.save(cloud)
    # an `up` of this system that died without cleaning up: its Invoke API does not answer,
    # so `invoke` runs the function itself
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".stream-local").mkdir()
    (tmp_path / ".stream-local" / "endpoint").write_text(cloud.endpoint)
    (tmp_path / ".stream-local" / "lambda-endpoint").write_text("http://127.0.0.1:9")
    try:
        code = main(["invoke", "fn-cli-invoke", '{"n": 5}', "--endpoint", cloud.endpoint])
        assert code == 0
        assert json.loads(capsys.readouterr().out) == {"batchItemFailures": []}
        assert journal.batches() == [[5]]
        failing = main(["invoke", "fn-cli-invoke", '{"fail": true}', "--endpoint", cloud.endpoint])
        assert failing == 1
    finally:  # the session's other tests load the registry too
        key = "deployments/cli-invoke-local.json"
        cloud.client("s3").delete_object(Bucket=STATE_BUCKET, Key=key)
