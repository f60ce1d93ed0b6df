"""Fault events: shape, redaction, callables stripped, published to the bus."""

import pytest

from stream_core.errors import PublishError
from stream_core.events.kinesis import from_kinesis, to_kinesis_records
from stream_core.faults import REDACTED, FaultCollector, fault_event, report_fault
from stream_core.flavors.task import task
from stream_core.pipelines import StreamPipeline, initialize_from


def test_fault_event_shape_strips_callables_and_redacts():
    uow = {
        "pipeline": "p1",
        "record": {"kinesis": {"data": "raw"}},
        "event": {
            "id": "e1", "type": "t", "partition_key": "pk1",
            "customer": {"ssn": "123", "name": "Ann"},
            "cards": [{"number": "4111"}, {"number": "5500"}],
            "callback": lambda: None,
        },
        "execute": lambda: None,
    }
    try:
        raise ValueError("nope")
    except ValueError as err:
        fault = fault_event(
            uow, err, tags={"functionname": "f"}, redact=[("customer", "ssn"), ("cards", "number")]
        )
    assert fault["type"] == "fault"
    assert fault["partition_key"] == "pk1"
    assert fault["tags"] == {"functionname": "f", "pipeline": "p1"}
    assert fault["err"]["name"] == "ValueError" and fault["err"]["message"] == "nope"
    assert "raise ValueError" in fault["err"]["stack"]
    assert set(fault["uow"]) == {"pipeline", "record", "event"}
    assert fault["uow"]["record"] == {"kinesis": {"data": "raw"}}
    event = fault["uow"]["event"]
    assert "callback" not in event
    assert event["customer"] == {"ssn": REDACTED, "name": "Ann"}
    assert [c["number"] for c in event["cards"]] == [REDACTED, REDACTED]
    # the UOW itself is untouched
    assert uow["event"]["customer"]["ssn"] == "123"


def test_retryable_errors_go_to_retry_records_not_faults():
    collector = FaultCollector(tags={})
    collector.report({"record": {"r": 1}}, PublishError("throttled"))
    collector.report({"record": {"r": 2}, "event": {"id": "x"}}, KeyError("k"))
    assert collector.retry_records == [{"r": 1}]
    assert [f["err"]["name"] for f in collector.faults] == ["KeyError"]


def test_report_fault_outside_an_invocation_raises():
    with pytest.raises(KeyError):
        report_fault({"record": {}}, KeyError("lost?"))


def test_faults_are_published_to_the_bus_with_redaction(event_bus):
    uows = from_kinesis(
        to_kinesis_records(
            [{"id": "e1", "type": "thing-created", "timestamp": 1, "secret": "s3cr3t"}]
        )
    )
    rules = [{"id": "t", "flavor": task, "event_type": "thing-created",
              "execute": lambda uow, rule: 1 / 0}]
    result = StreamPipeline(
        initialize_from(rules), {"bus_name": event_bus.bus_name, "redact": ["secret"]}
    ).assemble(uows)
    assert result.unpublished_faults == [] and result.retry_records == []
    envelopes = event_bus.envelopes()
    assert [e["detail-type"] for e in envelopes] == ["fault"]
    fault = envelopes[0]["detail"]
    assert fault["err"]["name"] == "ZeroDivisionError"
    assert fault["uow"]["event"]["secret"] == REDACTED
    assert fault["uow"]["record"] == uows[0]["record"]  # resubmittable as delivered


def test_unpublishable_faults_hand_their_records_back(aws):
    # the bus does not exist: PutEvents fails for every fault
    uows = from_kinesis(to_kinesis_records([{"type": "thing-created", "id": f"e{i}"}
                                            for i in range(3)]))
    rules = [{"id": "t", "flavor": task, "event_type": "thing-created",
              "execute": lambda uow, rule: 1 / 0 if uow["event"]["id"] != "e0" else 1}]
    result = StreamPipeline(initialize_from(rules), {"bus_name": "missing-bus"}).assemble(uows)
    assert len(result.faults) == 2
    assert result.unpublished_faults == result.faults
    assert result.retry_records == [uows[1]["record"], uows[2]["record"]]
    assert result.response() == {
        "batchItemFailures": [{"itemIdentifier": uows[1]["record"]["kinesis"]["sequenceNumber"]}]
    }
