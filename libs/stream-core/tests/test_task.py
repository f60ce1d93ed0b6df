"""task flavor: execute, result_key, emit (string, callable, list), faults, publishing."""

import boto3
import pytest
from botocore.stub import Stubber

from stream_core.connectors import EventBridgeConnector, RetryPolicy
from stream_core.events.kinesis import from_kinesis, to_kinesis_records
from stream_core.flavors.task import task
from stream_core.pipelines import StreamPipeline, initialize_from
from stream_core.testing import MemoryPublisher
from stream_core.utils.eventbridge import publish_to_event_bridge


def kinesis(n, event_type="thing-created"):
    return from_kinesis(
        to_kinesis_records(
            [
                {"id": f"e{i}", "type": event_type, "timestamp": 1000 + i,
                 "partition_key": f"thing-{i}", "thing": {"id": f"thing-{i}"}}
                for i in range(n)
            ]
        )
    )


def assemble(rule, uows, options=None):
    sink = MemoryPublisher()
    out = []
    result = StreamPipeline(
        initialize_from([{"id": "t", "flavor": task, "event_type": "thing-created", **rule}]),
        {"bus_name": "bus", **sink.options(), **(options or {})},
        concurrency=False,
    ).assemble(uows, on_next=lambda pid, uow: out.append(uow))
    return out, result, sink


def test_execute_result_and_result_key():
    out, _, _ = assemble({"execute": lambda uow, rule: uow["event"]["thing"]["id"]}, kinesis(2))
    assert [u["result"] for u in out] == ["thing-0", "thing-1"]
    out, _, _ = assemble(
        {"execute": lambda uow, rule: rule["id"], "result_key": "task_result"}, kinesis(1)
    )
    assert out[0]["task_result"] == "t" and "result" not in out[0]


def test_exception_in_execute_faults_only_that_record():
    def execute(uow, rule):
        if uow["event"]["id"] == "e1":
            raise RuntimeError("cannot process e1")
        return "ok"

    out, result, sink = assemble({"execute": execute}, kinesis(3))
    assert [u["event"]["id"] for u in out] == ["e0", "e2"]
    assert len(sink.faults) == 1
    fault = sink.faults[0]
    assert fault["type"] == "fault"
    assert fault["err"]["message"] == "cannot process e1"
    assert "RuntimeError" in fault["err"]["stack"]
    assert fault["uow"]["pipeline"] == "t"
    assert fault["uow"]["event"]["id"] == "e1"
    assert fault["uow"]["record"]["kinesis"]["sequenceNumber"]
    assert fault["tags"]["pipeline"] == "t"
    assert result.retry_records == []


def test_emit_string_publishes_template(monkeypatch):
    for name, value in {
        "ACCOUNT_NAME": "dev", "AWS_REGION": "eu-west-1", "STAGE": "test",
        "SERVICE": "things", "AWS_LAMBDA_FUNCTION_NAME": "things-listener",
    }.items():
        monkeypatch.setenv(name, value)
    out, _, sink = assemble({"emit": "thing-processed"}, kinesis(2))
    assert [e["type"] for e in sink.events] == ["thing-processed"] * 2
    first = sink.events[0]
    assert first["partition_key"] == "thing-0"
    assert first["tags"] == {
        "account": "dev", "region": "eu-west-1", "stage": "test", "source": "things",
        "functionname": "things-listener", "pipeline": "t",
    }
    assert len({e["id"] for e in sink.events}) == 2 and first["id"] not in ("e0", "e1")
    assert isinstance(first["timestamp"], int) and first["timestamp"] > 1_600_000_000_000
    assert [u["emit"]["type"] for u in out] == ["thing-processed"] * 2


def test_emit_callable_and_list():
    def emit(uow, rule, template):
        return [
            {**template, "type": "first-event", "thing": uow["event"]["thing"]},
            {**template, "type": "second-event"},
        ]

    out, _, sink = assemble({"execute": lambda u, r: 1, "emit": emit}, kinesis(2))
    assert [e["type"] for e in sink.events] == ["first-event", "second-event"] * 2
    assert sink.events[0]["thing"] == {"id": "thing-0"}
    assert len(out) == 4 and all(u["result"] == 1 for u in out)


