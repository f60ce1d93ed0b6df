"""The in-memory transform of a packaged template for moto (the files on disk stay exactly
what AWS gets), and the *plan*: the parts of the template the runtime owns.

``transform(template, stack_name=...)`` returns ``Transformed(template, plan)``:

* ``AWS::Lambda::EventSourceMapping`` resources are removed (inside moto a mapping breaks
  stream and queue reads, MOTO.md) and kept in ``plan["mappings"]``;
* every ``AWS::Events::Rule`` target is replaced by one SQS *tap* queue (moto delivers
  events only to SQS); the real targets (ARNs, InputPath, InputTransformer, Kinesis
  PartitionKeyPath ...) go to ``plan["rules"]`` and the runtime delivers to them;
* resource types moto's CloudFormation does not know (Firehose delivery streams, alarms, SNS
  subscriptions, queue and bucket policies, API Gateway v2 ...) are removed: the ones the
  runtime implements go to the plan, the others to ``plan["skipped"]`` with a reason; Refs
  and GetAtts to them are replaced by the names and ARNs they will have;
* ``Ref`` to an ``AWS::Events::EventBus`` becomes ``GetAtt Bus.Name`` (moto answers a Python
  object repr for the Ref);
* DynamoDB ``TimeToLiveSpecification`` (ignored by moto) goes to ``plan["ttl"]``.

Values in the plan that are only known once the stack exists (ARNs, names) are written as
``{"stream-local:output": KEY}``: the transform adds an Output ``KEY`` with the original
expression, so moto resolves it, and ``resolve(plan, outputs)`` puts the values in.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from .intrinsics import Unknown, getatt_target, is_intrinsic, literal, rewrite, substitute

__all__ = ["OUTPUT_PREFIX", "PLACEHOLDER", "Transformed", "resolve", "transform"]

OUTPUT_PREFIX = "StreamLocal"
PLACEHOLDER = "stream-local:output"

# Types moto's CloudFormation skips that the runtime implements or stands in for.
FIREHOSE = "AWS::KinesisFirehose::DeliveryStream"
ALARM = "AWS::CloudWatch::Alarm"
SUBSCRIPTION = "AWS::SNS::Subscription"
INVOKE_CONFIG = "AWS::Lambda::EventInvokeConfig"
MAPPING = "AWS::Lambda::EventSourceMapping"
CONSUMER = "AWS::Kinesis::StreamConsumer"
_SKIP_REASONS = {
    ALARM: "alarms are not evaluated locally",
    "AWS::SQS::QueuePolicy": "moto does not enforce resource policies",
    "AWS::SNS::TopicPolicy": "moto does not enforce resource policies",
    "AWS::S3::BucketPolicy": "moto does not enforce resource policies",
    "AWS::Events::EventBusPolicy": "moto does not enforce resource policies",
    "AWS::ApiGateway::Stage": "stream-local serves the REST API itself (rest.py)",
    "AWS::ApiGateway::Account": "stream-local serves the REST API itself (rest.py)",
}
_HTTP_API_REASON = "moto's CloudFormation has no API Gateway v2; stream-local serves it (rest.py)"


@cache
def moto_supported_types() -> frozenset[str]:
    """Resource types moto's CloudFormation creates (the installed moto)."""
    from moto.cloudformation.parsing import get_model_map

    return frozenset(get_model_map())


@dataclass
class Transformed:
    template: dict[str, Any]
    plan: dict[str, Any]


class _Deferred:
    """Collects expressions that moto resolves for us, as Outputs of the stack."""

    def __init__(self) -> None:
        self.outputs: dict[str, dict[str, Any]] = {}

    def __call__(self, node: Any) -> Any:
        """``node`` with every intrinsic sub-expression replaced by a placeholder."""

        def one(value: Any) -> Any | None:
            if not is_intrinsic(value):
                return None
            key = f"{OUTPUT_PREFIX}{len(self.outputs)}"
            self.outputs[key] = {"Value": value}
            return {PLACEHOLDER: key}

        return rewrite(node, one)


