"""The guarantees every service template keeps, as functions from a CloudFormation template
to a list of problems (empty: the guarantee holds). See services/README.md, "Template
guarantees". ``test_templates.py`` applies them to each packaged service, and
``test_guarantees.py`` shows that each one catches what it should.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = [
    "STAR_ACTIONS",
    "alarm_problems",
    "all_problems",
    "encryption_problems",
    "event_source_problems",
    "function_role_problems",
    "iam_problems",
    "log_problems",
    "s3_problems",
]

#: The only actions AWS grants on ``Resource: "*"`` alone; a statement that needs ``*``
#: must consist of these.
STAR_ACTIONS = frozenset(
    {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData"}
)

#: Retries a stream event source may make before its on-failure destination (bounded).
MAX_STREAM_RETRIES = 10

Template = Mapping[str, Any]


def resources(template: Template, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") == kind:
            yield logical_id, resource.get("Properties") or {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ---- IAM ---------------------------------------------------------------------------------


def iam_problems(template: Template, own_prefix: str) -> list[str]:
    """Every Allow statement of every role and policy names its resources: this service's
    (a Ref/GetAtt/Sub of a resource of the template, or a name starting with
    ``own_prefix``, ``<service>-<stage>``) or an import (``Fn::ImportValue``, the hub's
    exports). ``"*"`` only for ``STAR_ACTIONS``; no wildcard actions."""
    problems = []
    logical_ids = set(template.get("Resources") or {})
    for where, statement in _statements(template):
        if statement.get("Effect") != "Allow":
            continue
        actions = [str(a) for a in _list(statement.get("Action"))]
        if "NotResource" in statement or "NotAction" in statement:
            problems.append(f"{where}: NotResource/NotAction")
            continue
        for action in actions:
            if action == "*" or action.endswith(":*"):
                problems.append(f"{where}: wildcard action {action}")
        for resource in _list(statement.get("Resource")):
            if resource == "*":
                if not set(actions) <= STAR_ACTIONS:
                    problems.append(f"{where}: Resource '*' for {sorted(actions)}")
            elif not _scoped(resource, logical_ids, own_prefix):
                problems.append(f"{where}: {actions} on a resource not of this service: {resource}")
    return problems


def _statements(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, props in resources(template, "AWS::IAM::Role"):
        for policy in props.get("Policies") or []:
            for statement in _list((policy.get("PolicyDocument") or {}).get("Statement")):
                yield f"{logical_id}", statement
        if props.get("ManagedPolicyArns"):
            yield (
                f"{logical_id}",
                {
                    "Effect": "Allow",
                    "Action": "managed-policy",
                    "Resource": props["ManagedPolicyArns"],
                },
            )
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for logical_id, props in resources(template, kind):
            for statement in _list((props.get("PolicyDocument") or {}).get("Statement")):
                yield logical_id, statement


_SUB_REF = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z.]+)?\}")


def _scoped(resource: Any, logical_ids: set[str], own_prefix: str) -> bool:
    if isinstance(resource, str):
        return own_prefix in resource and not resource.endswith(":*:*:*")
    if not isinstance(resource, Mapping) or len(resource) != 1:
        return False
    ((function, argument),) = resource.items()
    if function == "Ref":
        return argument in logical_ids
    if function == "Fn::GetAtt":
        name = argument[0] if isinstance(argument, list) else str(argument).split(".")[0]
        return name in logical_ids
    if function == "Fn::ImportValue":
        return True  # another stack's export: the hub's bus or stream
    if function == "Fn::Sub":
        text = argument[0] if isinstance(argument, list) else argument
        refs = set(_SUB_REF.findall(text))
        return bool(refs & logical_ids) or own_prefix in text
    if function == "Fn::Join":
        parts = argument[1] if isinstance(argument, list) and len(argument) == 2 else []
        return any(_scoped(part, logical_ids, own_prefix) for part in parts if part)
    return False


def function_role_problems(template: Template) -> list[str]:
    """Every function has a role of its own (serverless-iam-roles-per-function)."""
    problems = []
    roles: dict[str, str] = {}
    for logical_id, props in resources(template, "AWS::Lambda::Function"):
        role = props.get("Role")
        name = role.get("Fn::GetAtt", [None])[0] if isinstance(role, Mapping) else None
        if name is None:
            problems.append(f"{logical_id}: role is not a role of this template: {role}")
        elif name in roles:
            problems.append(f"{logical_id} shares its role {name} with {roles[name]}")
        else:
            roles[name] = logical_id
    return problems


# ---- encryption, buckets, logs -----------------------------------------------------------


def encryption_problems(template: Template) -> list[str]:
    """Data at rest is encrypted: Kinesis, S3, SQS, DynamoDB, SNS, Firehose (DirectPut)."""
    problems = []
    for logical_id, props in resources(template, "AWS::Kinesis::Stream"):
        if (props.get("StreamEncryption") or {}).get("EncryptionType") != "KMS":
            problems.append(f"{logical_id}: Kinesis stream without StreamEncryption KMS")
    for logical_id, props in resources(template, "AWS::S3::Bucket"):
        rules = (props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration")
        if not rules or not all(
            (r.get("ServerSideEncryptionByDefault") or {}).get("SSEAlgorithm") for r in rules
        ):
            problems.append(f"{logical_id}: S3 bucket without BucketEncryption")
    for logical_id, props in resources(template, "AWS::SQS::Queue"):
        if props.get("SqsManagedSseEnabled") is not True and not props.get("KmsMasterKeyId"):
            problems.append(f"{logical_id}: SQS queue without SSE")
    for logical_id, props in resources(template, "AWS::DynamoDB::Table"):
        if (props.get("SSESpecification") or {}).get("SSEEnabled") is not True:
            problems.append(f"{logical_id}: DynamoDB table without SSESpecification")
    for logical_id, props in resources(template, "AWS::SNS::Topic"):
        if not props.get("KmsMasterKeyId"):
            problems.append(f"{logical_id}: SNS topic without KmsMasterKeyId")
    for logical_id, props in resources(template, "AWS::KinesisFirehose::DeliveryStream"):
        if props.get("DeliveryStreamType", "DirectPut") == "DirectPut" and not props.get(
            "DeliveryStreamEncryptionConfigurationInput"
        ):
            problems.append(f"{logical_id}: Firehose delivery stream without encryption")
    return problems


def s3_problems(template: Template) -> list[str]:
    """Every bucket blocks public access (all four settings) and is versioned."""
    problems = []
    keys = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    for logical_id, props in resources(template, "AWS::S3::Bucket"):
        block = props.get("PublicAccessBlockConfiguration") or {}
        if not all(block.get(k) is True for k in keys):
            problems.append(f"{logical_id}: PublicAccessBlockConfiguration not all true")
        if (props.get("VersioningConfiguration") or {}).get("Status") != "Enabled":
            problems.append(f"{logical_id}: versioning not enabled")
    return problems


def log_problems(template: Template) -> list[str]:
    """Every log group has a retention."""
    return [
        f"{logical_id}: log group without RetentionInDays"
        for logical_id, props in resources(template, "AWS::Logs::LogGroup")
        if not props.get("RetentionInDays")
    ]


# ---- event sources, DLQs -----------------------------------------------------------------


def event_source_problems(template: Template) -> list[str]:
    """Every event source mapping reports batch item failures; stream sources bisect, retry
    a bounded number of times, drop records past an age and have an on-failure destination;
    SQS sources read a queue that has a redrive policy (when the queue is ours)."""
    problems = []
    queues = dict(resources(template, "AWS::SQS::Queue"))
    for logical_id, props in resources(template, "AWS::Lambda::EventSourceMapping"):
        if "ReportBatchItemFailures" not in (props.get("FunctionResponseTypes") or []):
            problems.append(f"{logical_id}: no FunctionResponseTypes ReportBatchItemFailures")
        if "StartingPosition" in props:  # Kinesis or DynamoDB Streams
            if props.get("BisectBatchOnFunctionError") is not True:
                problems.append(f"{logical_id}: BisectBatchOnFunctionError not set")
            retries = props.get("MaximumRetryAttempts")
            if not isinstance(retries, int) or not 0 <= retries <= MAX_STREAM_RETRIES:
                problems.append(f"{logical_id}: MaximumRetryAttempts unbounded ({retries})")
            age = props.get("MaximumRecordAgeInSeconds")
            if not isinstance(age, int) or age < 0:
                problems.append(f"{logical_id}: MaximumRecordAgeInSeconds not set ({age})")
            on_failure = (props.get("DestinationConfig") or {}).get("OnFailure") or {}
            if not on_failure.get("Destination"):
                problems.append(f"{logical_id}: no DestinationConfig.OnFailure")
        else:
            queue = _get_att_name(props.get("EventSourceArn"))
            if queue in queues and not queues[queue].get("RedrivePolicy"):
                problems.append(f"{logical_id}: queue {queue} has no RedrivePolicy (DLQ)")
    return problems


def dead_letter_queues(template: Template) -> set[str]:
    """Queues of the template that hold what failed: redrive targets, rule targets'
    DeadLetterConfig, event source mappings' on-failure destinations."""
    found = set()
    for _, props in resources(template, "AWS::SQS::Queue"):
        redrive = props.get("RedrivePolicy") or {}
        found.add(_get_att_name(redrive.get("deadLetterTargetArn")))
    for _, props in resources(template, "AWS::Events::Rule"):
        for target in props.get("Targets") or []:
            found.add(_get_att_name((target.get("DeadLetterConfig") or {}).get("Arn")))
    for _, props in resources(template, "AWS::Lambda::EventSourceMapping"):
        on_failure = (props.get("DestinationConfig") or {}).get("OnFailure") or {}
        found.add(_get_att_name(on_failure.get("Destination")))
    queues = {logical_id for logical_id, _ in resources(template, "AWS::SQS::Queue")}
    return found & queues


def alarm_problems(template: Template) -> list[str]:
    """Every dead-letter queue of the template has an alarm on its depth."""
    watched = set()
    for _, props in resources(template, "AWS::CloudWatch::Alarm"):
        if props.get("MetricName") == "ApproximateNumberOfMessagesVisible":
            for dimension in props.get("Dimensions") or []:
                watched.add(_get_att_name(dimension.get("Value")))
    return [
        f"{queue}: dead-letter queue without an alarm on ApproximateNumberOfMessagesVisible"
        for queue in sorted(dead_letter_queues(template) - watched)
    ]


def _get_att_name(value: Any) -> str | None:
    if isinstance(value, Mapping) and "Fn::GetAtt" in value:
        argument = value["Fn::GetAtt"]
        return argument[0] if isinstance(argument, list) else str(argument).split(".")[0]
    return None


def all_problems(template: Template, own_prefix: str) -> list[str]:
    return [
        *iam_problems(template, own_prefix),
        *function_role_problems(template),
        *encryption_problems(template),
        *s3_problems(template),
        *log_problems(template),
        *event_source_problems(template),
        *alarm_problems(template),
    ]
