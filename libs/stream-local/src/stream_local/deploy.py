"""Deploy packaged services as CloudFormation stacks on moto.

>>> deployment = deploy(cloud, package_service("services/event-hub"))   # doctest: +SKIP

Per service, from the transformed template (``template.transform``):

* a new stack is created with the whole template at once, then the artifact zips are
  uploaded to its ``ServerlessDeploymentBucket`` at the keys the template names. (``sls
  deploy`` first creates a stack holding only the bucket, uploads, then updates the stack
  with the rest; moto registers Exports only at creation, so that sequence would lose
  them. moto creates a function whose code object is still missing.)
* an existing stack: the artifacts are uploaded to its deployment bucket first, then the
  stack is updated, exactly like ``sls deploy``.

The plan is resolved from the stack outputs and the parts moto lacks are set up through the
API: DynamoDB TTL, SNS subscriptions.

Services go in dependency order (``order_services``): a template that imports an export
(``Fn::ImportValue``) is deployed after the one that exports it.

moto registers a stack's Exports only when the stack is *created*; an update that adds or
changes an export is reported (``Deployment.warnings``): redeploy with ``recreate=True``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cloud import Cloud
from .intrinsics import Unknown, literal
from .outside import set_up_outside_cloudformation
from .package import Package
from .template import OUTPUT_PREFIX, resolve, transform

__all__ = ["DeployError", "Deployment", "deploy", "order_services"]

_BUCKET_OUTPUT = "ServerlessDeploymentBucketName"
_CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


class DeployError(RuntimeError):
    """The stack could not be created or updated on moto."""


@dataclass
class Deployment:
    """One deployed service: its stack outputs and the resolved plan of the runtime."""

    service: str
    stack_name: str
    service_dir: str
    stage: str
    outputs: dict[str, str]
    plan: dict[str, Any]
    functions: list[dict[str, Any]]
    seconds: float = 0.0
    created: bool = True
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "stack_name": self.stack_name,
            "service_dir": self.service_dir,
            "stage": self.stage,
            "outputs": self.outputs,
            "plan": self.plan,
            "functions": self.functions,
            "seconds": self.seconds,
            "created": self.created,
            "warnings": self.warnings,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Deployment:
        return cls(**dict(data))


def deploy(
    cloud: Cloud,
    package: Package,
    *,
    recreate: bool = False,
    log: Callable[[str], None] | None = None,
) -> Deployment:
    """Create or update the stack of ``package`` on ``cloud``; see the module docstring."""
    say = log or (lambda _message: None)
    started = time.monotonic()
    cfn = cloud.client("cloudformation")
    transformed = transform(
        package.template,
        stack_name=package.stack_name,
        region=cloud.region,
        account_id=cloud.account_id,
    )
    by_reason: dict[str, list[str]] = {}
    for skipped in transformed.plan["skipped"]:
        by_reason.setdefault(skipped["reason"], []).append(skipped["logical_id"])
    for reason, logical_ids in by_reason.items():
        say(f"left out of the stack ({reason}): {', '.join(logical_ids)}")
    for note in transformed.plan["notes"]:
        say(note)
    exists = _stack_status(cfn, package.stack_name) is not None
    if exists and recreate:
        cfn.delete_stack(StackName=package.stack_name)
        exists = False
    body = json.dumps(transformed.template)
    warnings: list[str] = []
    if exists:
        before = _exports(cfn)
        bucket = _stack_outputs(cfn, package.stack_name).get(_BUCKET_OUTPUT)
        if bucket:
            _upload(cloud, bucket, package.artifacts)
        try:
            cfn.update_stack(
                StackName=package.stack_name, TemplateBody=body, Capabilities=_CAPABILITIES
            )
        except cfn.exceptions.ClientError as err:
            if "No updates are to be performed" not in str(err):
                raise DeployError(f"update_stack {package.stack_name}: {err}") from err
    else:
        try:
            cfn.create_stack(
                StackName=package.stack_name, TemplateBody=body, Capabilities=_CAPABILITIES
            )
        except cfn.exceptions.ClientError as err:
            raise DeployError(f"create_stack {package.stack_name}: {err}") from err
    stack = _wait(cfn, package.stack_name)
    outputs = {o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs") or []}
    plan = resolve(transformed.plan, outputs)
    if exists:
        warnings.extend(_export_drift(before, _exports(cfn), package.template, package.stack_name))
    if not exists and outputs.get(_BUCKET_OUTPUT):
        _upload(cloud, outputs[_BUCKET_OUTPUT], package.artifacts)
    functions = _functions(cloud, plan, package)
    set_up_outside_cloudformation(cloud, plan, say)
    for warning in warnings:
        say(f"warning: {warning}")
    return Deployment(
        service=package.service,
        stack_name=package.stack_name,
        service_dir=str(package.service_dir),
        stage=package.stage,
        outputs={k: v for k, v in outputs.items() if not k.startswith(OUTPUT_PREFIX)},
        plan=plan,
        functions=functions,
        seconds=time.monotonic() - started,
        created=not exists,
        warnings=warnings,
    )


def _upload(cloud: Cloud, bucket: str, artifacts: Mapping[str, Path]) -> None:
    s3 = cloud.client("s3")
    for key, path in artifacts.items():
        if not path.exists():
            raise DeployError(f"artifact {path} missing: package the service again")
        s3.upload_file(str(path), bucket, key)


def _stack_outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs") or []}


def _stack_status(cfn: Any, name: str) -> str | None:
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except cfn.exceptions.ClientError:
        return None
    return stacks[0]["StackStatus"] if stacks else None


def _wait(cfn: Any, name: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
                reason = stack.get("StackStatusReason") or ""
                raise DeployError(f"stack {name} ended {status} {reason}".strip())
            return stack
        if time.monotonic() > deadline:
            raise DeployError(f"stack {name} still {status} after {timeout}s")
        time.sleep(0.1)


def _exports(cfn: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for page in cfn.get_paginator("list_exports").paginate():
        for export in page.get("Exports", []):
            found[export["Name"]] = export["Value"]
    return found


def _export_drift(
    before: Mapping[str, str],
    after: Mapping[str, str],
    template: Mapping[str, Any],
    stack_name: str,
) -> list[str]:
    wanted = [
        o["Export"]["Name"]
        for o in (template.get("Outputs") or {}).values()
        if isinstance(o.get("Export", {}).get("Name"), str)
    ]
    missing = [name for name in wanted if name not in after]
    if not missing:
        return []
    return [
        f"moto registers exports only when a stack is created; {stack_name} now exports "
        f"{', '.join(missing)} which other stacks cannot import: deploy it with --recreate"
    ]


def _functions(cloud: Cloud, plan: Mapping[str, Any], package: Package) -> list[dict[str, Any]]:
    """What each function runs with, read back from moto (Refs in the environment resolved)."""
    by_name = {spec.get("name"): (key, spec) for key, spec in package.functions.items()}
    lam = cloud.client("lambda")
    functions = []
    for entry in plan["functions"]:
        config = lam.get_function_configuration(FunctionName=entry["name"])
        key, spec = by_name.get(config["FunctionName"], (None, {}))
        functions.append(
            {
                "name": config["FunctionName"],
                "arn": config["FunctionArn"],
                "logical_id": entry["logical_id"],
                "key": key,
                "handler": config.get("Handler"),
                "runtime": config.get("Runtime"),
                "timeout": config.get("Timeout") or 3,
                "memory": config.get("MemorySize") or 128,
                "environment": (config.get("Environment") or {}).get("Variables") or {},
                "service_dir": str(package.service_dir),
                "events": [_event_summary(e) for e in spec.get("events") or []],
                "reserved_concurrency": spec.get("reservedConcurrency"),
            }
        )
    return functions


_EVENT_KINDS = ("http", "httpApi", "stream", "sqs", "sns", "eventBridge", "schedule", "s3")


def _event_summary(event: Mapping[str, Any]) -> dict[str, Any]:
    """The http/httpApi events as serverless resolved them; other kinds by name only."""
    for kind in _EVENT_KINDS:
        if kind in event:
            return {kind: event[kind] if kind in ("http", "httpApi") else None}
    return {"other": None}


def order_services(packages: Iterable[Package]) -> list[Package]:
    """``packages`` sorted so each comes after the services whose exports it imports.

    Ties keep the given order; an import nobody here exports is assumed to exist already.
    A cycle raises ``DeployError``.
    """
    packages = list(packages)
    exports = {
        name: index
        for index, package in enumerate(packages)
        for name in _export_names(package.template)
    }
    needs = {
        index: {
            exports[name]
            for name in _import_names(package.template, _pseudo(package))
            if name in exports
        }
        - {index}
        for index, package in enumerate(packages)
    }
    ordered: list[int] = []
    while len(ordered) < len(packages):
        ready = [i for i in range(len(packages)) if i not in ordered and needs[i] <= set(ordered)]
        if not ready:
            stuck = [packages[i].service for i in range(len(packages)) if i not in ordered]
            raise DeployError(f"services import each other's exports in a cycle: {stuck}")
        ordered.append(ready[0])
    return [packages[i] for i in ordered]


def _export_names(template: Mapping[str, Any]) -> list[str]:
    return [
        output["Export"]["Name"]
        for output in (template.get("Outputs") or {}).values()
        if isinstance(output, dict) and isinstance(output.get("Export", {}).get("Name"), str)
    ]


def _pseudo(package: Package) -> dict[str, str]:
    return {"AWS::StackName": package.stack_name, "AWS::Region": package.region}


def _import_names(node: Any, pseudo: Mapping[str, str]) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::ImportValue":
                try:
                    name = literal(value, pseudo)
                except Unknown:
                    continue  # computed from other resources: cannot order by it
                if isinstance(name, str):
                    yield name
            else:
                yield from _import_names(value, pseudo)
    elif isinstance(node, list):
        for item in node:
            yield from _import_names(item, pseudo)
