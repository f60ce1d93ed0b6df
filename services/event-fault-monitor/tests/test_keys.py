"""Fault keys: stable for the same record failing the same way, distinct otherwise; and the
trigger event that re-delivers a record."""

import copy

import pytest
from fault_builders import faults_of, from_sqs, kinesis_batch, sqs_batch

from event_fault_monitor.keys import fault_key, fault_parts, record_identity, trigger_event
from stream_core.events.dynamodb import to_dynamodb_records
from stream_core.events.eventbridge import to_eventbridge_event


def test_the_same_record_failing_again_gets_the_same_key():
    batch = kinesis_batch("o-1")
    first, again = faults_of(batch)[0], faults_of(batch)[0]
    assert first["id"] != again["id"]  # two fault events ...
    assert fault_key(first) == fault_key(again)  # ... one fault


def test_another_record_function_pipeline_or_error_is_another_fault():
    batch = kinesis_batch("o-1", "o-2")
    fault, other_record = faults_of(batch)
    other_pipeline = faults_of(batch, pipeline="other")[0]

    def value_error(uow, rule):
        raise ValueError("bad")

    other_error = faults_of(batch, error=value_error)[0]
    other_function = copy.deepcopy(fault)
    other_function["tags"]["functionname"] = "control-dev-listener"
    variants = (fault, other_record, other_pipeline, other_error, other_function)
    assert len({fault_key(f) for f in variants}) == 5


def test_parts_name_function_pipeline_error_and_record():
    fault = faults_of(kinesis_batch("o-1"))[0]
    parts = fault_parts(fault)
    record = fault["uow"]["record"]
    assert parts == {
        "functionname": "rest-bff-dev-listener",
        "pipeline": "materialize-order",
        "err_name": "KeyError",
        "source": "kinesis",
        "record_id": f"{record['eventSourceARN']}#{record['eventID']}",
    }


def test_record_identities_per_source():
    sqs = sqs_batch("o-1")["Records"][0]
    assert record_identity(sqs) == ("sqs", f"{sqs['eventSourceARN']}#{sqs['messageId']}")
    ddb = to_dynamodb_records([{"keys": {"pk": "1"}, "newImage": {"pk": "1"}}])["Records"][0]
    assert record_identity(ddb) == ("dynamodb", f"{ddb['eventSourceARN']}#{ddb['eventID']}")
    envelope = to_eventbridge_event({"type": "x", "id": "e-1"})
    assert record_identity(envelope) == ("eventbridge", envelope["id"])
    sns = {"EventSource": "aws:sns", "Sns": {"TopicArn": "arn:t", "MessageId": "m-1"}}
    assert record_identity(sns) == ("sns", "arn:t#m-1")
    source, ident = record_identity({"something": "else"})
    assert source == "unknown" and len(ident) == 64
    assert record_identity({"something": "else"}) == (source, ident)
    assert record_identity(None)[0] == "unknown"


def test_a_malformed_record_is_a_fault_with_a_key_too():
    batch = sqs_batch("o-1")
    batch["Records"][0]["body"] = "not json"
    fault = faults_of(batch, source=from_sqs)[0]
    assert fault["uow"]["event"] is None
    assert fault_parts(fault)["source"] == "sqs"
    assert fault_parts(fault)["pipeline"] == "undefined"
    assert fault_key(fault) == fault_key(faults_of(batch, source=from_sqs)[0])


def test_trigger_events_have_the_records_source_shape():
    for batch in (kinesis_batch("o-1"), sqs_batch("o-1")):
        record = batch["Records"][0]
        assert trigger_event(record) == {"Records": [record]}
    envelope = to_eventbridge_event({"type": "x", "id": "e-1"})
    assert trigger_event(envelope) == envelope
    with pytest.raises(ValueError, match="cannot be resubmitted"):
        trigger_event({"something": "else"})
