"""Replay from the lake (moto in-process): which objects are read, which events are kept,
and delivery onto a bus (read back with BusCapture) or into a function (moto's
Docker-free Lambda, which echoes its payload)."""

import io
import json

import boto3
import pytest

from event_lake_s3.lake import day_prefixes, decode_object
from event_lake_s3.replay import REPLAY_SOURCE, main, parse_time, replay_to_function
from stream_core.connectors import LambdaConnector, LambdaFunctionError, RetryPolicy

T0 = parse_time("2025-11-25T10:00:00Z")
HOUR = 3600_000


def event(n, event_type="order-submitted", at=None):
    return {
        "id": f"e-{n}",
        "type": event_type,
        "timestamp": T0 + n * 60_000 if at is None else at,
        "partition_key": f"o-{n}",
        "order": {"id": f"o-{n}"},
    }


def run(*argv):
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_day_prefixes_cover_a_day_before_and_the_slack_after():
    assert day_prefixes(T0, T0 + HOUR, slack_days=1) == [
        "events/2025/11/24/",
        "events/2025/11/25/",
        "events/2025/11/26/",
    ]
    assert day_prefixes(T0, T0 + HOUR, slack_days=0, types=["a", "b"]) == [
        "events/2025/11/24/a/",
        "events/2025/11/24/b/",
        "events/2025/11/25/a/",
        "events/2025/11/25/b/",
    ]
    # --to is exclusive: midnight does not add the next day
    midnight = parse_time("2025-11-26T00:00:00Z")
    assert day_prefixes(T0, midnight, slack_days=0)[-1] == "events/2025/11/25/"


def test_objects_decode_gzipped_or_plain_one_event_per_line():
    import gzip

    body = b'{"id": "a", "type": "x"}\n\n{"id": "b", "type": "x"}\nnot json\n[1]\n'
    assert list(decode_object(body)) == [
        {"id": "a", "type": "x"},
        {"id": "b", "type": "x"},
        None,
        None,
    ]
    assert list(decode_object(gzip.compress(body))) == list(decode_object(body))


@pytest.fixture
def stored(lake):
    """Events 0..9 at T0 + n minutes, spread over objects and types, with a late arrival
    (next day), a Firehose duplicate, an unreadable line, and events outside the range."""
    lake.write("2025/11/25", "order-submitted", [event(n) for n in (0, 2, 4, 6)])
    lake.write(
        "2025/11/25",
        "order-ready",
        [event(n, "order-ready") for n in (1, 3, 5)],
        gz=False,
        extra_lines=["garbage"],
    )
    lake.write("2025/11/25", "order-submitted", [event(4), event(8)])  # 4 again: at least once
    lake.write("2025/11/26", "order-ready", [event(7, "order-ready")])  # arrived a day late
    lake.write("2025/11/25", "order-submitted", [event(0, at=T0 - 1), event(0, at=T0 + 2 * HOUR)])
    lake.write("2025/11/20", "order-submitted", [event(9, at=T0 + 9 * 60_000)])  # not listed
    return lake


def test_replay_to_the_bus_puts_the_range_once_in_order(stored, event_bus):
    code, text = run(
        "--from",
        "2025-11-25T10:00:00Z",
        "--to",
        "2025-11-25T11:00:00Z",
        "--bus",
        event_bus.bus_name,
    )
    assert code == 0, text
    envelopes = event_bus.envelopes()
    assert [e["detail"]["id"] for e in envelopes] == [f"e-{n}" for n in range(9)]
    assert [e["detail"]["timestamp"] for e in envelopes] == [T0 + n * 60_000 for n in range(9)]
    assert {e["source"] for e in envelopes} == {REPLAY_SOURCE}
    assert envelopes[1]["detail-type"] == "order-ready"
    assert envelopes[0]["detail"] == event(0)  # as stored
    assert "read 5 object(s)" in text and "1 unreadable, 1 duplicate(s); 9 event(s)" in text
    assert text.splitlines()[-1] == f"put 9 event(s) on {event_bus.bus_name}, 0 failed"


def test_replay_of_some_types_reads_only_their_prefixes(stored, event_bus):
    code, text = run(
        "--from",
        "2025-11-25T10:00:00Z",
        "--to",
        "2025-11-25T11:00:00Z",
        "--type",
        "order-ready",
        "--bus",
        event_bus.bus_name,
    )
    assert code == 0
    assert [e["id"] for e in event_bus.events()] == ["e-1", "e-3", "e-5", "e-7"]
    assert "read 2 object(s)" in text


def test_dry_run_lists_and_sends_nothing(stored, event_bus):
    code, text = run(
        "--from",
        "2025-11-25T10:00:00Z",
        "--to",
        "2025-11-25T10:03:00Z",
        "--bus",
        event_bus.bus_name,
        "--dry-run",
    )
    assert code == 0
    assert text.splitlines()[1:] == [
        "  2025-11-25T10:00:00.000+00:00  order-submitted  e-0",
        "  2025-11-25T10:01:00.000+00:00  order-ready  e-1",
        "  2025-11-25T10:02:00.000+00:00  order-submitted  e-2",
    ]
    assert event_bus.events() == []


