"""The in-memory template transform: what moto gets, and what the runtime keeps."""

from __future__ import annotations

import copy
import json

from stream_local.template import PLACEHOLDER, resolve, transform

TEMPLATE = {
    "Resources": {
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "hub-bus"}},
        "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}},
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Code": {"S3Bucket": {"Ref": "ServerlessDeploymentBucket"}, "S3Key": "a/b.zip"},
                "Environment": {
                    "Variables": {
                        "BUS": {"Ref": "Bus"},
                        "BUS_ARN_TEXT": {"Fn::Sub": "bus=${Bus} in ${AWS::Region}"},
                        "LAKE": {"Ref": "Lake"},
                    }
                },
            },
        },
        "FnMapping": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]},
                "EventSourceArn": {"Fn::GetAtt": ["Stream", "Arn"]},
                "BatchSize": 5,
                "BisectBatchOnFunctionError": True,
            },
        },
        "Waiter": {"Type": "AWS::SQS::Queue", "DependsOn": ["FnMapping", "Alarm"]},
        "ToLake": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventBusName": {"Ref": "Bus"},
                "EventPattern": {"source": [{"prefix": ""}]},
                "Targets": [
                    {"Id": "lake", "Arn": {"Fn::GetAtt": ["Lake", "Arn"]}},
                    {
                        "Id": "stream",
                        "Arn": {"Fn::GetAtt": ["Stream", "Arn"]},
                        "KinesisParameters": {"PartitionKeyPath": "$.detail.partition_key"},
                    },
                ],
            },
        },
        "Lake": {
            "Type": "AWS::KinesisFirehose::DeliveryStream",
            "Properties": {
                "DeliveryStreamName": {"Fn::Sub": "${AWS::StackName}-lake"},
                "ExtendedS3DestinationConfiguration": {
                    "BucketARN": {"Fn::GetAtt": ["LakeBucket", "Arn"]},
                    "Prefix": "events/",
                },
            },
        },
        "LakeBucket": {"Type": "AWS::S3::Bucket"},
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": "too-many"}},
        "Things": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
            },
        },
        "TopicToFn": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "TopicArn": {"Ref": "Topic"},
                "Protocol": "lambda",
                "Endpoint": {"Fn::GetAtt": ["Fn", "Arn"]},
            },
        },
        "Topic": {"Type": "AWS::SNS::Topic"},
    },
    "Outputs": {"LakeArn": {"Value": {"Fn::GetAtt": ["Lake", "Arn"]}}},
}


def _transform(**kwargs):
    return transform(TEMPLATE, stack_name="hub-local", **kwargs)


def test_the_input_template_is_never_modified():
    before = copy.deepcopy(TEMPLATE)
    _transform()
    assert before == TEMPLATE


def test_event_source_mappings_leave_the_template_and_stay_in_the_plan():
    result = _transform()
    resources = result.template["Resources"]
    assert "FnMapping" not in resources
    assert "DependsOn" not in resources["Waiter"]  # both of its dependencies are gone
    (mapping,) = result.plan["mappings"]
    assert mapping["properties"] == {"BatchSize": 5, "BisectBatchOnFunctionError": True}
    source_output = mapping["source"][PLACEHOLDER]
    assert result.template["Outputs"][source_output] == {"Value": {"Fn::GetAtt": ["Stream", "Arn"]}}


def test_rule_targets_become_one_tap_queue_and_the_real_targets_are_kept():
    result = _transform()
    resources = result.template["Resources"]
    assert resources["ToLake"]["Properties"]["Targets"] == [
        {"Id": "stream-local-tap", "Arn": {"Fn::GetAtt": ["StreamLocalTapToLake", "Arn"]}}
    ]
    assert resources["StreamLocalTapToLake"]["Type"] == "AWS::SQS::Queue"
    (rule,) = result.plan["rules"]
    lake, stream = rule["targets"]
    # The Firehose is gone from the template: its ARN is written out, not a GetAtt.
    assert lake["Arn"] == "arn:aws:firehose:us-east-1:123456789012:deliverystream/hub-local-lake"
    assert stream["KinesisParameters"] == {"PartitionKeyPath": "$.detail.partition_key"}
    assert PLACEHOLDER in stream["Arn"]


def test_resources_moto_skips_are_removed_and_references_to_them_resolved():
    result = _transform()
    resources = result.template["Resources"]
    for gone in ("Lake", "Alarm", "TopicToFn"):
        assert gone not in resources
    (firehose,) = result.plan["firehoses"]
    assert firehose["name"] == "hub-local-lake"
    bucket_arn = firehose["properties"]["ExtendedS3DestinationConfiguration"]["BucketARN"]
    assert PLACEHOLDER in bucket_arn  # resolved by moto once LakeBucket exists
    env = resources["Fn"]["Properties"]["Environment"]["Variables"]
    assert env["LAKE"] == "hub-local-lake"
    assert result.template["Outputs"]["LakeArn"]["Value"].endswith("deliverystream/hub-local-lake")
    assert [s["type"] for s in result.plan["skipped"]] == ["AWS::CloudWatch::Alarm"]
    (subscription,) = result.plan["subscriptions"]
    assert subscription["properties"]["Protocol"] == "lambda"


def test_a_ref_to_an_event_bus_becomes_its_name():
    env = _transform().template["Resources"]["Fn"]["Properties"]["Environment"]["Variables"]
    assert env["BUS"] == {"Fn::GetAtt": ["Bus", "Name"]}
    assert env["BUS_ARN_TEXT"] == {"Fn::Sub": "bus=${Bus.Name} in ${AWS::Region}"}


def test_ttl_specifications_go_to_the_plan_and_function_code_stays_where_it_is():
    result = _transform()
    (ttl,) = result.plan["ttl"]
    assert ttl["attribute"] == "ttl"
    code = result.template["Resources"]["Fn"]["Properties"]["Code"]
    assert code == {"S3Bucket": {"Ref": "ServerlessDeploymentBucket"}, "S3Key": "a/b.zip"}


def test_resolve_puts_the_stack_outputs_in():
    result = _transform()
    outputs = {key: f"value-of-{key}" for key in result.template["Outputs"]}
    plan = resolve(result.plan, outputs)
    assert PLACEHOLDER not in json.dumps(plan)
    assert plan["mappings"][0]["source"].startswith("value-of-StreamLocal")


def test_a_fan_out_consumer_is_read_as_its_stream_and_unknown_attributes_are_placeholders():
    template = {
        "Resources": {
            "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}},
            "Consumer": {
                "Type": "AWS::Kinesis::StreamConsumer",
                "Properties": {"StreamARN": {"Fn::GetAtt": ["Stream", "Arn"]}, "ConsumerName": "c"},
            },
            "Mapping": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "FunctionName": "fn",
                    "EventSourceArn": {"Fn::GetAtt": ["Consumer", "ConsumerARN"]},
                },
            },
            "Api": {"Type": "AWS::ApiGatewayV2::Api"},
            "Perm": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {"SourceArn": {"Fn::GetAtt": ["Api", "ApiEndpoint"]}},
            },
        }
    }
    result = transform(template, stack_name="s")
    (mapping,) = result.plan["mappings"]
    output = result.template["Outputs"][mapping["source"][PLACEHOLDER]]
    assert output == {"Value": {"Fn::GetAtt": ["Stream", "Arn"]}}
    source_arn = result.template["Resources"]["Perm"]["Properties"]["SourceArn"]
    assert source_arn == "stream-local:skipped:Api.ApiEndpoint"
