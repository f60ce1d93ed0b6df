"""Workers: one warm process per function, Lambda's context, timeouts, crashes and a
clean, separate environment per function."""

from __future__ import annotations

import os

import pytest

from stream_local.worker import FunctionSpec, InlineWorker, Worker

CLOUD_ENV = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_REGION": "us-east-1"}


@pytest.fixture
def worker(journal, journal_function):
    started: list[Worker] = []

    def make(name="fn-worker", **kwargs):
        spec = FunctionSpec.from_json(journal_function(name, journal, **kwargs))
        started.append(Worker(spec, CLOUD_ENV))
        return started[-1]

    yield make
    for w in started:
        w.stop()


def test_the_worker_stays_warm_between_invocations(worker, journal):
    w = worker()
    first = w.invoke({"n": 1})
    second = w.invoke({"n": 2})
    assert first.ok and second.ok, (first.error, second.error)
    assert (first.cold_start, second.cold_start) == (True, False)
    pids = {e["pid"] for e in journal.entries()}
    assert pids == {w.pid} and w.pid != os.getpid()


def test_the_context_carries_the_request_id_and_the_remaining_time(worker, journal):
    result = worker(timeout=4).invoke({"n": 1})
    (entry,) = journal.entries()
    assert entry["request_id"] == result.request_id
    assert 3000 < entry["remaining_ms"] <= 4000


def test_a_timeout_kills_the_worker_and_the_next_invocation_starts_a_new_one(worker, journal):
    w = worker(timeout=1)
    w.invoke({"n": 0})
    old_pid = w.pid
    result = w.invoke({"n": 1, "sleep": 5})
    assert result.timed_out and result.error["errorType"] == "Sandbox.Timedout"
    assert result.error["errorMessage"] == "Task timed out after 1.00 seconds"
    assert 0.9 < result.duration < 3
    with pytest.raises(ProcessLookupError):
        os.kill(old_pid, 0)
    again = w.invoke({"n": 2})
    assert again.ok and again.cold_start and w.pid != old_pid and w.starts == 2


def test_a_handler_exception_is_an_error_result_and_the_worker_stays_warm(worker):
    w = worker()
    w.invoke({"n": 0})
    pid = w.pid
    result = w.invoke({"n": 1, "fail": True})
    assert result.error["errorType"] == "ValueError"
    assert "poison record 1" in result.error["errorMessage"]
    assert any("raise ValueError" in line for line in result.error["stackTrace"])
    assert w.pid == pid


def test_a_crashing_worker_is_replaced(worker):
    w = worker()
    result = w.invoke({"n": 1, "exit": True})
    assert result.error["errorType"] == "Runtime.ExitError"
    assert w.invoke({"n": 2}).ok and w.starts == 2


def test_an_import_error_fails_every_invocation_until_fixed(journal, journal_function):
    spec = FunctionSpec.from_json(
        {**journal_function("fn-broken", journal), "handler": "nope.handler"}
    )
    w = Worker(spec, CLOUD_ENV)
    try:
        result = w.invoke({})
        assert result.error["errorType"] == "Runtime.ImportModuleError"
        assert "nope" in result.error["errorMessage"]
    finally:
        w.stop()


def test_two_functions_never_share_environment_or_process(worker, journal, monkeypatch):
    monkeypatch.setenv("STREAM_LOCAL_LEAK_CHECK", "parent-only")
    names = "SECRET,STREAM_LOCAL_LEAK_CHECK,AWS_LAMBDA_FUNCTION_NAME,AWS_ENDPOINT_URL,TZ"
    a = worker("fn-a", env={"SECRET": "a", "JOURNAL_ENV": names})
    b = worker("fn-b", env={"SECRET": "b", "JOURNAL_ENV": names})
    assert a.invoke({}).ok and b.invoke({}).ok and a.invoke({}).ok
    env_a = [e["env"] for e in journal.entries("fn-a")]
    (env_b,) = [e["env"] for e in journal.entries("fn-b")]
    assert (
        env_a[0]
        == env_a[1]
        == {
            "SECRET": "a",
            "STREAM_LOCAL_LEAK_CHECK": None,
            "AWS_LAMBDA_FUNCTION_NAME": "fn-a",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "TZ": "UTC",
        }
    )
    assert env_b["SECRET"] == "b" and env_b["AWS_LAMBDA_FUNCTION_NAME"] == "fn-b"
    assert a.pid != b.pid


def test_the_function_cannot_point_itself_at_real_aws(journal, journal_function):
    fn = journal_function(
        "fn-x", journal, env={"AWS_ENDPOINT_URL": "https://real", "JOURNAL_ENV": "AWS_ENDPOINT_URL"}
    )
    w = Worker(FunctionSpec.from_json(fn), CLOUD_ENV)
    try:
        w.invoke({})
    finally:
        w.stop()
    assert journal.entries()[0]["env"]["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"


def test_inline_worker_runs_in_this_process_with_the_function_environment(
    journal, journal_function
):
    spec = FunctionSpec.from_json(
        journal_function("fn-inline", journal, env={"JOURNAL_ENV": "AWS_LAMBDA_FUNCTION_NAME"})
    )
    w = InlineWorker(spec, CLOUD_ENV)
    result = w.invoke({"n": 1})
    assert result.ok, result.error
    (entry,) = journal.entries()
    assert entry["pid"] == os.getpid()
    assert entry["env"] == {"AWS_LAMBDA_FUNCTION_NAME": "fn-inline"}
    assert (
        "AWS_LAMBDA_FUNCTION_NAME" not in os.environ
        or os.environ["AWS_LAMBDA_FUNCTION_NAME"] != "fn-inline"
    )


def test_an_interactive_worker_has_no_deadline(journal, journal_function):
    spec = FunctionSpec.from_json(journal_function("fn-debug", journal, timeout=1))
    w = Worker(spec, CLOUD_ENV, interactive=True)
    try:
        result = w.invoke({"n": 1, "sleep": 1.3})  # longer than its timeout
    finally:
        w.stop()
    assert result.ok, result.error
    assert journal.entries()[0]["remaining_ms"] == 900_000


def test_the_worker_does_not_import_boto3_or_moto_before_the_handler(journal, journal_function):
    spec = FunctionSpec.from_json(
        {**journal_function("fn-light", journal), "handler": "light.handler"}
    )
    w = Worker(spec, CLOUD_ENV)
    try:
        result = w.invoke({})
    finally:
        w.stop()
    assert result.ok, result.error
    assert result.response == {"boto3": False, "moto": False}
