"""SNS connector against moto: PublishBatch limits, Ids, SenderFault, read-back through an SQS
subscription (raw delivery). Read-back tests keep a few dozen messages (moto's SQS slows
down with depth); the 1,234-entry test answers with a hook."""

import math

import boto3
import pytest

from stream_core.connectors import RetryPolicy, SnsConnector
from stream_core.connectors.sns import MAX_REQUEST_BYTES, message_size
from stream_core.errors import RetryableError

NO_WAIT = RetryPolicy(max_attempts=4, base_delay=0)


@pytest.fixture
def client(aws):
    return boto3.client("sns")


@pytest.fixture
def topic(client):
    """The topic's ARN and a function reading what its raw SQS subscriber received."""
    arn = client.create_topic(Name="orders")["TopicArn"]
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="orders-tap")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    client.subscribe(
        TopicArn=arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )

    def received():
        messages = []
        while True:
            response = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            )
            if not response.get("Messages"):
                return messages
            messages += response["Messages"]

    return arn, received


def connector(client, arn, **kwargs):
    return SnsConnector(arn, client=client, retry=kwargs.pop("retry", NO_WAIT), **kwargs)


def entry(i, size=None):
    text = f"m{i:04}"
    return {"Message": text if size is None else text + "x" * (size - len(text))}


def bodies(received):
    return sorted(m["Body"] for m in received())


def test_1234_entries_take_ceil_1234_over_10_calls(client, topic, hooks):
    def all_succeed(params, n):
        ids = [e["Id"] for e in params["PublishBatchRequestEntries"]]
        return {"Successful": [{"Id": i, "MessageId": i} for i in ids], "Failed": []}

    sent = hooks.answer(client, "PublishBatch", all_succeed)
    publisher = connector(client, topic[0])
    entries = [entry(i) for i in range(1234)]
    assert publisher.publish_batch(entries) == []
    assert publisher.calls == len(sent) == math.ceil(1234 / 10)
    batches = [params["PublishBatchRequestEntries"] for params in sent]
    assert all(len(batch) <= 10 for batch in batches)
    assert all(len({e["Id"] for e in batch}) == len(batch) for batch in batches)
    assert sorted(e["Message"] for batch in batches for e in batch) == [
        e["Message"] for e in entries
    ]


def test_messages_and_attributes_arrive(client, topic):
    arn, received = topic
    attributes = {"type": {"DataType": "String", "StringValue": "order-ready"}}
    entries = [{**entry(i), "MessageAttributes": attributes} for i in range(23)]
    publisher = connector(client, arn)
    assert publisher.publish_batch(entries) == []
    assert publisher.calls == 3
    messages = received()
    assert sorted(m["Body"] for m in messages) == [f"m{i:04}" for i in range(23)]
    assert all(m["MessageAttributes"]["type"]["StringValue"] == "order-ready" for m in messages)
    assert "Id" not in entries[0]


def test_an_entry_just_under_256_kb_goes_alone(client, topic, hooks):
    arn, received = topic
    sent = hooks.requests(client, "PublishBatch")
    big = entry(1, MAX_REQUEST_BYTES - 50)
    assert message_size(big) == MAX_REQUEST_BYTES - 50
    publisher = connector(client, arn, max_in_flight=1)
    assert publisher.publish_batch([entry(0, 100), big, entry(2, 100), entry(3, 100)]) == []
    assert [len(params["PublishBatchRequestEntries"]) for params in sent] == [1, 1, 2]
    assert sorted(len(b) for b in bodies(received)) == [100, 100, 100, MAX_REQUEST_BYTES - 50]


def test_an_entry_over_the_limit_fails_alone_without_a_call(client, topic, hooks):
    arn, received = topic
    sent = hooks.requests(client, "PublishBatch")
    tipped = {
        **entry(1, MAX_REQUEST_BYTES - 5),
        "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
    }
    assert message_size(tipped) == MAX_REQUEST_BYTES - 5 + 1 + 6 + 1
    failed = connector(client, arn).publish_batch([entry(0), tipped])
    assert [(f.index, f.code, f.retryable) for f in failed] == [(1, "EntryTooLarge", False)]
    assert len(sent) == 1
    assert bodies(received) == ["m0000"]


def test_a_request_the_service_rejects_fails_its_entries_at_once(client, topic):
    arn, received = topic
    bad = {**entry(1), "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "NaN!"}}}
    publisher = connector(client, arn)
    failed = publisher.publish_batch([entry(0), bad, entry(2)])
    assert [(f.index, f.code, f.retryable) for f in failed] == [
        (0, "InvalidParameter", False),
        (1, "InvalidParameter", False),
        (2, "InvalidParameter", False),
    ]
    assert publisher.calls == 1
    assert bodies(received) == []


def test_sender_faults_fail_at_once_and_service_faults_are_retried_alone(client, topic, hooks):
    arn, received = topic
    writer = boto3.client("sns")
    faults = {"m0001": ("InternalError", False), "m0003": ("InvalidParameter", True)}

    def answer(params, n):
        entries = params["PublishBatchRequestEntries"]
        if n > 2:
            return None
        good = [e for e in entries if e["Message"] not in faults]
        if good:
            writer.publish_batch(TopicArn=arn, PublishBatchRequestEntries=good)
        failed = [
            {"Id": e["Id"], "Code": code, "Message": "x", "SenderFault": sender_fault}
            for e in entries
            if e["Message"] in faults
            for code, sender_fault in [faults[e["Message"]]]
        ]
        return {"Successful": [], "Failed": failed}

    sent = hooks.answer(client, "PublishBatch", answer)
    publisher = connector(client, arn)
    failed = publisher.publish_batch([entry(i) for i in range(4)])
    assert [(f.index, f.code, f.retryable) for f in failed] == [(3, "InvalidParameter", False)]
    assert [[e["Message"] for e in p["PublishBatchRequestEntries"]] for p in sent] == [
        ["m0000", "m0001", "m0002", "m0003"],
        ["m0001"],
        ["m0001"],
    ]
    assert bodies(received) == ["m0000", "m0001", "m0002"]


def test_a_missing_topic_fails_every_entry_at_once(client):
    arn = "arn:aws:sns:us-east-1:123456789012:missing"
    publisher = connector(client, arn)
    failed = publisher.publish_batch([entry(0), entry(1)])
    assert [(f.index, f.code, f.retryable) for f in failed] == [
        (0, "NotFound", False),
        (1, "NotFound", False),
    ]
    assert publisher.calls == 1


def test_publish_sends_text_or_json_and_retries_throttling(client, topic, hooks):
    arn, received = topic
    hooks.answer(
        client, "Publish", lambda params, n: hooks.error("Throttling", 400) if n == 1 else None
    )
    publisher = connector(client, arn)
    assert "MessageId" in publisher.publish("plain", Subject="s")
    publisher.publish({"id": 1})
    assert bodies(received) == ["plain", '{"id":1}']
    assert publisher.calls == 3


def test_publish_raises_retryable_when_errors_persist(client, topic, hooks):
    hooks.answer(client, "Publish", lambda params, n: hooks.error("InternalError", 500))
    publisher = connector(client, topic[0])
    with pytest.raises(RetryableError):
        publisher.publish("x")
    assert publisher.calls == NO_WAIT.max_attempts


def test_the_client_is_created_on_first_use(client, topic):
    from stream_core.connectors._client import shared_client

    arn, received = topic
    publisher = SnsConnector(arn)
    assert publisher._client is None
    assert publisher.publish_batch([entry(5)]) == []
    assert publisher.client is shared_client("sns")
    assert bodies(received) == ["m0005"]