def transform(
    template: Mapping[str, Any],
    *,
    stack_name: str,
    region: str = "us-east-1",
    account_id: str = "123456789012",
    supported_types: Iterable[str] | None = None,
) -> Transformed:
    """Transform a packaged template for moto; see the module docstring."""
    out: dict[str, Any] = copy.deepcopy(dict(template))
    resources: dict[str, Any] = out.setdefault("Resources", {})
    supported = (
        frozenset(supported_types) if supported_types is not None else moto_supported_types()
    )
    pseudo = {
        "AWS::StackName": stack_name,
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }
    defer = _Deferred()
    plan: dict[str, Any] = {
        "stack_name": stack_name,
        "functions": [],
        "mappings": [],
        "rules": [],
        "subscriptions": [],
        "firehoses": [],
        "invoke_configs": [],
        "ttl": [],
        "skipped": [],
        "notes": [],
    }

    removed = _remove_unsupported(resources, supported, pseudo, plan)
    fix_references = _reference_fixer(removed, resources)
    out = fix_references(out)
    resources = out["Resources"]
    for entry in plan["subscriptions"] + plan["firehoses"] + plan["invoke_configs"]:
        entry["properties"] = fix_references(entry["properties"])

    for logical_id, resource in list(resources.items()):
        kind = resource.get("Type")
        props = resource.get("Properties") or {}
        if kind == MAPPING:
            del resources[logical_id]
            plan["mappings"].append(
                {
                    "logical_id": logical_id,
                    "function": defer(props.get("FunctionName")),
                    "source": defer(props.get("EventSourceArn")),
                    "properties": defer(
                        {
                            k: v
                            for k, v in props.items()
                            if k not in ("FunctionName", "EventSourceArn")
                        }
                    ),
                }
            )
        elif kind == "AWS::Lambda::Function":
            plan["functions"].append({"logical_id": logical_id, "name": defer({"Ref": logical_id})})
        elif kind == "AWS::Events::Rule" and props.get("Targets"):
            plan["rules"].append(_tap_rule(logical_id, resource, resources, stack_name, defer))
        elif kind == "AWS::DynamoDB::Table":
            spec = props.get("TimeToLiveSpecification") or {}
            if spec.get("Enabled") and spec.get("AttributeName"):
                plan["ttl"].append(
                    {
                        "logical_id": logical_id,
                        "table": defer({"Ref": logical_id}),
                        "attribute": spec["AttributeName"],
                    }
                )

    # Entries of removed resources whose properties refer to resources that do exist.
    for entry in plan["subscriptions"] + plan["firehoses"] + plan["invoke_configs"]:
        entry["properties"] = defer(entry["properties"])

    _prune_depends_on(resources, set(removed) | {m["logical_id"] for m in plan["mappings"]})
    outputs = out.setdefault("Outputs", {}) or {}
    out["Outputs"] = outputs
    outputs.update(defer.outputs)
    return Transformed(out, plan)


def _remove_unsupported(
    resources: dict[str, Any],
    supported: frozenset[str],
    pseudo: Mapping[str, str],
    plan: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """Take out resources moto would skip; returns ``{logical_id: {"ref": .., "attrs": ..}}``:
    the literal values their Ref/GetAtts stand for."""
    removed: dict[str, dict[str, Any]] = {}
    stack_name = pseudo["AWS::StackName"]
    region, account = pseudo["AWS::Region"], pseudo["AWS::AccountId"]
    for logical_id, resource in list(resources.items()):
        kind = resource.get("Type", "")
        if kind in supported or kind.startswith("Custom::"):
            continue
        del resources[logical_id]
        props = resource.get("Properties") or {}
        entry = {"logical_id": logical_id, "type": kind, "properties": props}
        if kind == FIREHOSE:
            name = _name(props.get("DeliveryStreamName"), pseudo, f"{stack_name}-{logical_id}", 64)
            arn = f"arn:aws:firehose:{region}:{account}:deliverystream/{name}"
            plan["firehoses"].append({**entry, "name": name, "arn": arn})
            removed[logical_id] = {"ref": name, "attrs": {"Arn": arn}}
            plan["notes"].append(
                f"{logical_id}: Firehose delivery stream {name} runs in stream-local"
            )
        elif kind == CONSUMER:  # enhanced fan-out: the mapping reads the stream itself
            stream = props.get("StreamARN")
            removed[logical_id] = {
                "ref": stream,
                "attrs": {"ConsumerARN": stream, "StreamARN": stream},
            }
            plan["notes"].append(f"{logical_id}: stream consumer read as its stream")
        elif kind == SUBSCRIPTION:
            plan["subscriptions"].append(entry)
            removed[logical_id] = {"ref": f"stream-local:subscription:{logical_id}", "attrs": {}}
        elif kind == INVOKE_CONFIG:
            plan["invoke_configs"].append(entry)
            removed[logical_id] = {"ref": f"stream-local:{logical_id}", "attrs": {}}
        else:
            name = _name(props.get("AlarmName"), pseudo, f"{stack_name}-{logical_id}", 255)
            attrs = (
                {"Arn": f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"}
                if kind == ALARM
                else {}
            )
            reason = _SKIP_REASONS.get(kind) or (
                _HTTP_API_REASON
                if kind.startswith("AWS::ApiGatewayV2::")
                else "not supported by moto's CloudFormation"
            )
            plan["skipped"].append({"logical_id": logical_id, "type": kind, "reason": reason})
            removed[logical_id] = {
                "ref": name if kind == ALARM else f"stream-local:skipped:{logical_id}",
                "attrs": attrs,
            }
    return removed


def _name(value: Any, pseudo: Mapping[str, str], default: str, limit: int) -> str:
    if value is None:
        return _bounded(default, limit)
    try:
        return str(literal(value, pseudo))
    except Unknown:
        return _bounded(default, limit)


def _bounded(name: str, limit: int) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", name)
    if len(name) <= limit:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9]}-{digest}"


