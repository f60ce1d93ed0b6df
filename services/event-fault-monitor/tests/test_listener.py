"""The listener on moto: faults from the queue stored in S3 and indexed, once per fault key;
its own failures handed back to SQS, never published as faults."""

import json

import boto3
from fault_builders import FUNCTION, faults_of, kinesis_batch

from event_fault_monitor.keys import fault_key
from event_fault_monitor.store import object_key
from stream_core.events.eventbridge import to_sqs_eventbridge_records


def deliver(faults, listener_handler):
    """The faults as the faults queue delivers them (EventBridge envelopes in SQS)."""
    return listener_handler(to_sqs_eventbridge_records(faults), None)


def objects(store):
    listed = boto3.client("s3").list_objects_v2(Bucket=store.bucket)
    return sorted(o["Key"] for o in listed.get("Contents", ()))


def handler():
    from event_fault_monitor.listener import handler

    return handler


def test_a_fault_is_stored_whole_in_s3_and_indexed(faults_store):
    fault = faults_of(kinesis_batch("o-1"))[0]
    assert deliver([fault], handler()) == {"batchItemFailures": []}

    key = fault_key(fault)
    s3_key = object_key(fault)
    assert objects(faults_store) == [s3_key]
    assert s3_key.startswith("faults/") and s3_key.endswith(f"/{fault['id']}.json")
    stored = json.loads(
        boto3.client("s3").get_object(Bucket=faults_store.bucket, Key=s3_key)["Body"].read()
    )
    assert stored == json.loads(json.dumps(fault))
    assert stored["uow"]["record"]["kinesis"]["data"]  # the raw record, for resubmission

    item = faults_store.get(key)
    assert item["functionname"] == FUNCTION
    assert item["pipeline"] == "materialize-order"
    assert item["err_name"] == "KeyError"
    assert item["event_type"] == "order-ready"
    assert item["event_id"] == "e-o-1"
    assert item["source"] == "kinesis"
    assert item["status"] == "open"
    assert item["occurrences"] == 1
    assert item["s3_key"] == s3_key
    assert item["sorted"] == f"{item['time']}#{key}"
    assert item["expires"] > item["timestamp"] // 1000


def test_the_same_record_failing_again_is_not_stored_twice(faults_store):
    batch = kinesis_batch("o-1")
    first, again = faults_of(batch)[0], faults_of(batch)[0]  # Lambda retried the record
    deliver([first], handler())
    deliver([again], handler())
    assert len(objects(faults_store)) == 1
    item = faults_store.get(fault_key(first))
    assert item["fault_id"] == first["id"]
    assert item["occurrences"] == 2
    assert item["last_fault_id"] == again["id"]


def test_a_redelivered_fault_changes_nothing(faults_store):
    fault = faults_of(kinesis_batch("o-1"))[0]
    deliver([fault], handler())
    deliver([fault], handler())  # SQS delivered the same message again
    deliver([fault, fault], handler())
    assert len(objects(faults_store)) == 1
    assert faults_store.get(fault_key(fault))["occurrences"] == 1


def test_duplicates_in_one_batch_are_stored_once(faults_store):
    batch = kinesis_batch("o-1", "o-2")
    faults = faults_of(batch) + faults_of(batch)
    assert deliver(faults, handler()) == {"batchItemFailures": []}
    assert len(objects(faults_store)) == 2
    assert sorted(i["occurrences"] for i in faults_store.list()) == [2, 2]


def test_a_fault_seen_again_after_a_resubmission_is_reopened(faults_store):
    batch = kinesis_batch("o-1")
    fault = faults_of(batch)[0]
    deliver([fault], handler())
    faults_store.mark_resubmitted(fault_key(fault), FUNCTION)
    deliver([faults_of(batch)[0]], handler())  # the fix did not work
    item = faults_store.get(fault_key(fault))
    assert item["status"] == "open"
    assert item["reopened_at"] >= item["resubmitted_at"]
    assert len(objects(faults_store)) == 1


def test_faults_the_listener_cannot_store_go_back_to_sqs_not_to_the_bus(
    faults_store, event_bus, monkeypatch
):
    monkeypatch.setenv("FAULTS_TABLE_NAME", "no-such-table")
    from event_fault_monitor.rules import store

    store.cache_clear()
    faults = faults_of(kinesis_batch("o-1", "o-2"))
    delivered = to_sqs_eventbridge_records(faults)
    response = handler()(delivered, None)
    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(
        r["messageId"] for r in delivered["Records"]
    )
    assert event_bus.events() == []  # a fault about a fault would come straight back


def test_a_message_that_is_not_an_eventbridge_event_goes_back_to_sqs(faults_store, event_bus):
    delivered = to_sqs_eventbridge_records(faults_of(kinesis_batch("o-1")))
    delivered["Records"][0]["body"] = "garbage"
    response = handler()(delivered, None)
    message_id = delivered["Records"][0]["messageId"]
    assert response == {"batchItemFailures": [{"itemIdentifier": message_id}]}
    assert event_bus.events() == []
    assert objects(faults_store) == []
