"""``python -m event_fault_monitor.faults``: list (filters, newest first), show, and resubmit
through Lambda (moto's Docker-free backend, which answers with the payload it was sent)."""

import io
import json

import boto3
import pytest
from fault_builders import FUNCTION, faults_of, kinesis_batch, sqs_batch

from event_fault_monitor.faults import main, parse_time, resubmit
from event_fault_monitor.keys import fault_key
from stream_core.connectors import LambdaConnector, LambdaFunctionError, RetryPolicy
from stream_core.events.sqs import from_sqs

BASE = 1764064800000  # 2025-11-25T10:00:00Z


def saved(store, fault, timestamp):
    fault["timestamp"] = timestamp
    store.save(fault)
    return fault_key(fault)


@pytest.fixture
def stored(faults_store):
    """Three faults: two of the listener (10:00, 12:00), one of the trigger (11:00)."""
    batch = kinesis_batch("o-1", "o-2")
    first, second = faults_of(batch)
    other = faults_of(sqs_batch("o-3"), source=from_sqs, pipeline="cdc")[0]
    other["tags"]["functionname"] = "rest-bff-dev-trigger"
    return {
        "first": saved(faults_store, first, BASE),
        "second": saved(faults_store, second, BASE + 2 * 3600_000),
        "other": saved(faults_store, other, BASE + 3600_000),
    }


def run(*argv):
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def keys_listed(*argv):
    code, text = run("list", "--json", *argv)
    assert code == 0
    return [json.loads(line)["pk"] for line in text.splitlines()]


def test_list_is_newest_first_and_filters(stored):
    assert keys_listed() == [stored["second"], stored["other"], stored["first"]]
    assert keys_listed("--function", FUNCTION) == [stored["second"], stored["first"]]
    assert keys_listed("--pipeline", "cdc") == [stored["other"]]
    assert keys_listed("--since", "2025-11-25T10:30:00Z") == [stored["second"], stored["other"]]
    assert keys_listed("--function", FUNCTION, "--since", "2025-11-25T11:00") == [stored["second"]]
    assert keys_listed("--function", FUNCTION, "--pipeline", "cdc") == []
    assert keys_listed("--status", "resubmitted") == []


def test_list_prints_one_line_per_fault(stored):
    code, text = run("list", "--function", FUNCTION)
    lines = text.splitlines()
    assert code == 0 and lines[-1] == "2 fault(s)"
    assert lines[0].startswith("2025-11-25T12:00:00.000+00:00  " + stored["second"] + "  open  ")
    assert f"{FUNCTION}/materialize-order  order-ready  KeyError: 'order'" in lines[0]


def test_show_prints_the_index_item_and_the_whole_fault(stored):
    code, text = run("show", stored["other"])
    shown = json.loads(text)
    assert code == 0
    assert shown["index"]["pk"] == stored["other"]
    assert shown["fault"]["uow"]["record"]["eventSource"] == "aws:sqs"
    assert run("show", "nope") == (1, "no fault nope\n")


@pytest.fixture
def functions(aws, monkeypatch):
    from moto.core.config import default_user_config

    monkeypatch.setitem(default_user_config, "lambda", {"use_docker": False})
    return LambdaConnector(client=boto3.client("lambda"), retry=RetryPolicy(max_attempts=1))


def answer(text):
    """The next invocation answers ``text``."""
    from moto.awslambda_simple.models import lambda_simple_backends

    lambda_simple_backends["123456789012"]["us-east-1"].lambda_simple_results_queue.append(text)


class Recorder:
    """A LambdaConnector that remembers what it invoked."""

    def __init__(self, functions):
        self.functions = functions
        self.calls = []

    def invoke(self, name, event):
        self.calls.append((name, event))
        return self.functions.invoke(name, event)


def test_resubmit_invokes_the_function_that_failed_with_the_record_and_marks_it(
    faults_store, stored, functions
):
    recorder = Recorder(functions)
    ok, message = resubmit(faults_store, stored["first"], functions=recorder)
    assert (ok, message) == (True, f"{stored['first']}: resubmitted to {FUNCTION}")
    record = faults_store.fault(faults_store.get(stored["first"]))["uow"]["record"]
    assert record["eventSource"] == "aws:kinesis"
    assert recorder.calls == [(FUNCTION, {"Records": [record]})]
    item = faults_store.get(stored["first"])
    assert item["status"] == "resubmitted"
    assert item["resubmitted_to"] == FUNCTION
    assert item["resubmissions"] == 1
    assert keys_listed("--status", "resubmitted") == [stored["first"]]


