"""Large events: compression of big fields and the S3 claim check, both ways."""

import json

import boto3
import pytest

from stream_core.events.kinesis import from_kinesis, to_kinesis_records
from stream_core.events.sqs import from_sqs, to_sqs_records
from stream_core.flavors.task import task
from stream_core.pipelines import StreamPipeline, initialize_from
from stream_core.utils.claimcheck import (
    COMPRESSED,
    ClaimCheck,
    compress_fields,
    decompress_fields,
    is_stub,
)

MB = 1024 * 1024


def big_event(size=MB, event_id="big-1"):
    # varied text so compression alone cannot bring it under 256 KB
    import random

    rnd = random.Random(7)
    blob = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(size))
    return {"id": event_id, "type": "document-stored", "timestamp": 1_700_000_000_000,
            "partition_key": "doc-1", "document": {"body": blob}, "small": "kept"}


def test_compress_and_decompress_round_trip():
    event = {"id": "1", "type": "t", "timestamp": 1, "tags": {"a": "b" * 50_000},
             "payload": {"text": "x" * 100_000}, "small": "y"}
    packed = compress_fields(event, threshold=1024)
    assert packed[COMPRESSED] == ["payload"]  # standard fields (tags) are never compressed
    assert isinstance(packed["payload"], str) and len(packed["payload"]) < 2_000
    assert packed["small"] == "y" and packed["tags"] == event["tags"]
    assert decompress_fields(dict(packed)) == event
    assert compress_fields({"id": "1", "type": "t", "n": 5}) == {"id": "1", "type": "t", "n": 5}


def test_compressed_fields_are_inflated_by_the_sources():
    event = {"id": "1", "type": "t", "timestamp": 1, "payload": ["z" * 80_000]}
    packed = compress_fields(event, threshold=1024)
    [uow] = from_sqs(to_sqs_records([packed]))
    assert uow["event"] == event


def test_corrupt_compressed_field_is_a_malformed_record():
    [uow] = from_kinesis(to_kinesis_records(
        [{"id": "1", "type": "t", "timestamp": 1, "p": "not-gzip", COMPRESSED: ["p"]}]))
    assert uow["event"] is None and "cannot be read" in str(uow["malformed"])


@pytest.fixture
def bucket(event_bus):
    boto3.client("s3").create_bucket(Bucket="claims-bucket")
    return "claims-bucket"


def test_1mb_event_round_trip_through_the_bus(event_bus, bucket):
    original = big_event()
    rules = [{"id": "store", "flavor": task, "event_type": "document-requested",
              "emit": lambda uow, rule, template: original}]
    result = StreamPipeline(
        initialize_from(rules),
        {"bus_name": event_bus.bus_name, "claim_check_bucket": bucket},
    ).assemble(from_kinesis(to_kinesis_records(
        [{"id": "r1", "type": "document-requested", "timestamp": 1}])))
    assert result.faults == [] and result.retry_records == []
    [envelope] = event_bus.envelopes()
    stub = envelope["detail"]
    assert is_stub(stub) and "document" not in stub
    assert len(json.dumps(stub)) < 1024
    assert stub["s3"]["key"] == "claims/2023/11/14/big-1.json"
    # a consumer on the stream (Kinesis) gets the full event back
    [uow] = from_kinesis(to_kinesis_records([stub]))
    assert uow["event"] == original


def test_without_a_bucket_a_too_large_event_faults(event_bus):
    rules = [{"id": "store", "flavor": task, "event_type": "document-requested",
              "emit": lambda uow, rule, template: big_event(300_000)}]
    faults = []
    result = StreamPipeline(
        initialize_from(rules),
        {"bus_name": event_bus.bus_name, "claim_check_bucket": None,
         "fault_publisher": lambda fs: faults.extend(fs) or {}},
    ).assemble(from_kinesis(to_kinesis_records(
        [{"id": "r1", "type": "document-requested", "timestamp": 1}])))
    assert "EntryTooLarge" in faults[0]["err"]["message"]
    assert result.retry_records == []


def test_unreadable_stub_is_a_fault_with_its_record(event_bus, bucket):
    stub = {"id": "gone", "type": "document-stored", "timestamp": 1,
            "s3": {"bucket": bucket, "key": "claims/none.json"}}
    [uow] = from_kinesis(to_kinesis_records([stub]))
    assert uow["event"] is None
    assert "unreadable" in str(uow["malformed"])
    assert uow["record"]["kinesis"]["data"]


def test_claim_check_store_and_s3_notifications_are_not_stubs(event_bus, bucket):
    stub = ClaimCheck(bucket).store(big_event(10))
    assert set(stub) == {"id", "type", "timestamp", "partition_key", "s3"}
    assert not is_stub({"s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}})
