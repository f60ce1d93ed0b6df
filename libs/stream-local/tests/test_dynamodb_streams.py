"""DynamoDB Streams mappings and TTL against a real moto_server: records in Lambda's
format, in order; TTL expiry driven by the runtime clock, producing REMOVE records marked
with the TTL service's userIdentity."""

from __future__ import annotations

import time

import pytest

from stream_local.pollers.dynamodb_streams import TTL_IDENTITY
from stream_local.runtime import Clock, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def table(cloud, aws):
    """A table with a NEW_AND_OLD_IMAGES stream and TTL on ``expires``."""
    dynamodb = cloud.client("dynamodb")
    name = aws.name("table")
    created = dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    return name, created["TableDescription"]["LatestStreamArn"]


@pytest.fixture
def deployed(journal, journal_function, registry_of, table):
    def make(**properties):
        name, stream_arn = table
        function = journal_function("fn-trigger", journal)
        mapping = {
            "function": function["arn"],
            "source": stream_arn,
            "properties": {"StartingPosition": "TRIM_HORIZON", "BatchSize": 100, **properties},
        }
        return registry_of(
            "ddb-test",
            [function],
            mappings=[mapping],
            ttl=[{"logical_id": "Table", "table": name, "attribute": "expires"}],
        )

    return make


def _records(journal):
    return [record for entry in journal.entries() for record in entry["records"]]


def test_changes_arrive_in_order_as_lambda_dynamodb_records(cloud, table, journal, run, deployed):
    name, stream_arn = table
    dynamodb = cloud.client("dynamodb")
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "blob": {"B": b"\x00\x01"}})
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "2"}})
    dynamodb.delete_item(TableName=name, Key={"pk": {"S": "a"}})
    run(cloud, deployed())
    assert wait_for(lambda: len(_records(journal)) >= 3, timeout=10)
    records = _records(journal)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    first = records[0]
    assert first["eventSource"] == "aws:dynamodb" and first["eventSourceARN"] == stream_arn
    assert first["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}  # base64, as in Lambda
    assert isinstance(first["dynamodb"]["ApproximateCreationDateTime"], float)
    sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequences == sorted(sequences)
    assert "userIdentity" not in records[2]  # a delete by a user, not by TTL


def test_ttl_expiry_deletes_items_as_the_ttl_service(cloud, table, journal, run, deployed):
    name, _ = table
    dynamodb = cloud.client("dynamodb")
    now = int(time.time())
    items = {
        "expires-soon": {"N": str(now + 60)},
        "expires-later": {"N": str(now + 3600)},
        "not-a-number": {"S": str(now - 10)},
        "too-old": {"N": str(now - 6 * 365 * 24 * 3600)},  # AWS ignores these
    }
    for pk, expires in items.items():
        dynamodb.put_item(TableName=name, Item={"pk": {"S": pk}, "expires": expires})
    clock = Clock()
    runtime = run(cloud, deployed(), clock=clock, ttl_interval=0.1)
    assert wait_for(lambda: len(_records(journal)) >= 4, timeout=10)
    time.sleep(0.3)
    assert runtime.sweeper.deleted == 0  # nothing has expired yet
    clock.advance(120)
    removes = wait_for(
        lambda: [r for r in _records(journal) if r["eventName"] == "REMOVE"], timeout=10
    )
    (remove,) = removes
    assert remove["dynamodb"]["Keys"] == {"pk": {"S": "expires-soon"}}
    assert remove["userIdentity"] == TTL_IDENTITY
    assert remove["dynamodb"]["OldImage"]["expires"] == items["expires-soon"]
    left = {i["pk"]["S"] for i in dynamodb.scan(TableName=name)["Items"]}
    assert left == {"expires-later", "not-a-number", "too-old"}


def test_a_failing_batch_goes_to_the_destination_with_ddb_batch_info(
    cloud, aws, table, journal, run, deployed
):
    name, stream_arn = table
    dlq_url, dlq_arn = aws.queue()
    cloud.client("dynamodb").put_item(TableName=name, Item={"pk": {"S": "x"}})
    # The journal handler raises for every record carrying "fail": use a filter-free record
    # whose image says so.
    cloud.client("dynamodb").put_item(
        TableName=name, Item={"pk": {"S": "y"}, "fail": {"BOOL": True}}
    )
    run(
        cloud,
        deployed(
            MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": dlq_arn}},
            FilterCriteria={
                "Filters": [{"Pattern": '{"dynamodb": {"NewImage": {"fail": {"BOOL": [true]}}}}'}]
            },
        ),
    )
    (failure,) = wait_for(lambda: aws.drain(dlq_url), timeout=10)
    info = failure["DDBStreamBatchInfo"]
    assert info["streamArn"] == stream_arn and info["batchSize"] == 1
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