def test_exception_in_emit_and_bad_emit_results_fault():
    def emit(uow, rule, template):
        if uow["event"]["id"] == "e0":
            raise ValueError("emit broke")
        if uow["event"]["id"] == "e1":
            return {"no": "type"}
        return {**template, "type": "fine"}

    out, _, sink = assemble({"emit": emit}, kinesis(3))
    assert [e["type"] for e in sink.events] == ["fine"]
    assert sorted(f["err"]["name"] for f in sink.faults) == ["RecordError", "ValueError"]
    assert len(out) == 1


def test_57_emitted_events_are_published_in_6_calls(event_bus):
    client = boto3.client("events")
    calls = []
    client.meta.events.register("before-send.events.PutEvents", lambda **kw: calls.append(1))
    connector = EventBridgeConnector(client=client)

    def publish(params):
        return publish_to_event_bridge(**{**params, "connector": connector})

    rule = {"emit": lambda uow, rule, t: {**t, "type": "thing-done", "n": uow["event"]["id"]}}
    pipeline = StreamPipeline(
        initialize_from([{"id": "t", "flavor": task, "event_type": "thing-created", **rule}]),
        {"bus_name": event_bus.bus_name, "publish": publish},
    )
    result = pipeline.assemble(kinesis(57))
    assert len(calls) == 6
    assert result.faults == [] and result.retry_records == []
    published = event_bus.events("thing-done")
    assert sorted(e["n"] for e in published) == sorted(f"e{i}" for i in range(57))
    assert {e["tags"]["pipeline"] for e in published} == {"t"}


def stubbed_connector(responses):
    client = boto3.client("events", region_name="us-east-1")
    stub = Stubber(client)
    for response in responses:
        if isinstance(response, Exception):
            stub.add_client_error("put_events", "InternalException", "down", 500)
        else:
            stub.add_response("put_events", response)
    stub.activate()
    return EventBridgeConnector(client=client, retry=RetryPolicy(max_attempts=2, base_delay=0))


def test_partial_publish_failures_become_faults_or_retries():
    throttled = {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow"}
    connector = stubbed_connector(
        [
            {"FailedEntryCount": 2, "Entries": [
                {"EventId": "1"}, throttled, {"ErrorCode": "MalformedDetail", "ErrorMessage": "x"}
            ]},
            {"FailedEntryCount": 1, "Entries": [throttled]},
        ]
    )
    uows = kinesis(3)
    faults = MemoryPublisher()

    def publish(params):
        return publish_to_event_bridge(**{**params, "connector": connector})

    out = []
    result = StreamPipeline(
        initialize_from([{"id": "t", "flavor": task, "event_type": "thing-created",
                          "emit": "thing-done"}]),
        {"bus_name": "bus", "publish": publish, "fault_publisher": faults.publish_faults},
        False,
    ).assemble(uows, on_next=lambda pid, uow: out.append(uow))
    assert [u["event"]["id"] for u in out] == ["e0"]
    # e1: throttled on every attempt -> Lambda must redeliver it
    assert result.retry_records == [uows[1]["record"]]
    # e2: rejected for good -> a fault
    assert [f["uow"]["event"]["id"] for f in faults.faults] == ["e2"]
    assert "MalformedDetail" in faults.faults[0]["err"]["message"]


def test_missing_bus_name_is_a_configuration_error():
    from stream_core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="BUS_NAME"):
        StreamPipeline(
            initialize_from([{"id": "t", "flavor": task, "event_type": "thing-created",
                              "emit": "x"}]),
            {"bus_name": None, "fault_publisher": MemoryPublisher().publish_faults},
            False,
        ).assemble(kinesis(1))


def test_events_emitted_from_one_template_get_distinct_ids():
    def emit(uow, rule, t):
        return [{**t, "type": "a"}, {**t, "type": "b"}, {**t, "type": "c"}]

    _, _, sink = assemble({"emit": emit}, kinesis(1))
    ids = [e["id"] for e in sink.events]
    assert len(set(ids)) == 3
