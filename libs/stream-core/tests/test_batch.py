"""Partial batch responses per source."""

import pytest

from stream_core.batch import item_identifier, partial_batch_response, source_of
from stream_core.errors import RetryableError


def sqs(i, fifo=False, group=None):
    record = {
        "eventSource": "aws:sqs",
        "messageId": f"m{i}",
        "eventSourceARN": "arn:aws:sqs:us-east-1:1:q" + (".fifo" if fifo else ""),
        "attributes": {},
    }
    if group:
        record["attributes"]["MessageGroupId"] = group
    return record


def kinesis(seq):
    return {"eventSource": "aws:kinesis", "kinesis": {"sequenceNumber": seq}}


def test_sqs_lists_every_failed_message():
    records = [sqs(i) for i in range(4)]
    response = partial_batch_response(records, [records[3], records[1], records[1]])
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m3"}]}


def test_sqs_fifo_blocks_the_rest_of_the_group():
    records = [sqs(0, True, "a"), sqs(1, True, "b"), sqs(2, True, "a"), sqs(3, True, "b"),
               sqs(4, True, "a")]
    response = partial_batch_response(records, [records[2]])
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == ["m2", "m4"]


def test_streams_report_the_lowest_sequence_number_as_integers():
    # "9" > "10" as strings; checkpointing must compare numerically
    records = [kinesis("9"), kinesis("10"), kinesis("100")]
    response = partial_batch_response(records, [records[2], records[0]])
    assert response == {"batchItemFailures": [{"itemIdentifier": "9"}]}
    ddb = [{"eventSource": "aws:dynamodb", "dynamodb": {"SequenceNumber": s}}
           for s in ("300", "4000")]
    assert partial_batch_response(ddb, ddb) == {"batchItemFailures": [{"itemIdentifier": "300"}]}


def test_nothing_to_retry_is_an_empty_response_for_any_source():
    assert partial_batch_response([], []) == {"batchItemFailures": []}


@pytest.mark.parametrize("record", [
    {"EventSource": "aws:sns", "Sns": {}},
    {"eventSource": "aws:s3", "s3": {}},
    {"version": "0", "detail-type": "x", "detail": {}},
])
def test_async_sources_fail_the_invocation(record):
    with pytest.raises(RetryableError, match="no partial"):
        partial_batch_response([record], [record])


def test_identifiers_and_sources():
    assert source_of(sqs(1)) == "sqs" and item_identifier(sqs(1)) == "m1"
    assert item_identifier(kinesis("5")) == "5"
    assert source_of({"EventSource": "aws:sns"}) == "sns"
    assert source_of({}) == "unknown"
