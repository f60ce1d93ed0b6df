"""Partial failures of batch writes (chaos ``partial_rate``), on the session's moto_server:
the entries taken out never reach moto and answer as failed, the rest land, and stream-core's
connectors retry the failed ones until every entry landed exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from stream_local.chaos import WorkerChaos
from stream_local.chaos_batches import OPERATIONS, drop, restore

pytestmark = pytest.mark.integration


def session() -> Any:
    import boto3

    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )


@pytest.fixture
def plain(cloud: Any) -> Any:
    """Clients without chaos (made before it is installed), to set up and to look."""
    made = session()
    return lambda service: made.client(service, endpoint_url=cloud.endpoint)


@pytest.fixture
def chaotic(cloud: Any, request: Any) -> Iterator[Any]:
    """``chaotic(service)``: a client of a session made with ``WorkerChaos`` installed."""
    chaos = WorkerChaos(**request.param)
    chaos.install()
    try:
        made = session()
        client = lambda service: made.client(service, endpoint_url=cloud.endpoint)  # noqa: E731
        client.chaos = chaos  # type: ignore[attr-defined]
        yield client
    finally:
        chaos.uninstall()


def test_drop_and_restore_keep_positions_and_ids():
    params = {"Records": [{"Data": b"0"}, {"Data": b"1"}, {"Data": b"2"}]}
    caller_list = params["Records"]
    taken = drop("kinesis.PutRecords", params, lambda n: [1])
    assert taken is not None and params["Records"] == [{"Data": b"0"}, {"Data": b"2"}]
    assert len(caller_list) == 3  # the caller's list is left alone
    parsed = {"FailedRecordCount": 0, "Records": [{"SequenceNumber": "a"}, {"SequenceNumber": "b"}]}
    assert restore(taken, parsed) == 1
    assert parsed["FailedRecordCount"] == 1
    assert [r.get("SequenceNumber") or r["ErrorCode"] for r in parsed["Records"]] == [
        "a",
        "ProvisionedThroughputExceededException",
        "b",
    ]
    # one entry: nothing to split
    assert drop("kinesis.PutRecords", {"Records": [{"Data": b"0"}]}, lambda n: [0]) is None
    assert "dynamodb.BatchGetItem" in OPERATIONS and "s3.PutObject" not in OPERATIONS


@pytest.mark.parametrize("chaotic", [{"partial_rate": 1.0, "seed": 3}], indirect=True)
def test_some_entries_of_each_batch_fail_and_only_the_others_land(chaotic, plain, unique):
    # SQS: the Failed list, by Id; only the successful messages are in the queue
    url = plain("sqs").create_queue(QueueName=f"partial-{unique}")["QueueUrl"]
    entries = [{"Id": str(i), "MessageBody": f"m{i}"} for i in range(10)]
    answer = chaotic("sqs").send_message_batch(QueueUrl=url, Entries=entries)
    failed = {f["Id"] for f in answer["Failed"]}
    landed = {s["Id"] for s in answer["Successful"]}
    assert 0 < len(failed) < 10 and failed | landed == {str(i) for i in range(10)}
    assert all(f["SenderFault"] is False for f in answer["Failed"])
    assert len(entries) == 10
    bodies = set()
    for _ in range(5):
        got = plain("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        bodies |= {m["Body"] for m in got.get("Messages", [])}
    assert bodies == {f"m{i}" for i in sorted(landed, key=int)}

    # Kinesis: a result per record in request order; only the others are on the stream
    stream = f"partial-{unique}"
    plain("kinesis").create_stream(StreamName=stream, ShardCount=1)
    records = [{"Data": f"r{i}".encode(), "PartitionKey": "k"} for i in range(10)]
    answer = chaotic("kinesis").put_records(StreamName=stream, Records=records)
    errors = [i for i, r in enumerate(answer["Records"]) if r.get("ErrorCode")]
    assert len(answer["Records"]) == 10 and answer["FailedRecordCount"] == len(errors) > 0
    shard = plain("kinesis").describe_stream(StreamName=stream)["StreamDescription"]["Shards"][0]
    iterator = plain("kinesis").get_shard_iterator(
        StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    on_stream = [r["Data"] for r in plain("kinesis").get_records(ShardIterator=iterator)["Records"]]
    assert on_stream == [f"r{i}".encode() for i in range(10) if i not in errors]

    # DynamoDB: UnprocessedItems / UnprocessedKeys, with the request's options kept
    table = f"partial-{unique}"
    plain("dynamodb").create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )
    puts = [{"PutRequest": {"Item": {"pk": {"S": f"k{i}"}}}} for i in range(10)]
    answer = chaotic("dynamodb").batch_write_item(RequestItems={table: puts})
    unprocessed = answer["UnprocessedItems"][table]
    assert 0 < len(unprocessed) < 10
    stored = {i["pk"]["S"] for i in plain("dynamodb").scan(TableName=table)["Items"]}
    assert stored == {p["PutRequest"]["Item"]["pk"]["S"] for p in puts if p not in unprocessed}
    keys = [{"pk": {"S": f"k{i}"}} for i in range(10)]
    answer = chaotic("dynamodb").batch_get_item(
        RequestItems={table: {"Keys": keys, "ConsistentRead": True}}
    )
    again = answer["UnprocessedKeys"][table]
    assert again["ConsistentRead"] is True and 0 < len(again["Keys"]) < 10
    got = {i["pk"]["S"] for i in answer["Responses"][table]}
    assert got == stored - {k["pk"]["S"] for k in again["Keys"]}

    # EventBridge: a result per entry in request order
    events = [{"Source": "s", "DetailType": "d", "Detail": json.dumps({"n": i})} for i in range(5)]
    answer = chaotic("events").put_events(Entries=events)
    assert len(answer["Entries"]) == 5
    assert answer["FailedEntryCount"] == sum("ErrorCode" in e for e in answer["Entries"]) > 0
    assert all("EventId" in e for e in answer["Entries"] if "ErrorCode" not in e)

    counts = chaotic.chaos.take_counts()
    assert counts["partial_failures"] == 5
    assert counts["partial_entries"] == (
        len(failed)
        + len(errors)
        + len(unprocessed)
        + len(again["Keys"])
        + answer["FailedEntryCount"]
    )


@pytest.mark.parametrize("chaotic", [{"partial_rate": 0.5, "seed": 11}], indirect=True)
def test_stream_core_connectors_retry_failed_entries_until_all_landed_once(chaotic, plain, unique):
    from stream_core.connectors import DynamoDBConnector, RetryPolicy, SqsConnector

    retry = RetryPolicy(max_attempts=10, base_delay=0)
    url = plain("sqs").create_queue(QueueName=f"retried-{unique}")["QueueUrl"]
    queue = SqsConnector(url, client=chaotic("sqs"), retry=retry)
    assert queue.send_message_batch([{"MessageBody": f"m{i}"} for i in range(50)]) == []
    bodies: list[str] = []
    while True:
        got = plain("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        if not got.get("Messages"):
            break
        bodies += [m["Body"] for m in got["Messages"]]
        plain("sqs").delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(got["Messages"])
            ],
        )
    assert sorted(bodies) == sorted(f"m{i}" for i in range(50))  # each once

    table = f"retried-{unique}"
    plain("dynamodb").create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )
    items = DynamoDBConnector(table, client=chaotic("dynamodb"), retry=retry)
    assert items.batch_write(puts=[{"pk": f"k{i}", "n": i} for i in range(60)]) == []
    found = items.batch_get([{"pk": f"k{i}"} for i in range(60)], ConsistentRead=True)
    assert [item["n"] for item in found] == list(range(60))

    counts = chaotic.chaos.take_counts()
    assert counts["partial_failures"] > 0 and counts["partial_entries"] > 0
