"""Firehose connector against moto (stream created through the API, delivering to S3)."""

import math

import boto3
import pytest

from stream_core.connectors import FirehoseConnector, RetryPolicy
from stream_core.connectors.firehose import MAX_RECORD_BYTES, MAX_REQUEST_BYTES, record_size

NO_WAIT = RetryPolicy(max_attempts=4, base_delay=0)
STREAM = "lake"
BUCKET = "lake-bucket"


@pytest.fixture
def client(aws):
    # moto's CloudFormation skips AWS::KinesisFirehose::DeliveryStream: API only (MOTO.md)
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    client = boto3.client("firehose")
    client.create_delivery_stream(
        DeliveryStreamName=STREAM,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "BucketARN": f"arn:aws:s3:::{BUCKET}",
            "Prefix": "events/",
        },
    )
    return client


def delivered():
    """Every line Firehose wrote to the bucket (moto writes one object per request)."""
    s3 = boto3.client("s3")
    lines = []
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        body = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        lines += body.splitlines()
    return sorted(lines)


def record(i, size=16):
    return {"Data": f"{i:06}".encode() + b"x" * (size - 7) + b"\n"}


def line(i, size=16):
    return record(i, size)["Data"][:-1]


def connector(client, **kwargs):
    return FirehoseConnector(STREAM, client=client, retry=kwargs.pop("retry", NO_WAIT), **kwargs)


def test_1234_records_take_ceil_1234_over_500_calls_and_all_arrive(client, hooks):
    sent = hooks.requests(client, "PutRecordBatch")
    lake = connector(client)
    assert lake.put_record_batch([record(i) for i in range(1234)]) == []
    assert lake.calls == len(sent) == math.ceil(1234 / 500)
    assert sorted(len(params["Records"]) for params in sent) == [234, 500, 500]
    assert delivered() == sorted(line(i) for i in range(1234))


def test_the_request_byte_limit_splits_requests(client, hooks):
    # records just under 1,000 KiB: four fit in 4 MiB, the fifth goes alone
    sent = hooks.requests(client, "PutRecordBatch")
    big = [record(i, MAX_RECORD_BYTES) for i in range(5)]
    assert all(record_size(r) == MAX_RECORD_BYTES for r in big)
    assert connector(client, max_in_flight=1).put_record_batch(big) == []
    assert [len(params["Records"]) for params in sent] == [4, 1]
    assert all(
        sum(record_size(r) for r in params["Records"]) <= MAX_REQUEST_BYTES for params in sent
    )
    assert len(delivered()) == 5


def test_a_record_over_1000_kib_fails_alone_without_a_call(client, hooks):
    sent = hooks.requests(client, "PutRecordBatch")
    over = record(1, MAX_RECORD_BYTES + 1)
    failed = connector(client).put_record_batch([record(0), over, record(2)])
    assert [(f.index, f.code, f.retryable) for f in failed] == [(1, "EntryTooLarge", False)]
    assert [len(params["Records"]) for params in sent] == [2]
    assert delivered() == [line(0), line(2)]


def test_text_records_are_sent_as_utf8(client):
    assert record_size({"Data": "é\n"}) == 3
    assert connector(client).put_record_batch([{"Data": "Zoë\n"}]) == []
    assert delivered() == ["Zoë".encode()]


def partial(client, hooks, failing):
    """Answer call ``n`` failing the records whose data is in ``failing(n)`` (data -> code);
    the others are delivered through a client without hooks."""
    writer = boto3.client("firehose")

    def answer(params, n):
        codes = failing(n)
        if not codes:
            return None
        good = [r for r in params["Records"] if r["Data"] not in codes]
        if good:
            writer.put_record_batch(DeliveryStreamName=STREAM, Records=good)
        responses = [
            {"ErrorCode": codes[r["Data"]], "ErrorMessage": "injected"}
            if r["Data"] in codes
            else {"RecordId": "ok"}
            for r in params["Records"]
        ]
        failed = len(params["Records"]) - len(good)
        return {"FailedPutCount": failed, "RequestResponses": responses}

    return hooks.answer(client, "PutRecordBatch", answer)


def test_only_failed_records_are_retried(client, hooks):
    records = [record(i) for i in range(5)]
    first = {
        records[0]["Data"]: "ServiceUnavailableException",
        records[3]["Data"]: "InternalFailure",
    }
    sent = partial(client, hooks, lambda n: first if n == 1 else {})
    assert connector(client).put_record_batch(records) == []
    assert [r["Data"] for r in sent[1]["Records"]] == [records[0]["Data"], records[3]["Data"]]
    assert len(sent) == 2
    assert delivered() == [line(i) for i in range(5)]


def test_records_that_keep_failing_or_fail_for_good_are_reported(client, hooks):
    records = [record(i) for i in range(3)]
    codes = {
        records[1]["Data"]: "ServiceUnavailableException",
        records[2]["Data"]: "KMS.AccessDeniedException",
    }
    sent = partial(client, hooks, lambda n: codes)
    lake = connector(client)
    failed = lake.put_record_batch(records)
    assert [(f.index, f.code, f.retryable) for f in failed] == [
        (1, "ServiceUnavailableException", True),
        (2, "KMS.AccessDeniedException", False),
    ]
    assert [len(params["Records"]) for params in sent] == [3, 1, 1, 1]
    assert lake.calls == NO_WAIT.max_attempts
    assert delivered() == [line(0)]


def test_a_throttled_request_is_retried_whole(client, hooks):
    sent = hooks.answer(
        client,
        "PutRecordBatch",
        lambda params, n: hooks.error("ServiceUnavailableException", 503) if n == 1 else None,
    )
    assert connector(client).put_record_batch([record(i) for i in range(3)]) == []
    assert len(sent) == 2
    assert delivered() == [line(i) for i in range(3)]


def test_a_missing_stream_fails_every_record_at_once(aws):
    lake = FirehoseConnector("missing", client=boto3.client("firehose"), retry=NO_WAIT)
    failed = lake.put_record_batch([record(i) for i in range(2)])
    assert [(f.index, f.code, f.retryable) for f in failed] == [
        (0, "ResourceNotFoundException", False),
        (1, "ResourceNotFoundException", False),
    ]
    assert lake.calls == 1


def test_the_client_is_created_on_first_use(client):
    from stream_core.connectors._client import shared_client

    lake = FirehoseConnector(STREAM)
    assert lake._client is None
    assert lake.put_record_batch([record(7)]) == []
    assert lake.client is shared_client("firehose")
    assert delivered() == [line(7)]
