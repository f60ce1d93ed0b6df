"""Each guarantee of ``guarantees.py`` catches what it should, on small templates."""

import copy

from guarantees import (
    alarm_problems,
    encryption_problems,
    event_source_problems,
    function_role_problems,
    iam_problems,
    log_problems,
    s3_problems,
)

PREFIX = "svc-local"


def role(*statements):
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {"Policies": [{"PolicyDocument": {"Statement": list(statements)}}]},
    }


def allow(action, resource):
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def template(**resources):
    return {"Resources": {"Table": {"Type": "AWS::DynamoDB::Table"}, **resources}}


def test_iam_accepts_own_resources_imports_and_star_only_actions():
    good = template(
        Role=role(
            allow(["dynamodb:PutItem"], {"Fn::GetAtt": ["Table", "Arn"]}),
            allow(["dynamodb:Query"], {"Fn::Sub": "${Table.Arn}/index/*"}),
            allow(["events:PutEvents"], {"Fn::ImportValue": "event-hub-local-bus-arn"}),
            allow(
                "logs:PutLogEvents",
                {"Fn::Sub": "arn:aws:logs:*:*:log-group:/aws/lambda/svc-local-x:*"},
            ),
            allow(["s3:GetObject"], {"Fn::Join": ["", [{"Fn::GetAtt": ["Table", "Arn"]}, "/*"]]}),
            allow(["xray:PutTraceSegments"], "*"),
            {"Effect": "Deny", "Action": "*", "Resource": "*"},
        )
    )
    assert iam_problems(good, PREFIX) == []


def test_iam_rejects_star_foreign_resources_and_wildcard_actions():
    for statement, expected in [
        (allow(["dynamodb:PutItem"], "*"), "Resource '*'"),
        (allow(["s3:GetObject"], "arn:aws:s3:::someone-elses-bucket/*"), "not of this service"),
        (
            allow(["s3:GetObject"], {"Fn::GetAtt": ["OtherStacksThing", "Arn"]}),
            "not of this service",
        ),
        (
            allow(["s3:GetObject"], {"Fn::Sub": "arn:aws:s3:::${AWS::AccountId}-*"}),
            "not of this service",
        ),
        (allow("s3:*", {"Fn::GetAtt": ["Table", "Arn"]}), "wildcard action"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "x"}, "NotResource"),
    ]:
        problems = iam_problems(template(Role=role(statement)), PREFIX)
        assert len(problems) == 1 and expected in problems[0], (statement, problems)
    policy = {
        "Type": "AWS::IAM::Policy",
        "Properties": {"PolicyDocument": {"Statement": [allow("sqs:SendMessage", "*")]}},
    }
    assert iam_problems(template(Policy=policy), PREFIX) == [
        "Policy: Resource '*' for ['sqs:SendMessage']"
    ]


def test_functions_need_their_own_roles():
    def function(role_name):
        return {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Role": {"Fn::GetAtt": [role_name, "Arn"]}},
        }

    assert function_role_problems(template(A=function("ARole"), B=function("BRole"))) == []
    assert function_role_problems(template(A=function("Shared"), B=function("Shared"))) == [
        "B shares its role Shared with A"
    ]


def test_encryption_of_each_kind():
    bad = {
        "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "Firehose": {"Type": "AWS::KinesisFirehose::DeliveryStream", "Properties": {}},
    }
    assert [p.split(":")[0] for p in encryption_problems({"Resources": bad})] == [
        "Stream",
        "Bucket",
        "Queue",
        "Table",
        "Topic",
        "Firehose",
    ]
    good = copy.deepcopy(bad)
    good["Stream"]["Properties"] = {"StreamEncryption": {"EncryptionType": "KMS", "KeyId": "k"}}
    good["Bucket"]["Properties"] = {
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}
            ]
        }
    }
    good["Queue"]["Properties"] = {"SqsManagedSseEnabled": True}
    good["Table"]["Properties"] = {"SSESpecification": {"SSEEnabled": True}}
    good["Topic"]["Properties"] = {"KmsMasterKeyId": "alias/aws/sns"}
    good["Firehose"]["Properties"] = {
        "DeliveryStreamEncryptionConfigurationInput": {"KeyType": "AWS_OWNED_CMK"}
    }
    assert encryption_problems({"Resources": good}) == []


def test_buckets_block_public_access_and_keep_versions():
    bucket = {
        "Type": "AWS::S3::Bucket",
        "Properties": {
            "PublicAccessBlockConfiguration": dict.fromkeys(
                [
                    "BlockPublicAcls",
                    "BlockPublicPolicy",
                    "IgnorePublicAcls",
                    "RestrictPublicBuckets",
                ],
                True,
            ),
            "VersioningConfiguration": {"Status": "Enabled"},
        },
    }
    assert s3_problems({"Resources": {"B": bucket}}) == []
    leaky = copy.deepcopy(bucket)
    leaky["Properties"]["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] = False
    del leaky["Properties"]["VersioningConfiguration"]
    assert s3_problems({"Resources": {"B": leaky}}) == [
        "B: PublicAccessBlockConfiguration not all true",
        "B: versioning not enabled",
    ]


def test_stream_and_queue_sources():
    stream = {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "StartingPosition": "TRIM_HORIZON",
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": 5,
            "MaximumRecordAgeInSeconds": 86400,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["Dlq", "Arn"]}}},
        },
    }
    queue_source = {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    }
    queue = {
        "Type": "AWS::SQS::Queue",
        "Properties": {"RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}},
    }
    resources = {"S": stream, "Q": queue_source, "Queue": queue}
    assert event_source_problems({"Resources": resources}) == []

    lax = copy.deepcopy(resources)
    for name in (
        "BisectBatchOnFunctionError",
        "MaximumRecordAgeInSeconds",
        "DestinationConfig",
        "FunctionResponseTypes",
    ):
        del lax["S"]["Properties"][name]
    lax["S"]["Properties"]["MaximumRetryAttempts"] = -1
    del lax["Queue"]["Properties"]["RedrivePolicy"]
    assert event_source_problems({"Resources": lax}) == [
        "S: no FunctionResponseTypes ReportBatchItemFailures",
        "S: BisectBatchOnFunctionError not set",
        "S: MaximumRetryAttempts unbounded (-1)",
        "S: MaximumRecordAgeInSeconds not set (None)",
        "S: no DestinationConfig.OnFailure",
        "Q: queue Queue has no RedrivePolicy (DLQ)",
    ]


def test_dead_letter_queues_need_an_alarm():
    resources = {
        "Queue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}
            },
        },
        "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "RuleDlq": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Rule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Targets": [
                    {"Arn": "x", "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["RuleDlq", "Arn"]}}}
                ]
            },
        },
        "DlqAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [
                    {"Name": "QueueName", "Value": {"Fn::GetAtt": ["Dlq", "QueueName"]}}
                ],
            },
        },
    }
    assert alarm_problems({"Resources": resources}) == [
        "RuleDlq: dead-letter queue without an alarm on ApproximateNumberOfMessagesVisible"
    ]


def test_log_groups_keep_logs_for_a_while():
    groups = {
        "A": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 14}},
        "B": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
    }
    assert log_problems({"Resources": groups}) == ["B: log group without RetentionInDays"]
