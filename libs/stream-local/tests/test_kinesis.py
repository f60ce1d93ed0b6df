"""Kinesis event source mappings against a real moto_server: the semantics Lambda gives a
handler (ordering, batching, partial batch responses, bisect, retries, destinations,
filters, record age, starting position)."""

from __future__ import annotations

import pytest

from stream_local.runtime import Clock, wait_for

pytestmark = pytest.mark.integration


def _mapping(function, stream_arn, **properties):
    return {
        "function": function["arn"],
        "source": stream_arn,
        "properties": {"StartingPosition": "TRIM_HORIZON", "BatchSize": 10, **properties},
    }


@pytest.fixture
def deployed(journal, journal_function, registry_of):
    """``deployed(stream_arn, **mapping properties)``: the journal function on the stream."""

    def make(stream_arn, **properties):
        function = journal_function("fn-kinesis", journal)
        mapping = _mapping(function, stream_arn, **properties)
        return registry_of("kinesis-test", [function], mappings=[mapping])

    return make


def _seen(journal, count):
    return wait_for(lambda: sum(len(b) for b in journal.batches()) >= count, timeout=15)


def test_records_of_a_shard_arrive_in_order_in_batches_of_batch_size(
    cloud, aws, journal, run, deployed
):
    stream = aws.stream(shards=2)
    payloads = [{"n": i, "key": f"key-{i % 5}"} for i in range(40)]
    aws.put(stream, payloads)
    run(cloud, deployed(stream, BatchSize=7))
    assert _seen(journal, 40)
    entries = journal.entries()
    assert all(len(e["ids"]) <= 7 for e in entries)
    by_shard: dict[str, list[int]] = {}
    by_key: dict[str, list[int]] = {}
    for entry in entries:
        shards = {r["eventID"].split(":")[0] for r in entry["records"]}
        assert len(shards) == 1, "a batch never mixes shards"
        by_shard.setdefault(shards.pop(), []).extend(int(i) for i in entry["ids"])
        for payload in entry["payloads"]:
            by_key.setdefault(payload["key"], []).append(payload["n"])
    assert len(by_shard) == 2
    for sequence in by_shard.values():
        assert sequence == sorted(sequence)  # integers: moto's per-shard counters
    for key, ns in by_key.items():
        assert ns == sorted(ns), key
    assert sorted(n for ns in by_key.values() for n in ns) == list(range(40))


def test_a_partial_batch_response_resumes_from_the_reported_record(
    cloud, aws, journal, run, deployed
):
    stream = aws.stream()
    payloads = [{"n": i} for i in range(6)]
    payloads[3]["partial_times"] = 1
    payloads[5]["partial_times"] = 1
    aws.put(stream, payloads)
    run(cloud, deployed(stream, FunctionResponseTypes=["ReportBatchItemFailures"]))
    assert wait_for(lambda: len(journal.entries()) >= 2, timeout=15)
    # The lowest reported record is where the shard resumes: 3, and 4 and 5 come again.
    assert journal.batches()[:2] == [[0, 1, 2, 3, 4, 5], [3, 4, 5]]


def test_without_report_batch_item_failures_the_response_is_ignored(
    cloud, aws, journal, run, deployed
):
    stream = aws.stream()
    aws.put(stream, [{"n": 0, "partial": True}, {"n": 1}])
    runtime = run(cloud, deployed(stream))
    assert _seen(journal, 2)
    wait_for(lambda: runtime.pollers[0].stats.invocations >= 1)
    assert journal.batches() == [[0, 1]]


