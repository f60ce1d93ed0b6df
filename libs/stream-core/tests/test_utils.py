import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal

import pytest
from boto3.dynamodb.types import Binary

from stream_core.utils.dynamodb import pk_condition, timestamp_condition, update_expression
from stream_core.utils.json import dumps, size_of
from stream_core.utils.opt import DEFAULT_OPTIONS
from stream_core.utils.time import now, ttl


def test_dumps_handles_event_types_and_refuses_the_rest():
    text = dumps(
        {"n": Decimal("3"), "f": Decimal("1.5"), "s": {2, 1}, "d": dt.date(2026, 1, 2),
         "b": b"\x00\x01", "bin": Binary(b"\x02"), "u": "é"}
    )
    assert json.loads(text) == {"n": 3, "f": 1.5, "s": [1, 2], "d": "2026-01-02",
                                "b": "AAE=", "bin": "Ag==", "u": "é"}
    assert " " not in text
    with pytest.raises(TypeError, match="object"):
        dumps({"x": object()})
    assert size_of("é") == 2 and size_of("ab") == 2


def test_update_expression_sets_and_removes():
    request = update_expression({"name": "Thing", "status": None, "last-seen": 5})
    assert request["UpdateExpression"] == "SET #name = :name, #attr2 = :attr2 REMOVE #status"
    assert request["ExpressionAttributeNames"] == {
        "#name": "name", "#status": "status", "#attr2": "last-seen"
    }
    assert request["ExpressionAttributeValues"] == {":name": "Thing", ":attr2": 5}
    assert request["ReturnValues"] == "ALL_NEW"
    assert "ExpressionAttributeValues" not in update_expression({"gone": None})


def test_update_expression_works_against_dynamodb(aws):
    import boto3

    table = boto3.resource("dynamodb").create_table(
        TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table.put_item(Item={"pk": "1", "status": "old", "timestamp": 5})
    updated = table.update_item(
        Key={"pk": "1"},
        **update_expression({"name": "Thing", "status": None, "timestamp": 6}),
        **timestamp_condition(),
    )["Attributes"]
    assert updated == {"pk": "1", "name": "Thing", "timestamp": 6}
    with pytest.raises(table.meta.client.exceptions.ConditionalCheckFailedException):
        table.update_item(Key={"pk": "1"}, **update_expression({"timestamp": 4}),
                          **timestamp_condition())
    with pytest.raises(table.meta.client.exceptions.ConditionalCheckFailedException):
        table.put_item(Item={"pk": "1"}, **pk_condition())


def test_time_helpers():
    assert abs(now() - dt.datetime.now().timestamp() * 1000) < 5000
    assert ttl(86_400_000, 1) == 172_800


def test_default_options_read_the_environment_on_lookup(monkeypatch):
    monkeypatch.setenv("BUS_NAME", "first")
    assert {**DEFAULT_OPTIONS}["bus_name"] == "first"
    monkeypatch.setenv("BUS_NAME", "second")
    assert DEFAULT_OPTIONS["bus_name"] == "second"
    assert set(DEFAULT_OPTIONS) >= {"logger", "bus_name", "publish", "source"}


def test_handler_import_does_not_import_boto3_or_powertools_eagerly():
    code = (
        "import sys\n"
        "from stream_core.pipelines import StreamPipeline, initialize_from, stream_handler\n"
        "from stream_core.events.kinesis import from_kinesis\n"
        "from stream_core.flavors.task import task\n"
        "print('boto3' in sys.modules, 'botocore' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
