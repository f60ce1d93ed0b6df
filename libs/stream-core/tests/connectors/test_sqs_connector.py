"""SQS connector against moto: SendMessageBatch limits, Ids, SenderFault, read-back.

moto's SQS slows down with queue depth (receiving 600 messages takes ~15 s in-process), so
read-back tests keep a few dozen messages; the 1,234-entry test answers with a hook.
"""

import math

import boto3
import pytest

from stream_core.connectors import RetryPolicy, SqsConnector
from stream_core.connectors.sqs import MAX_MESSAGE_BYTES, MAX_REQUEST_BYTES, message_size
from stream_core.errors import RetryableError

NO_WAIT = RetryPolicy(max_attempts=4, base_delay=0)


@pytest.fixture
def client(aws):
    return boto3.client("sqs")


@pytest.fixture
def queue_url(client):
    return client.create_queue(QueueName="orders")["QueueUrl"]


def connector(client, queue_url, **kwargs):
    return SqsConnector(queue_url, client=client, retry=kwargs.pop("retry", NO_WAIT), **kwargs)


def received(client, queue_url):
    messages = []
    while True:
        response = client.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        if not response.get("Messages"):
            return messages
        messages += response["Messages"]


def bodies(client, queue_url):
    return sorted(m["Body"] for m in received(client, queue_url))


def entry(i, size=None):
    body = f"m{i:04}"
    return {"MessageBody": body if size is None else body + "x" * (size - len(body))}


def all_succeed(params, n):
    ids = [e["Id"] for e in params["Entries"]]
    return {"Successful": [{"Id": i, "MessageId": i, "MD5OfMessageBody": "x"} for i in ids]}


def test_1234_entries_take_ceil_1234_over_10_calls(client, queue_url, hooks):
    sent = hooks.answer(client, "SendMessageBatch", all_succeed)
    queue = connector(client, queue_url)
    entries = [entry(i) for i in range(1234)]
    assert queue.send_message_batch(entries) == []
    assert queue.calls == len(sent) == math.ceil(1234 / 10)
    assert all(len(params["Entries"]) <= 10 for params in sent)
    assert all(
        len({e["Id"] for e in params["Entries"]}) == len(params["Entries"]) for params in sent
    )
    assert sorted(e["MessageBody"] for p in sent for e in p["Entries"]) == [
        e["MessageBody"] for e in entries
    ]


def test_messages_and_attributes_arrive(client, queue_url, hooks):
    sent = hooks.requests(client, "SendMessageBatch")
    attributes = {"type": {"DataType": "String", "StringValue": "thing-created"}}
    entries = [{**entry(i), "MessageAttributes": attributes} for i in range(25)]
    queue = connector(client, queue_url)
    assert queue.send_message_batch(entries) == []
    assert sorted(len(params["Entries"]) for params in sent) == [5, 10, 10]
    messages = received(client, queue_url)
    assert sorted(m["Body"] for m in messages) == [f"m{i:04}" for i in range(25)]
    assert all(m["MessageAttributes"]["type"]["StringValue"] == "thing-created" for m in messages)
    assert entries[0] == {**entry(0), "MessageAttributes": attributes}  # no Id added to input


def test_requests_carry_up_to_1_mib_of_messages(client, queue_url, hooks):
    sent = hooks.requests(client, "SendMessageBatch")
    assert MAX_REQUEST_BYTES == 1024 * 1024 and MAX_MESSAGE_BYTES == 256 * 1024
    big = entry(1, MAX_MESSAGE_BYTES - 50)  # just under a message's limit
    assert message_size(big) == MAX_MESSAGE_BYTES - 50
    queue = connector(client, queue_url, max_in_flight=1)
    # ten messages of 100 KiB: 1,000 KiB, one request (the 256 KiB rule of old took four)
    assert queue.send_message_batch([entry(i, 100 * 1024) for i in range(10)]) == []
    # four messages just under 256 KiB fill a request; the fifth goes in the next one
    assert queue.send_message_batch([big] * 5) == []
    assert [len(params["Entries"]) for params in sent] == [10, 4, 1]
    assert sorted(len(b) for b in bodies(client, queue_url)) == [100 * 1024] * 10 + [
        MAX_MESSAGE_BYTES - 50
    ] * 5


def test_an_entry_over_the_limit_fails_alone_without_a_call(client, queue_url, hooks):
    sent = hooks.requests(client, "SendMessageBatch")
    tipped = {
        **entry(1, MAX_MESSAGE_BYTES - 10),
        "MessageAttributes": {"pad": {"DataType": "String", "StringValue": "0123456789"}},
    }
    assert message_size(tipped) == MAX_MESSAGE_BYTES - 10 + 3 + 6 + 10
    queue = connector(client, queue_url)
    failed = queue.send_message_batch([entry(0), tipped, entry(2)])
    assert [(f.index, f.code, f.retryable) for f in failed] == [(1, "EntryTooLarge", False)]
    assert [len(params["Entries"]) for params in sent] == [2]
    assert bodies(client, queue_url) == ["m0000", "m0002"]


def test_messages_up_to_1_mib_for_a_queue_that_allows_them(client, queue_url):
    assert connector(client, queue_url).send_message_batch([entry(0, 300 * 1024)])[0].code == (
        "EntryTooLarge"
    )
    queue = connector(client, queue_url, max_message_bytes=1024 * 1024)
    assert queue.send_message_batch([entry(0, 300 * 1024)]) == []
    assert [len(b) for b in bodies(client, queue_url)] == [300 * 1024]


