"""moto_speed: the server stream-local starts answers as moto does, only faster: queries by
a table's key return the partition's items in order and in pages, index queries and scans
are untouched, PutEvents transforms targets' input the same every time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stream_local import moto_entry
from stream_local.runtime import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def table(cloud, aws):
    dynamodb = cloud.client("dynamodb")
    name = aws.name("table")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "data")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "DataIndex",
                "KeySchema": [
                    {"AttributeName": "data", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for p in range(20):
        for s in range(5):
            dynamodb.put_item(
                TableName=name,
                Item={
                    "pk": {"S": f"p{p:02d}"},
                    "sk": {"S": f"s{4 - s}"},  # written out of order
                    "data": {"S": f"d{p % 3}"},
                },
            )
    return name


def _query(dynamodb, **kwargs):
    items, start = [], None
    while True:
        page = dynamodb.query(**kwargs, **({"ExclusiveStartKey": start} if start else {}))
        items += [(i["pk"]["S"], i["sk"]["S"]) for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def test_a_query_by_key_answers_the_partition_in_order_and_in_pages(cloud, table):
    dynamodb = cloud.client("dynamodb")
    key = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "p07"}}}
    expected = [("p07", f"s{s}") for s in range(5)]
    assert _query(dynamodb, TableName=table, **key) == expected
    assert _query(dynamodb, TableName=table, Limit=2, **key) == expected
    assert _query(dynamodb, TableName=table, ScanIndexForward=False, **key) == expected[::-1]
    ranged = _query(
        dynamodb,
        TableName=table,
        KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
        ExpressionAttributeValues={":p": {"S": "p07"}, ":a": {"S": "s1"}, ":b": {"S": "s3"}},
    )
    assert ranged == expected[1:4]
    none = _query(
        dynamodb,
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "nope"}},
    )
    assert none == []


def test_index_queries_and_scans_still_see_every_item(cloud, table):
    dynamodb = cloud.client("dynamodb")
    by_data = _query(
        dynamodb,
        TableName=table,
        IndexName="DataIndex",
        KeyConditionExpression="#d = :d",
        ExpressionAttributeNames={"#d": "data"},
        ExpressionAttributeValues={":d": {"S": "d1"}},
    )
    # moto's order: the index's keys, then the table's key (a total order)
    assert by_data == sorted(
        ((f"p{p:02d}", f"s{s}") for p in range(20) if p % 3 == 1 for s in range(5)),
        key=lambda item: (item[1], item[0]),
    )
    scanned = dynamodb.scan(TableName=table)["Items"]
    assert len(scanned) == 100


def test_put_events_transforms_each_event_the_same_way(cloud, aws):
    events, sqs = cloud.client("events"), cloud.client("sqs")
    bus = aws.name("bus")
    events.create_event_bus(Name=bus)
    url, arn = aws.queue()
    events.put_rule(Name=aws.name("rule"), EventBusName=bus, EventPattern='{"source": ["t"]}')
    rule = events.list_rules(EventBusName=bus)["Rules"][0]["Name"]
    events.put_targets(
        Rule=rule,
        EventBusName=bus,
        Targets=[
            {
                "Id": "q",
                "Arn": arn,
                "InputTransformer": {
                    "InputPathsMap": {"n": "$.detail.n"},
                    "InputTemplate": '{"got": <n>}',
                },
            }
        ],
    )
    for n in range(3):  # the compiled expression is used again for the later events
        events.put_events(
            Entries=[
                {"EventBusName": bus, "Source": "t", "DetailType": "d", "Detail": f'{{"n": {n}}}'}
            ]
        )
    got: list[int] = []

    def drained():
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            got.append(json.loads(message["Body"])["got"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(got) >= 3

    assert wait_for(drained, timeout=10)
    assert sorted(got) == [0, 1, 2]


def test_the_server_entry_applies_them_once():
    # in a process of its own, as moto_entry.main does (the test process keeps plain moto)
    code = (
        "from stream_local import moto_speed;"
        "assert moto_speed.apply() == moto_speed.apply() == list(moto_speed.SPEEDUPS);"
        "import jsonpath_ng.ext, moto.backends as b;"
        "from moto.dynamodb.models.table import Table;"
        "assert hasattr(jsonpath_ng.ext.parse, 'cache_info');"
        "assert b.list_of_moto_modules() is b.list_of_moto_modules();"
        "assert 'dynamodb' in b.list_of_moto_modules();"
        "assert Table.query.__wrapped__ is not None"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    source = Path(moto_entry.__file__).read_text()
    assert "speed_up()" in source.split("def main", 1)[1]