def test_bisect_splits_a_failing_batch_in_halves_until_the_poison_record_is_alone(
    cloud, aws, journal, run, deployed
):
    stream = aws.stream()
    dlq_url, dlq_arn = aws.queue()
    payloads = [{"n": i} for i in range(8)]
    payloads[5]["fail"] = True
    sequences = aws.put(stream, payloads)
    run(
        cloud,
        deployed(
            stream,
            BisectBatchOnFunctionError=True,
            MaximumRetryAttempts=1,
            DestinationConfig={"OnFailure": {"Destination": dlq_arn}},
        ),
    )
    assert wait_for(lambda: journal.batches()[-1:] == [[6, 7]], timeout=15), journal.batches()
    assert journal.batches() == [
        [0, 1, 2, 3, 4, 5, 6, 7],
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [4, 5],
        [4],
        [5],
        [5],  # the one retry MaximumRetryAttempts allows; splitting did not count
        [6, 7],
    ]
    (failure,) = wait_for(lambda: aws.drain(dlq_url), timeout=5)
    info = failure["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (sequences[5], sequences[5])
    assert info["batchSize"] == 1 and info["streamArn"] == stream
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 2
    assert failure["responseContext"]["functionError"] == "Unhandled"


def test_exhausted_retries_send_the_batch_to_the_destination_and_the_shard_moves_on(
    cloud, aws, journal, run, deployed
):
    stream = aws.stream()
    topic_arn = cloud.client("sns").create_topic(Name=aws.name("topic"))["TopicArn"]
    inbox_url, inbox_arn = aws.queue()
    cloud.client("sns").subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=inbox_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    sequences = aws.put(stream, [{"n": 0}, {"n": 1, "fail": True}, {"n": 2}])
    run(
        cloud,
        deployed(
            stream,
            MaximumRetryAttempts=2,
            DestinationConfig={"OnFailure": {"Destination": topic_arn}},
        ),
    )
    assert wait_for(lambda: len(journal.entries()) >= 3, timeout=15)
    (failure,) = wait_for(lambda: aws.drain(inbox_url), timeout=5)  # through SNS
    assert failure["KinesisBatchInfo"]["startSequenceNumber"] == sequences[0]
    assert failure["KinesisBatchInfo"]["endSequenceNumber"] == sequences[2]
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    aws.put(stream, [{"n": 3}])
    assert wait_for(lambda: journal.batches()[-1:] == [[3]], timeout=10)
    assert journal.batches() == [[0, 1, 2]] * 3 + [[3]]


def test_the_batching_window_gathers_records_put_one_by_one(cloud, aws, journal, run, deployed):
    stream = aws.stream()
    run(cloud, deployed(stream, BatchSize=100, MaximumBatchingWindowInSeconds=1))
    for i in range(3):
        aws.put(stream, [{"n": i}])
    assert _seen(journal, 3)
    assert journal.batches() == [[0, 1, 2]]


def test_filter_criteria_deliver_only_matching_records(cloud, aws, journal, run, deployed):
    stream = aws.stream()
    aws.put(stream, [{"n": i, "kind": "keep" if i % 2 else "skip"} for i in range(6)])
    pattern = '{"data": {"kind": ["keep"]}}'
    runtime = run(cloud, deployed(stream, FilterCriteria={"Filters": [{"Pattern": pattern}]}))
    assert _seen(journal, 3)
    assert [n for batch in journal.batches() for n in batch] == [1, 3, 5]
    assert runtime.pollers[0].stats.filtered == 3


def test_records_older_than_the_maximum_age_go_to_the_destination_unprocessed(
    cloud, aws, journal, run, deployed
):
    stream = aws.stream()
    dlq_url, dlq_arn = aws.queue()
    aws.put(stream, [{"n": 0}, {"n": 1}])
    properties = {
        "MaximumRecordAgeInSeconds": 60,
        "DestinationConfig": {"OnFailure": {"Destination": dlq_arn}},
    }
    run(cloud, deployed(stream, **properties), clock=Clock(offset=120))
    (failure,) = wait_for(lambda: aws.drain(dlq_url), timeout=10)
    assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
    assert failure["KinesisBatchInfo"]["batchSize"] == 2
    assert journal.entries() == []


def test_latest_starts_after_the_records_already_in_the_stream(cloud, aws, journal, run, deployed):
    stream = aws.stream()
    aws.put(stream, [{"n": 0}])
    runtime = run(cloud, deployed(stream, StartingPosition="LATEST"))
    assert runtime.wait_ready()  # the iterator is taken when the poller starts
    aws.put(stream, [{"n": 1}])
    assert _seen(journal, 1)
    assert journal.batches() == [[1]]
