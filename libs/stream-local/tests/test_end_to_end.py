"""The whole path on a real moto_server: serverless packages the fixture service, the
deployer creates its stack, an event put on the bus reaches the handler through the rule and
the Kinesis stream, and the handler's write lands in DynamoDB."""

from __future__ import annotations

import json

import pytest

from stream_local.deploy import deploy
from stream_local.log import DeliveryLog
from stream_local.registry import Registry
from stream_local.runtime import Runtime, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def hub(cloud, packaged):
    package = packaged("hub")
    deployment = deploy(cloud, package)
    registry = Registry()
    registry.add(deployment)
    registry.save(cloud)
    return deployment


def test_bus_event_reaches_the_handler_through_kinesis_and_lands_in_dynamodb(cloud, hub, unique):
    log = DeliveryLog(stream=None)
    with Runtime(cloud, Registry.load(cloud), log=log):
        cloud.client("events").put_events(
            Entries=[
                {
                    "EventBusName": hub.outputs["BusName"],
                    "Source": "tests",
                    "DetailType": "thing-created",
                    "Detail": json.dumps(
                        {"id": f"thing-{unique}", "type": "thing-created", "partition_key": "p-7"}
                    ),
                }
            ]
        )
        table = cloud.client("dynamodb")

        def saved():
            return table.get_item(
                TableName="sl-fixture-hub-local-things", Key={"pk": {"S": f"thing-{unique}"}}
            ).get("Item")

        item = wait_for(saved, timeout=20)
    assert item is not None, "\n".join(log.lines)
    assert item["type"] == {"S": "thing-created"}
    assert item["function"] == {"S": "sl-fixture-hub-local-listener"}
    # InputPath $.detail put the domain event itself on the stream, keyed by PartitionKeyPath.
    assert item["record_partition_key"] == {"S": "p-7"}
    listener = log.for_function("sl-fixture-hub-local-listener")
    assert listener and listener[0].source.startswith("kinesis:sl-fixture-hub-local-stream/")


def test_the_deployment_keeps_the_template_semantics_as_runtime_config(hub):
    (mapping,) = hub.plan["mappings"]
    assert mapping["source"].endswith(":stream/sl-fixture-hub-local-stream")
    assert mapping["properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    (rule,) = hub.plan["rules"]
    (target,) = rule["targets"]
    assert target["KinesisParameters"] == {"PartitionKeyPath": "$.detail.partition_key"}
    assert target["InputPath"] == "$.detail"
    (function,) = hub.functions
    assert function["environment"]["BUS_NAME"] == "sl-fixture-hub-local-bus"
    assert function["handler"] == "src/hub_fixture/listener.handler"


def test_the_artifact_is_in_the_deployment_bucket_where_sls_deploy_puts_it(cloud, hub, packaged):
    (key,) = packaged("hub").artifacts
    bucket = hub.outputs["ServerlessDeploymentBucketName"]
    body = cloud.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == packaged("hub").artifacts[key].read_bytes()


def test_redeploying_updates_the_stack_in_place(cloud, hub, packaged):
    again = deploy(cloud, packaged("hub"))
    assert again.created is False
    assert again.outputs["StreamArn"] == hub.outputs["StreamArn"]
    exports = {e["Name"] for e in cloud.client("cloudformation").list_exports()["Exports"]}
    assert "sl-fixture-hub-local-stream-arn" in exports
