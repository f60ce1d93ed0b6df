"""Two packaged services on their own moto_server through ``LocalSystem``: deploy order
from Fn::ImportValue, and a scenario across everything moto lacks — a bus event through the
hub's stream into the consumer's table, read over its HTTP API, expired by TTL (clock moved
forward), the REMOVE turned into a bus event, routed by a rule to an SQS worker and to a
Firehose delivery stream in S3."""

from __future__ import annotations

import gzip
import json
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
pytest_plugins = ["stream_local.testing"]

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def local_services():
    """The fixture services, the consumer first: it imports the hub's exports."""
    return [FIXTURES / "consumer", FIXTURES / "hub"]


@pytest.fixture
def system(local_system):  # stream_local.testing's session fixture
    return local_system


def test_services_are_deployed_in_dependency_order(system):
    assert [d.service for d in system.deployments] == ["sl-fixture-hub", "sl-fixture-consumer"]
    consumer = system.registry.deployments["sl-fixture-consumer-local"]
    skipped = {s["type"] for s in consumer.plan["skipped"]}
    assert {"AWS::CloudWatch::Alarm", "AWS::SQS::QueuePolicy", "AWS::ApiGatewayV2::Api"} <= skipped
    assert [f["name"] for f in consumer.plan["firehoses"]] == ["sl-fixture-consumer-local-Lake"]
    assert consumer.outputs["LakeStreamArn"].endswith(
        "deliverystream/sl-fixture-consumer-local-Lake"
    )


def test_an_order_flows_from_the_bus_to_expiry_through_every_local_part(system):
    table = "sl-fixture-consumer-local-orders"
    dynamodb = system.cloud.client("dynamodb")
    system.send({"type": "order-submitted", "id": "o-42", "partition_key": "o-42"})

    def stored():
        return dynamodb.get_item(TableName=table, Key={"pk": {"S": "o-42"}}).get("Item")

    assert system.wait_for(stored), "\n".join(system.log.lines)
    with urllib.request.urlopen(f"{system.runtime.rest.url}/orders/o-42", timeout=10) as response:
        assert json.loads(response.read())["status"] == "submitted"

    system.clock.advance(120)  # past the order's TTL: the sweeper deletes it

    def marked():
        return dynamodb.get_item(TableName=table, Key={"pk": {"S": "expired#o-42"}}).get("Item")

    assert system.wait_for(marked, timeout=20), "\n".join(system.log.lines)
    assert stored() is None
    keys = system.runtime.firehose.flush()
    assert len(keys) == 1 and keys[0].startswith("expired/") and keys[0].endswith(".gz")
    body = (
        system.cloud.client("s3")
        .get_object(Bucket=_lake_bucket(system), Key=keys[0])["Body"]
        .read()
    )
    (line,) = gzip.decompress(body).decode().splitlines()
    assert json.loads(line)["type"] == "order-expired" and json.loads(line)["order_id"] == "o-42"
    functions = {d.function for d in system.log.deliveries}
    assert {
        "sl-fixture-hub-local-listener",
        "sl-fixture-consumer-local-listener",
        "sl-fixture-consumer-local-trigger",
        "sl-fixture-consumer-local-worker",
        "sl-fixture-consumer-local-api",
    } <= functions
    assert not [line for line in system.log.lines if line.startswith("fault")]


def _lake_bucket(system):
    consumer = system.registry.deployments["sl-fixture-consumer-local"]
    arn = consumer.plan["firehoses"][0]["properties"]["ExtendedS3DestinationConfiguration"][
        "BucketARN"
    ]
    return arn.rsplit(":", 1)[-1]
