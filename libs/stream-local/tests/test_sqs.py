"""SQS event source mappings against a real moto_server: batches, deletes, partial batch
responses, retries through the visibility timeout and redrive to the dead-letter queue."""

from __future__ import annotations

import json

import pytest

from stream_local.runtime import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def queues(aws):
    """A work queue (visibility 1 s) whose messages go to a DLQ after 2 receives."""
    dlq_url, dlq_arn = aws.queue()
    url, arn = aws.queue(
        VisibilityTimeout="1",
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
    )
    return url, arn, dlq_url


@pytest.fixture
def deployed(journal, journal_function, registry_of):
    def make(queue_arn, **properties):
        function = journal_function("fn-sqs", journal)
        mapping = {
            "function": function["arn"],
            "source": queue_arn,
            "properties": {"BatchSize": 10, **properties},
        }
        return registry_of("sqs-test", [function], mappings=[mapping])

    return make


def _send(cloud, url, payloads):
    sqs = cloud.client("sqs")
    for payload in payloads:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(payload))


def _depth(cloud, url):
    attributes = cloud.client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def test_messages_are_delivered_in_sqs_records_and_deleted(
    cloud, aws, queues, journal, run, deployed
):
    url, arn, _dlq = queues
    _send(cloud, url, [{"n": i} for i in range(3)])
    run(cloud, deployed(arn, BatchSize=3, MaximumBatchingWindowInSeconds=0.5))
    assert wait_for(lambda: sum(len(b) for b in journal.batches()) >= 3, timeout=10)
    assert wait_for(lambda: _depth(cloud, url) == 0, timeout=5)
    (entry,) = journal.entries()
    record = entry["records"][0]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == arn
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert sorted(p["n"] for p in entry["payloads"]) == [0, 1, 2]


def test_reported_failures_are_retried_alone_then_redriven_to_the_dlq(
    cloud, queues, journal, run, deployed
):
    url, arn, dlq_url = queues
    _send(cloud, url, [{"n": 0}, {"n": 1, "partial": True}, {"n": 2}])
    run(
        cloud,
        deployed(
            arn,
            MaximumBatchingWindowInSeconds=0.5,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        ),
    )
    dead = wait_for(lambda: _dead_letters(cloud, dlq_url), timeout=15)
    assert [json.loads(m["Body"])["n"] for m in dead] == [1]
    seen = [n for batch in journal.batches() for n in batch]
    assert sorted(seen) == [0, 1, 1, 2]  # n=1 twice (maxReceiveCount 2), the others once
    assert _depth(cloud, url) == 0


def test_a_function_error_retries_the_whole_batch_until_the_redrive(
    cloud, queues, journal, run, deployed
):
    url, arn, dlq_url = queues
    _send(cloud, url, [{"n": 0}, {"n": 1, "fail": True}])
    run(cloud, deployed(arn, MaximumBatchingWindowInSeconds=0.5))
    assert wait_for(lambda: _depth(cloud, dlq_url) == 2, timeout=15)
    dead = _dead_letters(cloud, dlq_url)
    assert sorted(json.loads(m["Body"])["n"] for m in dead) == [0, 1]
    assert sorted(n for batch in journal.batches() for n in batch) == [0, 0, 1, 1]


def test_filter_criteria_delete_what_does_not_match(cloud, aws, journal, run, deployed):
    url, arn = aws.queue()
    _send(cloud, url, [{"n": i, "kind": "keep" if i % 2 else "skip"} for i in range(4)])
    pattern = json.dumps({"body": {"kind": ["keep"]}})
    runtime = run(
        cloud,
        deployed(
            arn,
            MaximumBatchingWindowInSeconds=0.5,
            FilterCriteria={"Filters": [{"Pattern": pattern}]},
        ),
    )
    assert wait_for(lambda: sum(len(b) for b in journal.batches()) >= 2, timeout=10)
    assert sorted(n for batch in journal.batches() for n in batch) == [1, 3]
    assert wait_for(lambda: _depth(cloud, url) == 0, timeout=5)
    assert runtime.pollers[0].stats.filtered == 2


def _dead_letters(cloud, url, keep=False):
    messages = (
        cloud.client("sqs")
        .receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0 if keep else 30)
        .get("Messages", [])
    )
    return messages
