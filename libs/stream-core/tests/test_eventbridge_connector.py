"""EventBridge connector: limits, partial-failure retries, outage; against moto and Stubber."""

import json

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from stream_core.connectors import EventBridgeConnector, RetryPolicy
from stream_core.connectors.eventbridge import MAX_REQUEST_BYTES, entry_size

NO_WAIT = RetryPolicy(max_attempts=4, base_delay=0)


def entry(i, detail_bytes=50, bus="test-bus"):
    detail = json.dumps({"type": "thing-created", "n": i, "pad": "x" * detail_bytes})
    return {"EventBusName": bus, "Source": "test", "DetailType": "thing-created", "Detail": detail}


def count_requests(client):
    sent = []
    client.meta.events.register("before-send.events.PutEvents", lambda **kw: sent.append(1))
    return sent


def test_57_entries_take_6_calls_and_all_arrive(event_bus):
    client = boto3.client("events")
    sent = count_requests(client)
    connector = EventBridgeConnector(client=client, retry=NO_WAIT)
    failed = connector.put_events([entry(i) for i in range(57)])
    assert failed == []
    assert connector.calls == 6
    assert len(sent) == 6
    assert sorted(e["n"] for e in event_bus.events()) == list(range(57))


def test_1234_entries_take_ceil_1234_over_10_calls(aws):
    # no rule on this bus: moto answers fast when it delivers nowhere
    boto3.client("events").create_event_bus(Name="test-bus")
    connector = EventBridgeConnector(retry=NO_WAIT)
    assert connector.put_events([entry(i, 10) for i in range(1234)]) == []
    assert connector.calls == 124


def test_byte_limit_splits_requests(event_bus):
    # a 255 KB entry goes alone; three ~100 KB entries go two + one
    big = entry(0, 255 * 1024 - 200)
    assert 255 * 1024 - 256 < entry_size(big) <= MAX_REQUEST_BYTES
    client = boto3.client("events")
    bodies = []
    client.meta.events.register(
        "provide-client-params.events.PutEvents",
        lambda params, **kw: bodies.append(len(params["Entries"])),
    )
    connector = EventBridgeConnector(client=client, retry=NO_WAIT)
    medium = [entry(i, 100 * 1024) for i in range(1, 4)]
    assert connector.put_events([big, *medium]) == []
    assert bodies == [1, 2, 1]


def test_entry_over_the_limit_fails_without_a_call(event_bus):
    connector = EventBridgeConnector(retry=NO_WAIT)
    failed = connector.put_events([entry(0, MAX_REQUEST_BYTES), entry(1)])
    assert [(f.index, f.code, f.retryable) for f in failed] == [(0, "EntryTooLarge", False)]
    assert connector.calls == 1
    assert [e["n"] for e in event_bus.events()] == [1]


def stubbed():
    client = boto3.client("events", region_name="us-east-1")
    return client, Stubber(client)


def test_only_failed_entries_are_retried():
    client, stub = stubbed()
    entries = [entry(i) for i in range(4)]
    stub.add_response(
        "put_events",
        {
            "FailedEntryCount": 2,
            "Entries": [
                {"EventId": "a"},
                {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"},
                {"EventId": "c"},
                {"ErrorCode": "InternalFailure", "ErrorMessage": "oops"},
            ],
        },
        {"Entries": entries},
    )
    stub.add_response(
        "put_events",
        {"FailedEntryCount": 0, "Entries": [{"EventId": "b"}, {"EventId": "d"}]},
        {"Entries": [entries[1], entries[3]]},
    )
    with stub:
        failed = EventBridgeConnector(client=client, retry=NO_WAIT).put_events(entries)
    stub.assert_no_pending_responses()
    assert failed == []


def test_persistent_and_permanent_failures_are_reported():
    client, stub = stubbed()
    entries = [entry(i) for i in range(3)]
    throttled = {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}
    stub.add_response(
        "put_events",
        {
            "FailedEntryCount": 2,
            "Entries": [
                {"EventId": "a"},
                throttled,
                {"ErrorCode": "MalformedDetail", "ErrorMessage": "bad json"},
            ],
        },
        {"Entries": entries},
    )
    for _ in range(3):  # entry 1 keeps failing on every retry
        stub.add_response(
            "put_events", {"FailedEntryCount": 1, "Entries": [throttled]}, {"Entries": [entries[1]]}
        )
    sleeps = []
    policy = RetryPolicy(max_attempts=4, base_delay=0.01, sleep=sleeps.append)
    with stub:
        failed = EventBridgeConnector(client=client, retry=policy).put_events(entries)
    stub.assert_no_pending_responses()
    assert [(f.index, f.code, f.retryable) for f in failed] == [
        (1, "ThrottlingException", True),
        (2, "MalformedDetail", False),
    ]
    assert len(sleeps) == 3
    assert all(0 <= s <= 0.01 * 2**i for i, s in enumerate(sleeps))


def test_non_retryable_request_error_fails_at_once():
    client, stub = stubbed()
    stub.add_client_error("put_events", "ResourceNotFoundException", "no bus", 400)
    with stub:
        failed = EventBridgeConnector(client=client, retry=NO_WAIT).put_events([entry(0)])
    assert [(f.code, f.retryable) for f in failed] == [("ResourceNotFoundException", False)]


def test_total_outage_reports_every_entry_as_retryable(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    client = boto3.client(
        "events",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",  # nothing listens on the discard port
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    connector = EventBridgeConnector(client=client, retry=NO_WAIT)
    failed = connector.put_events([entry(i) for i in range(12)])
    assert len(failed) == 12
    assert all(f.retryable for f in failed)
    assert connector.calls == 2 * NO_WAIT.max_attempts  # two chunks, each tried 4 times


@pytest.mark.parametrize("max_in_flight", [1, 4])
def test_concurrency_bound_is_respected(event_bus, max_in_flight):
    import threading
    import time

    client = boto3.client("events")
    active, peak, lock = [0], [0], threading.Lock()

    def before(**kw):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.01)

    def after(**kw):
        with lock:
            active[0] -= 1

    client.meta.events.register("before-call.events.PutEvents", before)
    client.meta.events.register("after-call.events.PutEvents", after)
    connector = EventBridgeConnector(client=client, retry=NO_WAIT, max_in_flight=max_in_flight)
    assert connector.put_events([entry(i) for i in range(100)]) == []
    assert peak[0] == max_in_flight


def test_chunk_respects_both_limits_and_order():
    from stream_core.connectors import chunk

    requests, too_large = chunk([5, 5, 5, 20, 1, 1, 1, 1], max_entries=3, max_bytes=12)
    assert requests == [[0, 1], [2, 4, 5], [6, 7]]
    assert too_large == [3]
