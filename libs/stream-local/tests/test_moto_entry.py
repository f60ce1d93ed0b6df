"""The moto_server stream-local starts (``moto_entry.py``): concurrent writes lose nothing.

Plain moto loses Kinesis records when PutRecord(s) to one shard run concurrently, repeats
DynamoDB stream sequence numbers and loses updates under concurrent writes, can hand one SQS
message to two concurrent receives and can lose a message sent while another one is
deleted. The tests write concurrently through the server stream-local starts: the
session's, and a ``stressed`` one whose interpreter switches threads every 10 µs, which
makes moto's races likely. Against a plain moto_server switching as often, the Kinesis and
DynamoDB tests below failed in 8 of 8 runs and the SQS receive test in 4 of 6 (see the
README for the measurements).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from stream_local.cloud import (
    DUMMY_CREDENTIALS,
    Cloud,
    MotoServer,
    free_port,
    server_patches,
    wait_until_answering,
)
from stream_local.local import LocalSystem
from stream_local.log import DeliveryLog
from stream_local.moto_entry import PATCHES
from stream_local.runtime import RuntimeOptions

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stressed() -> Iterator[Cloud]:
    server = MotoServer(args=["--switch-interval", "1e-5"])
    cloud = server.start()
    yield cloud
    server.stop()


# ---- Kinesis ----------------------------------------------------------------------------


def _put_concurrently(cloud: Cloud, stream: str, threads: int, batches: int, size: int):
    """``threads`` producers, each ``batches`` PutRecords of ``size`` then one PutRecord;
    returns, per producer, (data, sequence number) in the order it was answered."""
    kinesis = cloud.client("kinesis")
    start = threading.Barrier(threads)

    def produce(producer: int) -> list[tuple[str, str]]:
        answered = []
        start.wait()
        for batch in range(batches):
            data = [f"{producer}:{batch}:{i}" for i in range(size)]
            response = kinesis.put_records(
                StreamName=stream,
                Records=[{"Data": d.encode(), "PartitionKey": f"p-{producer}"} for d in data],
            )
            assert response["FailedRecordCount"] == 0
            records = zip(data, response["Records"], strict=True)
            answered += [(d, r["SequenceNumber"]) for d, r in records]
        single = f"{producer}:single"
        response = kinesis.put_record(StreamName=stream, Data=single.encode(), PartitionKey="s")
        answered.append((single, response["SequenceNumber"]))
        return answered

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(produce, range(threads)))


def _read_shard(cloud: Cloud, stream: str) -> list[dict]:
    kinesis = cloud.client("kinesis")
    shards = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"]
    assert len(shards) == 1
    iterator = kinesis.get_shard_iterator(
        StreamName=stream, ShardId=shards[0]["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = []
    while True:
        page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
        records += page["Records"]
        iterator = page["NextShardIterator"]
        if not page["Records"]:
            return records


def _assert_kinesis_lost_nothing(cloud: Cloud, stream: str, answered) -> None:
    stored = _read_shard(cloud, stream)
    sent = [data for producer in answered for data, _ in producer]
    numbers = [int(r["SequenceNumber"]) for r in stored]
    assert len(stored) == len(sent), f"{len(sent) - len(stored)} of {len(sent)} records lost"
    assert sorted(r["Data"].decode() for r in stored) == sorted(sent)
    assert numbers == sorted(set(numbers)), "sequence numbers repeat or go backwards"
    at = {r["SequenceNumber"]: r["Data"].decode() for r in stored}
    for producer in answered:
        # Every answer names the record that was stored under it, and each producer's
        # numbers increase (its calls were sequential).
        assert all(at[number] == data for data, number in producer)
        mine = [int(number) for _, number in producer]
        assert mine == sorted(mine)


def test_concurrent_put_records_to_one_shard_lose_nothing(cloud, aws):
    stream = aws.stream(shards=1).rsplit("/", 1)[1]
    answered = _put_concurrently(cloud, stream, threads=8, batches=10, size=100)
    _assert_kinesis_lost_nothing(cloud, stream, answered)  # 8,008 records


def test_concurrent_put_records_lose_nothing_when_threads_switch_often(stressed):
    stream = "t-stressed-stream"
    stressed.client("kinesis").create_stream(StreamName=stream, ShardCount=1)
    answered = _put_concurrently(stressed, stream, threads=8, batches=5, size=100)
    _assert_kinesis_lost_nothing(stressed, stream, answered)


# ---- DynamoDB ---------------------------------------------------------------------------


def test_concurrent_dynamodb_writes_keep_every_update_and_stream_order(stressed):
    dynamodb = stressed.client("dynamodb")
    table = "t-stressed-table"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    threads, writes = 8, 30
    start = threading.Barrier(threads)

    def write(writer: int) -> list[int]:
        seen = []
        start.wait()
        for i in range(writes):
            dynamodb.put_item(TableName=table, Item={"pk": {"S": f"item-{writer}-{i}"}})
            response = dynamodb.update_item(
                TableName=table,
                Key={"pk": {"S": "counter"}},
                UpdateExpression="ADD n :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
            seen.append(int(response["Attributes"]["n"]["N"]))
        return seen

    with ThreadPoolExecutor(threads) as pool:
        seen = [n for values in pool.map(write, range(threads)) for n in values]
    total = threads * writes
    assert sorted(seen) == list(range(1, total + 1)), "increments were lost"

    streams = stressed.client("dynamodbstreams")
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        records += page["Records"]
        iterator = page.get("NextShardIterator") if page["Records"] else None
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert numbers == sorted(set(numbers)), "stream sequence numbers repeat or go backwards"
    counter = [
        int(r["dynamodb"]["NewImage"]["n"]["N"])
        for r in records
        if r["dynamodb"]["Keys"]["pk"]["S"] == "counter" and "n" in r["dynamodb"]["NewImage"]
    ]
    assert counter == list(range(1, total + 1)), "counter images out of order in the stream"
    items = [r for r in records if r["dynamodb"]["Keys"]["pk"]["S"].startswith("item-")]
    assert len(items) == total


# ---- SQS --------------------------------------------------------------------------------


def test_sqs_keeps_messages_sent_while_others_are_deleted(cloud, aws):
    sqs = cloud.client("sqs")
    url, _arn = aws.queue()
    for batch in range(10):  # 100 messages in flight, to be deleted
        entries = [{"Id": str(i), "MessageBody": f"old-{batch}-{i}"} for i in range(10)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    handles = []
    while len(handles) < 100:
        page = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)
        handles += [m["ReceiptHandle"] for m in page.get("Messages", [])]
    senders, sends = 4, 25
    start = threading.Barrier(senders + 4)

    def send(sender: int) -> None:
        start.wait()
        for i in range(sends):
            sqs.send_message(QueueUrl=url, MessageBody=f"new-{sender}-{i}")

    def delete(part: list[str]) -> None:
        start.wait()
        for handle in part:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)

    with ThreadPoolExecutor(senders + 4) as pool:
        jobs = [pool.submit(send, s) for s in range(senders)]
        jobs += [pool.submit(delete, handles[k::4]) for k in range(4)]
        for job in jobs:
            job.result()
    bodies = []
    while True:
        page = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)
        if not page.get("Messages"):
            break
        bodies += [m["Body"] for m in page["Messages"]]
    assert sorted(bodies) == sorted(f"new-{s}-{i}" for s in range(senders) for i in range(sends))


def test_concurrent_sqs_receives_never_share_a_message(stressed):
    sqs = stressed.client("sqs")
    url = sqs.create_queue(QueueName="t-stressed-receives")["QueueUrl"]
    total = 200
    received: Counter[str] = Counter()
    lock = threading.Lock()
    done = threading.Event()

    def receive() -> None:
        while not done.is_set():
            page = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=120
            )
            with lock:
                received.update(m["Body"] for m in page.get("Messages", []))

    receivers = [threading.Thread(target=receive) for _ in range(4)]
    for thread in receivers:
        thread.start()
    try:
        for batch in range(total // 10):
            entries = [{"Id": str(i), "MessageBody": f"m-{batch}-{i}"} for i in range(10)]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        deadline = time.monotonic() + 20
        while len(received) < total and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        done.set()
        for thread in receivers:
            thread.join()
    assert len(received) == total
    assert [body for body, count in received.items() if count > 1] == []


def test_a_long_poll_returns_when_a_message_arrives_and_waits_when_none_does(cloud, aws):
    sqs = cloud.client("sqs")
    url, _arn = aws.queue()
    started = time.monotonic()
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages") is None
    assert time.monotonic() - started >= 0.9
    got: dict = {}

    def poll() -> None:
        begin = time.monotonic()
        got["messages"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages")
        got["seconds"] = time.monotonic() - begin

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.5)
    sqs.send_message(QueueUrl=url, MessageBody="hello")  # not blocked by the waiting poll
    poller.join(timeout=15)
    assert [m["Body"] for m in got["messages"]] == ["hello"]
    assert 0.4 < got["seconds"] < 3


# ---- which server -----------------------------------------------------------------------


def test_the_server_stream_local_starts_says_which_fixes_it_has(cloud):
    assert cloud.patches == PATCHES
    assert server_patches(cloud.endpoint) == PATCHES
    assert Cloud.attach(cloud.endpoint).patches == PATCHES


@pytest.fixture
def plain_moto() -> Iterator[str]:
    """A ``moto_server`` started the plain way, without stream-local's fixes."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **DUMMY_CREDENTIALS},
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        assert wait_until_answering(endpoint, 30)
        yield endpoint
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(10)


def test_attaching_to_a_plain_moto_server_warns(plain_moto):
    assert Cloud.attach(plain_moto).patches is None
    log = DeliveryLog(stream=None)
    said: list[str] = []
    with LocalSystem(
        [], endpoint=plain_moto, log=log, options=RuntimeOptions(rest_port=0), say=said.append
    ):
        pass
    warnings = [line for line in log.lines if line.startswith("warning:")]
    assert len(warnings) == 1
    assert plain_moto in warnings[0] and "stream_local.moto_entry" in warnings[0]
    assert json.dumps(said)  # the usual step lines still went to ``say``