def test_resubmit_to_another_function(faults_store, stored, functions):
    recorder = Recorder(functions)
    ok, _ = resubmit(faults_store, stored["other"], function="fixed-trigger", functions=recorder)
    record = faults_store.fault(faults_store.get(stored["other"]))["uow"]["record"]
    assert ok
    assert recorder.calls == [("fixed-trigger", {"Records": [record]})]  # an SQS batch
    assert faults_store.get(stored["other"])["resubmitted_to"] == "fixed-trigger"


def test_a_function_that_fails_again_leaves_the_fault_open(faults_store, stored):
    class Failing:
        def invoke(self, name, event):
            error = {"errorType": "KeyError", "errorMessage": "'order'"}
            raise LambdaFunctionError(name, "Unhandled", error)

    ok, message = resubmit(faults_store, stored["first"], functions=Failing())
    assert not ok
    assert "failed again" in message and "KeyError" in message
    assert faults_store.get(stored["first"])["status"] == "open"


def test_a_record_handed_back_leaves_the_fault_open(faults_store, stored, functions):
    answer(json.dumps({"batchItemFailures": [{"itemIdentifier": "1"}]}))
    ok, message = resubmit(faults_store, stored["first"], functions=functions)
    assert not ok and "handed the record back" in message
    assert faults_store.get(stored["first"])["status"] == "open"


def test_resubmit_command_dry_run_and_unknown_keys(stored, monkeypatch):
    code, text = run("resubmit", stored["first"], "--dry-run")
    assert code == 0
    assert text.startswith(f'{stored["first"]}: would invoke {FUNCTION} with {{"Records": [')
    assert status(stored["first"]) == "open"
    code, text = run("resubmit", "nope", stored["first"], "--dry-run")
    assert code == 1 and text.startswith("nope: no such fault\n")


def status(key):
    from event_fault_monitor.rules import store

    return store().get(key)["status"]


def test_resubmit_command_invokes_lambda(stored, functions):
    code, text = run("resubmit", stored["first"], stored["second"])
    assert code == 0, text
    assert text.splitlines() == [
        f"{stored['first']}: resubmitted to {FUNCTION}",
        f"{stored['second']}: resubmitted to {FUNCTION}",
    ]


def test_times_are_iso_or_durations_ago():
    assert parse_time("2025-11-25T10:00:00Z") == BASE
    assert parse_time("2025-11-25T10:00:00") == BASE  # UTC unless it says otherwise
    assert parse_time("2025-11-25T11:00:00+01:00") == BASE
    assert parse_time("6h", now=BASE / 1000) == BASE - 6 * 3600_000
    assert parse_time("2d", now=BASE / 1000) == BASE - 2 * 86400_000


def test_resubmit_open_resubmits_every_open_fault_oldest_first(stored, functions):
    code, text = run("resubmit", "--open", "--dry-run")
    assert code == 0
    # oldest first: 10:00, 11:00, 12:00
    order = [line.split(":", 1)[0] for line in text.splitlines()[:-1]]
    assert order == [stored["first"], stored["other"], stored["second"]]
    assert text.splitlines()[-1] == "3 of 3 open fault(s) resubmitted"
    assert status(stored["first"]) == "open"  # a dry run changes nothing

    code, text = run("resubmit", "--open", "--failed-in", FUNCTION, "--since", "2025-11-25T11:00")
    assert code == 0, text
    assert text.splitlines() == [
        f"{stored['second']}: resubmitted to {FUNCTION}",
        "1 of 1 open fault(s) resubmitted",
    ]
    # what is resubmitted is no longer open: the next --open leaves it alone
    code, text = run("resubmit", "--open", "--failed-in", FUNCTION)
    assert code == 0 and text.splitlines() == [
        f"{stored['first']}: resubmitted to {FUNCTION}",
        "1 of 1 open fault(s) resubmitted",
    ]
    code, text = run("resubmit", "--open", "--pipeline", "cdc", "--dry-run")
    assert text.splitlines()[0].startswith(f"{stored['other']}: would invoke rest-bff-dev-trigger")


def test_resubmit_needs_keys_or_open_but_not_both(stored):
    assert run("resubmit") == (2, "resubmit: name fault KEYs or pass --open, not both\n")
    assert run("resubmit", stored["first"], "--open")[0] == 2
