"""Kinesis connector against moto: PutRecords limits, partial failures, read-back."""

import math

import boto3
import pytest

from stream_core.connectors import KinesisConnector, RetryPolicy
from stream_core.connectors.kinesis import MAX_RECORD_BYTES, MAX_REQUEST_BYTES, record_size
from stream_core.errors import ConfigurationError

NO_WAIT = RetryPolicy(max_attempts=4, base_delay=0)
STREAM = "hub"


@pytest.fixture
def client(aws):
    client = boto3.client("kinesis")
    client.create_stream(StreamName=STREAM, ShardCount=1)
    return client


def read_back(client):
    shard = client.describe_stream(StreamName=STREAM)["StreamDescription"]["Shards"][0]
    iterator = client.get_shard_iterator(
        StreamName=STREAM, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    data = []
    while True:
        response = client.get_records(ShardIterator=iterator, Limit=10_000)
        data += [record["Data"] for record in response["Records"]]
        if not response["Records"]:
            return data
        iterator = response["NextShardIterator"]


def record(i, size=20):
    return {"Data": f"{i:06}".encode() + b"x" * (size - 6), "PartitionKey": f"k{i % 7}"}


def connector(client, **kwargs):
    return KinesisConnector(STREAM, client=client, retry=kwargs.pop("retry", NO_WAIT), **kwargs)


def test_1234_records_take_ceil_1234_over_500_calls_and_all_arrive(client, hooks):
    sent = hooks.requests(client, "PutRecords")
    # moto's shards are not thread-safe: concurrent PutRecords lose records (same sequence
    # number), so requests go one at a time here; AWS takes them concurrently
    stream = connector(client, max_in_flight=1)
    assert stream.put_records([record(i) for i in range(1234)]) == []
    assert stream.calls == len(sent) == math.ceil(1234 / 500)
    assert [len(params["Records"]) for params in sent] == [500, 500, 234]
    assert sorted(read_back(client)) == sorted(record(i)["Data"] for i in range(1234))


def test_the_request_byte_limit_splits_requests(client, hooks):
    # records just under 1 MiB: five fill a 5 MiB request, the sixth goes alone
    sent = hooks.requests(client, "PutRecords")
    big = [record(i, MAX_RECORD_BYTES - 10) for i in range(6)]
    assert all(MAX_RECORD_BYTES - 10 < record_size(r) <= MAX_RECORD_BYTES for r in big)
    assert connector(client, max_in_flight=1).put_records(big) == []
    assert [len(params["Records"]) for params in sent] == [5, 1]
    assert all(
        sum(record_size(r) for r in params["Records"]) <= MAX_REQUEST_BYTES for params in sent
    )
    assert len(read_back(client)) == 6


def test_a_record_over_1_mib_fails_alone_without_a_call(client, hooks):
    sent = hooks.requests(client, "PutRecords")
    over = {"Data": b"x" * MAX_RECORD_BYTES, "PartitionKey": "k"}  # the key tips it over
    stream = connector(client)
    failed = stream.put_records([record(0), over, record(2)])
    assert [(f.index, f.code, f.retryable) for f in failed] == [(1, "EntryTooLarge", False)]
    assert failed[0].entry is over
    assert [len(params["Records"]) for params in sent] == [2]
    assert read_back(client) == [record(0)["Data"], record(2)["Data"]]


def test_text_data_is_sent_as_utf8_and_sized_in_bytes(client):
    text = {"Data": '{"name":"Zoë"}', "PartitionKey": "é"}
    assert record_size(text) == len('{"name":"Zoë"}'.encode()) + 2
    assert connector(client).put_records([text]) == []
    assert read_back(client) == ['{"name":"Zoë"}'.encode()]


def partial(client, hooks, failing):
    """Answer PutRecords call ``n`` failing the records whose data is in ``failing(n)``
    (a dict data -> error code) and writing the others through a client without hooks."""
    writer = boto3.client("kinesis")

    def answer(params, n):
        codes = failing(n)
        if not codes:
            return None
        results = []
        for r in params["Records"]:
            code = codes.get(r["Data"])
            if code:
                results.append({"ErrorCode": code, "ErrorMessage": "injected"})
            else:
                out = writer.put_record(StreamName=STREAM, **r)
                results.append({"SequenceNumber": out["SequenceNumber"], "ShardId": out["ShardId"]})
        failed = sum("ErrorCode" in result for result in results)
        return {"FailedRecordCount": failed, "Records": results}

    return hooks.answer(client, "PutRecords", answer)


def test_only_failed_records_are_retried(client, hooks):
    records = [record(i) for i in range(6)]
    throttled = "ProvisionedThroughputExceededException"
    first = {records[1]["Data"]: throttled, records[4]["Data"]: "InternalFailure"}
    sent = partial(client, hooks, lambda n: first if n == 1 else {})
    assert connector(client).put_records(records) == []
    assert [len(params["Records"]) for params in sent] == [6, 2]
    assert [r["Data"] for r in sent[1]["Records"]] == [records[1]["Data"], records[4]["Data"]]
    assert sorted(read_back(client)) == sorted(r["Data"] for r in records)


def test_records_that_keep_failing_or_fail_for_good_are_reported(client, hooks):
    records = [record(i) for i in range(4)]
    codes = {
        records[0]["Data"]: "ProvisionedThroughputExceededException",
        records[2]["Data"]: "KMSAccessDeniedException",
    }
    sent = partial(client, hooks, lambda n: codes)
    sleeps = []
    policy = RetryPolicy(max_attempts=3, base_delay=0.02, sleep=sleeps.append)
    stream = connector(client, retry=policy)
    failed = stream.put_records(records)
    assert [(f.index, f.code, f.retryable) for f in failed] == [
        (0, "ProvisionedThroughputExceededException", True),
        (2, "KMSAccessDeniedException", False),
    ]
    assert [len(params["Records"]) for params in sent] == [4, 1, 1]  # only record 0 retried
    assert len(sleeps) == 2
    assert all(0 <= s <= 0.02 * 2**i for i, s in enumerate(sleeps))
    assert sorted(read_back(client)) == [records[1]["Data"], records[3]["Data"]]


def test_a_throttled_request_is_retried_whole(client, hooks):
    sent = hooks.answer(
        client,
        "PutRecords",
        lambda params, n: hooks.error("LimitExceededException") if n == 1 else None,
    )
    assert connector(client).put_records([record(i) for i in range(3)]) == []
    assert len(sent) == 2
    assert len(read_back(client)) == 3


def test_a_missing_stream_fails_every_record_at_once(aws):
    stream = KinesisConnector("missing", client=boto3.client("kinesis"), retry=NO_WAIT)
    failed = stream.put_records([record(i) for i in range(3)])
    assert [(f.index, f.code, f.retryable) for f in failed] == [
        (i, "ResourceNotFoundException", False) for i in range(3)
    ]
    assert stream.calls == 1


def test_stream_arn_names_the_stream(client):
    arn = client.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["StreamARN"]
    assert KinesisConnector(stream_arn=arn, client=client).put_records([record(1)]) == []
    assert read_back(client) == [record(1)["Data"]]


def test_a_stream_is_required():
    with pytest.raises(ConfigurationError):
        KinesisConnector()


def test_the_client_is_created_on_first_use(client):
    from stream_core.connectors._client import shared_client

    stream = KinesisConnector(STREAM)
    assert stream._client is None
    assert stream.put_records([record(1)]) == []
    assert stream.client is shared_client("kinesis")
    assert read_back(client) == [record(1)["Data"]]