def test_ids_are_assigned_when_missing_and_kept_when_given(client, queue_url, hooks):
    sent = hooks.requests(client, "SendMessageBatch")
    entries = [entry(0), {**entry(1), "Id": "1"}, entry(2), {**entry(3), "Id": "mine"}, entry(4)]
    entries[2]["Id"] = ""
    assert connector(client, queue_url).send_message_batch(entries) == []
    assert [e["Id"] for e in sent[0]["Entries"]] == ["0", "1", "2", "mine", "4"]
    entries = [entry(0), {**entry(1), "Id": "0"}]  # a given Id takes position 0's
    assert connector(client, queue_url).send_message_batch(entries) == []
    assert [e["Id"] for e in sent[1]["Entries"]] == ["0_", "0"]
    assert len(bodies(client, queue_url)) == 7


def partial(client, queue_url, hooks, failing):
    """Answer call ``n``: the entries whose body is in ``failing(n)`` (body -> (code,
    sender_fault)) fail, the others are sent through a client without hooks."""
    writer = boto3.client("sqs")

    def answer(params, n):
        faults = failing(n)
        if not faults:
            return None
        good = [e for e in params["Entries"] if e["MessageBody"] not in faults]
        if good:
            writer.send_message_batch(QueueUrl=queue_url, Entries=good)
        failed = []
        for e in params["Entries"]:
            if e["MessageBody"] in faults:
                code, sender_fault = faults[e["MessageBody"]]
                failed.append({"Id": e["Id"], "Code": code, "SenderFault": sender_fault})
        return {"Successful": [], "Failed": failed}

    return hooks.answer(client, "SendMessageBatch", answer)


def test_service_faults_are_retried_and_sender_faults_fail_at_once(client, queue_url, hooks):
    first = {"m0001": ("InternalError", False), "m0003": ("InvalidParameterValue", True)}
    sent = partial(client, queue_url, hooks, lambda n: first if n == 1 else {})
    queue = connector(client, queue_url)
    failed = queue.send_message_batch([entry(i) for i in range(5)])
    assert [(f.index, f.code, f.retryable) for f in failed] == [(3, "InvalidParameterValue", False)]
    assert failed[0].entry == entry(3)
    assert [[e["MessageBody"] for e in params["Entries"]] for params in sent][1] == ["m0001"]
    assert queue.calls == 2
    assert bodies(client, queue_url) == ["m0000", "m0001", "m0002", "m0004"]


def test_a_service_fault_that_persists_is_reported_as_retryable(client, queue_url, hooks):
    sent = partial(client, queue_url, hooks, lambda n: {"m0000": ("ServiceUnavailable", False)})
    queue = connector(client, queue_url)
    failed = queue.send_message_batch([entry(0), entry(1)])
    assert [(f.index, f.code, f.retryable) for f in failed] == [(0, "ServiceUnavailable", True)]
    assert [len(params["Entries"]) for params in sent] == [2, 1, 1, 1]
    assert bodies(client, queue_url) == ["m0001"]


def test_a_throttled_request_is_retried_whole(client, queue_url, hooks):
    sent = hooks.answer(
        client,
        "SendMessageBatch",
        lambda params, n: hooks.error("RequestThrottled", 400) if n == 1 else None,
    )
    assert connector(client, queue_url).send_message_batch([entry(0), entry(1)]) == []
    assert len(sent) == 2
    assert bodies(client, queue_url) == ["m0000", "m0001"]


def test_a_missing_queue_fails_every_entry_at_once(client, queue_url):
    queue = connector(client, queue_url.replace("orders", "missing"))
    failed = queue.send_message_batch([entry(0), entry(1)])
    assert [f.index for f in failed] == [0, 1]
    assert {f.code for f in failed} == {"AWS.SimpleQueueService.NonExistentQueue"}
    assert not any(f.retryable for f in failed)
    assert queue.calls == 1


def test_send_message_sends_text_or_json(client, queue_url, hooks):
    hooks.answer(
        client,
        "SendMessage",
        lambda params, n: hooks.error("InternalError", 500) if n == 1 else None,
    )
    queue = connector(client, queue_url)
    assert "MessageId" in queue.send_message("plain")
    queue.send_message({"id": 1}, DelaySeconds=0)
    assert bodies(client, queue_url) == ["plain", '{"id":1}']
    assert queue.calls == 3


def test_send_message_raises_retryable_when_throttling_persists(client, queue_url, hooks):
    hooks.answer(client, "SendMessage", lambda params, n: hooks.error("RequestThrottled"))
    queue = connector(client, queue_url)
    with pytest.raises(RetryableError):
        queue.send_message("x")
    assert queue.calls == NO_WAIT.max_attempts


def test_the_client_is_created_on_first_use(client, queue_url):
    from stream_core.connectors._client import shared_client

    queue = SqsConnector(queue_url)
    assert queue._client is None
    assert queue.send_message_batch([entry(0)]) == []
    assert queue.client is shared_client("sqs")
    assert bodies(client, queue_url) == ["m0000"]


def test_failed_entries_are_matched_by_id():
    from stream_core.connectors._batch import failures_by_id

    failed = [
        {"Id": "c", "Code": "InternalError", "Message": "m", "SenderFault": False},
        {"Id": "a", "Code": "InvalidMessageContents", "Message": "m", "SenderFault": True},
        {"Id": "b", "Code": "Throttling", "Message": "m"},  # no SenderFault: the code decides
        {"Id": "unknown", "Code": "InternalError", "Message": "m", "SenderFault": False},
    ]
    assert failures_by_id(["a", "b", "c"], failed) == [
        (2, "InternalError", "m", True),
        (0, "InvalidMessageContents", "m", False),
        (1, "Throttling", "m"),
    ]
