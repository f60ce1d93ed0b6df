"""What is deployed: functions, event source mappings, rules and their targets, taps,
subscriptions, Firehose delivery streams, tables with TTL, for every deployed service.

The registry is stored on moto itself (bucket ``stream-local-state``, one JSON object per
stack), so every ``stream-local`` command attached to the same endpoint sees the same thing:
``deploy`` writes it, ``up``'s runtime and ``ls`` read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .cloud import Cloud
from .deploy import Deployment
from .worker import FunctionSpec

__all__ = ["STATE_BUCKET", "EventSourceMapping", "Registry", "function_name_of", "source_kind"]

STATE_BUCKET = "stream-local-state"
_PREFIX = "deployments/"


def function_name_of(name_or_arn: str) -> str:
    """``arn:aws:lambda:r:a:function:NAME[:qualifier]`` or ``NAME`` -> ``NAME``."""
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        return parts[6] if len(parts) > 6 else name_or_arn
    return name_or_arn


def source_kind(arn: str) -> str:
    """``kinesis``, ``dynamodb``, ``sqs``, ``kafka`` ... from an event source ARN."""
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 else "unknown"


@dataclass
class EventSourceMapping:
    """An event source mapping as the runtime runs it (template properties, resolved)."""

    logical_id: str
    service: str
    function: str
    source_arn: str
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return source_kind(self.source_arn)

    @property
    def enabled(self) -> bool:
        return self.properties.get("Enabled", True) not in (False, "false", "False")

    @property
    def id(self) -> str:
        return f"{self.service}/{self.logical_id}"

    def get(self, name: str, default: Any = None) -> Any:
        value = self.properties.get(name)
        return default if value is None else value


class Registry:
    """Every deployed service, by stack name."""

    def __init__(self, deployments: Mapping[str, Deployment] | None = None) -> None:
        self.deployments: dict[str, Deployment] = dict(deployments or {})

    def add(self, deployment: Deployment) -> None:
        self.deployments[deployment.stack_name] = deployment

    # ---- queries -----------------------------------------------------------------------

    def functions(self) -> dict[str, FunctionSpec]:
        return {
            spec["name"]: FunctionSpec.from_json(spec, d.service)
            for d in self.deployments.values()
            for spec in d.functions
        }

    def function(self, name_or_arn: str) -> FunctionSpec:
        name = function_name_of(name_or_arn)
        try:
            return self.functions()[name]
        except KeyError:
            raise KeyError(f"no deployed function {name!r}") from None

    def mappings(self) -> list[EventSourceMapping]:
        return [
            EventSourceMapping(
                logical_id=m["logical_id"],
                service=d.service,
                function=function_name_of(str(m["function"])),
                source_arn=str(m["source"]),
                properties=dict(m.get("properties") or {}),
            )
            for d in self.deployments.values()
            for m in d.plan.get("mappings", [])
        ]

    def _plan_entries(self, key: str) -> Iterator[tuple[Deployment, dict[str, Any]]]:
        for deployment in self.deployments.values():
            for entry in deployment.plan.get(key, []):
                yield deployment, entry

    def rules(self) -> list[dict[str, Any]]:
        """Rules with their tap queue and real targets (``{"service", ...plan entry}``)."""
        return [{"service": d.service, **entry} for d, entry in self._plan_entries("rules")]

    def subscriptions(self) -> list[dict[str, Any]]:
        return [{"service": d.service, **e} for d, e in self._plan_entries("subscriptions")]

    def firehoses(self) -> list[dict[str, Any]]:
        return [{"service": d.service, **e} for d, e in self._plan_entries("firehoses")]

    def ttl_tables(self) -> list[dict[str, Any]]:
        return [{"service": d.service, **e} for d, e in self._plan_entries("ttl")]

    def invoke_configs(self) -> dict[str, dict[str, Any]]:
        """Async invocation settings (``AWS::Lambda::EventInvokeConfig``) by function name."""
        found = {}
        for _d, entry in self._plan_entries("invoke_configs"):
            props = entry["properties"]
            found[function_name_of(str(props.get("FunctionName", "")))] = props
        return found

    def buses(self) -> list[str]:
        return sorted({str(rule["bus"]) for rule in self.rules()})

    # ---- storage on moto ---------------------------------------------------------------

    def save(self, cloud: Cloud, deployment: Deployment | None = None) -> None:
        """Store ``deployment`` (or every deployment) in the state bucket."""
        s3 = cloud.client("s3")
        try:
            s3.create_bucket(Bucket=STATE_BUCKET)
        except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
            pass
        for d in [deployment] if deployment else self.deployments.values():
            s3.put_object(
                Bucket=STATE_BUCKET,
                Key=f"{_PREFIX}{d.stack_name}.json",
                Body=json.dumps(d.to_json(), default=str).encode(),
            )

    @classmethod
    def load(cls, cloud: Cloud) -> Registry:
        """Every deployment stored on ``cloud`` (an empty registry if none)."""
        s3 = cloud.client("s3")
        registry = cls()
        try:
            pages = list(
                s3.get_paginator("list_objects_v2").paginate(Bucket=STATE_BUCKET, Prefix=_PREFIX)
            )
        except s3.exceptions.NoSuchBucket:
            return registry
        for page in pages:
            for item in page.get("Contents", []):
                body = s3.get_object(Bucket=STATE_BUCKET, Key=item["Key"])["Body"].read()
                registry.add(Deployment.from_json(json.loads(body)))
        return registry