def test_the_bus_defaults_to_BUS_NAME_and_the_range_must_be_ordered(stored, event_bus):
    code, _ = run("--from", "2025-11-25T10:00:00Z", "--to", "2025-11-25T10:01:00Z")
    assert code == 0
    assert [e["id"] for e in event_bus.events()] == ["e-0"]
    assert run("--from", "2025-11-25T10:00:00Z", "--to", "2025-11-25T09:00:00Z")[0] == 2


@pytest.fixture
def functions(aws, monkeypatch):
    from moto.core.config import default_user_config

    monkeypatch.setitem(default_user_config, "lambda", {"use_docker": False})
    return LambdaConnector(client=boto3.client("lambda"), retry=RetryPolicy(max_attempts=1))


class Recorder:
    """Invokes through moto (which echoes the payload) unless ``answers`` says otherwise."""

    def __init__(self, functions, answers=()):
        self.functions = functions
        self.answers = list(answers)
        self.calls = []

    def invoke(self, name, payload):
        self.calls.append((name, payload))
        if self.answers:
            answer = self.answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer(payload) if callable(answer) else answer
        return self.functions.invoke(name, payload)


def decoded(payload):
    from stream_core.events.kinesis import from_kinesis

    return [uow["event"]["id"] for uow in from_kinesis(payload)]


def test_replay_to_a_function_sends_kinesis_batches_in_order(functions):
    events = [event(n) for n in range(7)]
    recorder = Recorder(functions)
    done = replay_to_function(events, "rest-bff-dev-listener", functions=recorder, batch_size=3)
    assert (done.sent, done.failed, done.invocations) == (7, [], 3)
    assert [name for name, _ in recorder.calls] == ["rest-bff-dev-listener"] * 3
    assert [decoded(p) for _, p in recorder.calls] == [
        ["e-0", "e-1", "e-2"],
        ["e-3", "e-4", "e-5"],
        ["e-6"],
    ]
    record = recorder.calls[0][1]["Records"][0]
    assert record["eventSource"] == "aws:kinesis"
    assert record["kinesis"]["partitionKey"] == "o-0"


def test_batches_stay_under_lambdas_payload_limit(functions):
    events = [{**event(n), "blob": "x" * 300_000} for n in range(5)]
    recorder = Recorder(functions)
    done = replay_to_function(events, "f", functions=recorder, max_payload=1_000_000)
    assert done.sent == 5
    assert [len(p["Records"]) for _, p in recorder.calls] == [2, 2, 1]
    assert all(len(json.dumps(p)) < 1_000_000 for _, p in recorder.calls)


def test_records_handed_back_are_sent_again_from_the_lowest(functions):
    def hand_back_second(payload):
        return {
            "batchItemFailures": [
                {"itemIdentifier": payload["Records"][1]["kinesis"]["sequenceNumber"]}
            ]
        }

    recorder = Recorder(functions, answers=[hand_back_second])
    done = replay_to_function(
        [event(n) for n in range(3)], "f", functions=recorder, sleep=lambda s: None
    )
    assert (done.sent, done.failed) == (3, [])
    assert [decoded(p) for _, p in recorder.calls] == [["e-0", "e-1", "e-2"], ["e-1", "e-2"]]


def test_a_batch_that_keeps_failing_stops_the_replay_and_reports_the_rest(functions):
    failing = LambdaFunctionError("f", "Unhandled", {"errorType": "KeyError", "errorMessage": "x"})
    recorder = Recorder(functions, answers=[None, failing, failing, failing])
    recorder.answers[0] = lambda payload: {"batchItemFailures": []}
    sleeps = []
    done = replay_to_function(
        [event(n) for n in range(5)], "f", functions=recorder, batch_size=2, sleep=sleeps.append
    )
    assert done.sent == 2
    assert [ident for ident, _ in done.failed] == ["e-2", "e-3", "e-4"]
    assert "KeyError" in done.failed[0][1]
    assert done.invocations == 4 and sleeps == [2.0, 4.0]


def test_replay_command_to_a_function(stored, functions):
    code, text = run(
        "--from",
        "2025-11-25T10:00:00Z",
        "--to",
        "2025-11-25T10:05:00Z",
        "--function",
        "rest-bff-dev-listener",
        "--batch-size",
        "2",
    )
    assert code == 0, text
    assert text.splitlines()[-1] == (
        "invoked rest-bff-dev-listener 3 time(s): 5 event(s) delivered, 0 not"
    )


def test_times():
    assert parse_time("2025-11-25T10:00:00") == T0
    assert parse_time("2025-11-25T11:00:00+01:00") == T0
    assert parse_time("2h", now=T0 / 1000) == T0 - 2 * HOUR
    assert parse_time("now", now=T0 / 1000) == T0
