"""What moto's CloudFormation ignores or skips, set up through the API after the stack:
DynamoDB TTL (``TimeToLiveSpecification`` is ignored) and SNS subscriptions (the
``AWS::SNS::Subscription`` type is skipped).

SQS (and other non-Lambda) subscriptions are created as they are. A ``lambda``
subscription cannot work inside moto (it would invoke through Docker), so it gets an SQS
*tap*: a queue subscribed to the topic in its place, which the runtime drains to invoke the
function asynchronously with an SNS event (``sns.py``). The tap's URL is added to the plan
entry (``tap_queue_url``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from .cloud import Cloud

__all__ = ["set_up_outside_cloudformation"]


def set_up_outside_cloudformation(
    cloud: Cloud, plan: Mapping[str, Any], say: Callable[[str], None]
) -> None:
    """Enable TTL and create the SNS subscriptions of a resolved ``plan`` (idempotent)."""
    dynamodb = cloud.client("dynamodb")
    for entry in plan.get("ttl", []):
        dynamodb.update_time_to_live(
            TableName=entry["table"],
            TimeToLiveSpecification={"Enabled": True, "AttributeName": entry["attribute"]},
        )
    for entry in plan.get("subscriptions", []):
        _subscribe(cloud, plan.get("stack_name", "stack"), entry, say)


def _subscribe(
    cloud: Cloud, stack_name: str, entry: dict[str, Any], say: Callable[[str], None]
) -> None:
    props = entry["properties"]
    sns, sqs = cloud.client("sns"), cloud.client("sqs")
    protocol, endpoint = props["Protocol"], props["Endpoint"]
    attributes = {
        name: json.dumps(props[name]) if isinstance(props[name], (dict, list)) else str(props[name])
        for name in ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy")
        if props.get(name) is not None
    }
    attributes = {k: v.lower() if v in ("True", "False") else v for k, v in attributes.items()}
    if protocol == "lambda":
        queue = f"sl-sns-{stack_name}-{entry['logical_id']}"[:80]
        url = sqs.create_queue(QueueName=queue)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        entry["tap_queue_url"] = url
        entry["function"] = endpoint
        protocol, endpoint = "sqs", arn["Attributes"]["QueueArn"]
        attributes.pop("RawMessageDelivery", None)  # the runtime needs the SNS envelope
    existing = sns.list_subscriptions_by_topic(TopicArn=props["TopicArn"]).get("Subscriptions", [])
    if any(s["Protocol"] == protocol and s["Endpoint"] == endpoint for s in existing):
        return
    sns.subscribe(
        TopicArn=props["TopicArn"], Protocol=protocol, Endpoint=endpoint, Attributes=attributes
    )
    say(f"{entry['logical_id']}: SNS subscription ({props['Protocol']}) created through the API")
