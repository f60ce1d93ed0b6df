"""SNS subscriptions (skipped by moto's CloudFormation) set up through the API: Lambda
subscriptions through a tap queue, with the SNS event and the filter policy."""

from __future__ import annotations

import json

import pytest

from stream_local.outside import set_up_outside_cloudformation
from stream_local.runtime import wait_for

pytestmark = pytest.mark.integration


def test_a_lambda_subscription_delivers_sns_events_honouring_the_filter_policy(
    cloud, aws, journal, journal_function, registry_of, run
):
    sns = cloud.client("sns")
    topic = sns.create_topic(Name=aws.name("topic"))["TopicArn"]
    function = journal_function("fn-sns", journal)
    queue_url, queue_arn = aws.queue()
    subscriptions = [
        {
            "logical_id": "ToFn",
            "type": "AWS::SNS::Subscription",
            "properties": {
                "TopicArn": topic,
                "Protocol": "lambda",
                "Endpoint": function["arn"],
                "FilterPolicy": {"kind": ["keep"]},
            },
        },
        {
            "logical_id": "ToQueue",
            "type": "AWS::SNS::Subscription",
            "properties": {
                "TopicArn": topic,
                "Protocol": "sqs",
                "Endpoint": queue_arn,
                "RawMessageDelivery": "true",
            },
        },
    ]
    plan = {"stack_name": f"sns-{aws.unique}", "subscriptions": subscriptions}
    set_up_outside_cloudformation(cloud, plan, say=lambda _: None)
    set_up_outside_cloudformation(cloud, plan, say=lambda _: None)  # idempotent
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 2
    run(cloud, registry_of("sns-test", [function], subscriptions=subscriptions))

    def publish(n, kind):
        sns.publish(
            TopicArn=topic,
            Message=json.dumps({"n": n}),
            MessageAttributes={"kind": {"DataType": "String", "StringValue": kind}},
        )

    publish(1, "skip")
    publish(2, "keep")
    assert wait_for(lambda: journal.entries(), timeout=10)
    assert sorted(m["n"] for m in wait_for(lambda: aws.drain(queue_url), timeout=5)) in (
        [1, 2],
        [1],
    )
    (entry,) = journal.entries()
    (record,) = entry["records"]
    assert record["EventSource"] == "aws:sns"
    assert record["Sns"]["TopicArn"] == topic
    assert json.loads(record["Sns"]["Message"]) == {"n": 2}
    assert record["Sns"]["MessageAttributes"]["kind"] == {"Type": "String", "Value": "keep"}