def _reference_fixer(
    removed: Mapping[str, Mapping[str, Any]], resources: Mapping[str, Any]
) -> Callable[[Any], Any]:
    """Rewrites Ref/GetAtt of removed resources to their values, and Ref of buses."""
    ref = {logical_id: value["ref"] for logical_id, value in removed.items()}
    getatt = {
        (logical_id, attribute): attr_value
        for logical_id, value in removed.items()
        for attribute, attr_value in value["attrs"].items()
    }
    buses = [lid for lid, r in resources.items() if r.get("Type") == "AWS::Events::EventBus"]
    for bus in buses:  # moto: Ref of an EventBus is an object repr; its Name is right
        ref[bus] = {"Fn::GetAtt": [bus, "Name"]}
    sub_names = {bus: f"{bus}.Name" for bus in buses}

    def placeholder(logical_id: str, attribute: str) -> str | None:
        return f"stream-local:skipped:{logical_id}.{attribute}" if logical_id in removed else None

    return lambda node: substitute(
        node, ref, getatt, sub_names=sub_names, getatt_default=placeholder
    )


def _tap_rule(
    logical_id: str,
    resource: dict[str, Any],
    resources: dict[str, Any],
    stack_name: str,
    defer: _Deferred,
) -> dict[str, Any]:
    props = resource["Properties"]
    tap_id = f"{OUTPUT_PREFIX}Tap{logical_id}"
    queue_name = _bounded(f"sl-tap-{stack_name}-{logical_id}", 80)
    resources[tap_id] = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": queue_name}}
    targets = props["Targets"]
    props["Targets"] = [{"Id": "stream-local-tap", "Arn": {"Fn::GetAtt": [tap_id, "Arn"]}}]
    return {
        "logical_id": logical_id,
        "arn": defer({"Fn::GetAtt": [logical_id, "Arn"]}),
        "bus": defer(props.get("EventBusName") or "default"),
        "pattern": defer(props.get("EventPattern")),
        "schedule": defer(props.get("ScheduleExpression")),
        "state": props.get("State", "ENABLED"),
        "tap_queue_url": defer({"Ref": tap_id}),
        "tap_queue_name": queue_name,
        "targets": [defer(target) for target in targets],
    }


def _prune_depends_on(resources: dict[str, Any], gone: set[str]) -> None:
    for resource in resources.values():
        depends = resource.get("DependsOn")
        if isinstance(depends, str):
            if depends in gone:
                del resource["DependsOn"]
        elif isinstance(depends, list):
            kept = [d for d in depends if d not in gone]
            if kept:
                resource["DependsOn"] = kept
            else:
                del resource["DependsOn"]


def resolve(plan: Any, outputs: Mapping[str, Any]) -> Any:
    """``plan`` with every placeholder replaced by its stack output value."""

    def one(value: Any) -> Any | None:
        if isinstance(value, dict) and len(value) == 1 and PLACEHOLDER in value:
            key = value[PLACEHOLDER]
            if key not in outputs:
                raise KeyError(f"stack output {key} missing: moto could not resolve it")
            return outputs[key]
        return None

    return rewrite(plan, one)


def getatt_of(value: Any) -> tuple[str, str] | None:
    """``(logical_id, attribute)`` if ``value`` is a GetAtt, else None."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return getatt_target(value["Fn::GetAtt"])
    return None
