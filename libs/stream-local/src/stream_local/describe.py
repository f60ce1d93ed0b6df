"""``stream-local ls``: what is deployed, as text."""

from __future__ import annotations

import json
from typing import Any

from .registry import Registry, function_name_of
from .rest import routes_of

__all__ = ["describe"]


def _short(arn: Any) -> str:
    text = str(arn)
    if not text.startswith("arn:"):
        return text
    if ":dynamodb:" in text and "/stream/" in text:  # table/NAME/stream/LABEL
        return f"{text.split(':table/', 1)[1].split('/stream/', 1)[0]} (stream)"
    return text.rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def describe(
    registry: Registry, *, endpoint: str | None = None, rest_url: str | None = None
) -> str:
    """A readable summary of every deployed service."""
    lines: list[str] = []
    if endpoint:
        lines.append(f"moto endpoint {endpoint}")
    if not registry.deployments:
        lines.append("nothing deployed")
        return "\n".join(lines)
    for deployment in registry.deployments.values():
        plan = deployment.plan
        lines.append(f"service {deployment.service}  (stack {deployment.stack_name})")
        for fn in deployment.functions:
            lines.append(f"  λ {fn['name']}  {fn['handler']}  timeout {fn['timeout']} s")
        for m in plan.get("mappings", []):
            props = m.get("properties") or {}
            settings = ", ".join(
                f"{k}={json.dumps(v) if isinstance(v, (dict, list)) else v}"
                for k, v in props.items()
                if k not in ("Enabled",)
            )
            lines.append(
                f"  ⇢ {_short(m['source'])} → {function_name_of(str(m['function']))}  {settings}"
            )
        for rule in plan.get("rules", []):
            targets = ", ".join(_short(t.get("Arn")) for t in rule.get("targets") or [])
            pattern = json.dumps(rule.get("pattern"), separators=(",", ":"))
            lines.append(f"  ⚑ rule {_short(rule['arn'])} on {rule['bus']}: {pattern} → {targets}")
        for sub in plan.get("subscriptions", []):
            props = sub["properties"]
            lines.append(
                f"  ✉ {_short(props.get('TopicArn'))} → {props.get('Protocol')} "
                f"{_short(props.get('Endpoint'))}"
            )
        for fh in plan.get("firehoses", []):
            lines.append(f"  ⇶ firehose {fh['name']} (run by stream-local)")
        for ttl in plan.get("ttl", []):
            lines.append(f"  ⏲ table {ttl['table']}: TTL on {ttl['attribute']} (sweeper)")
        by_reason: dict[str, list[str]] = {}
        for skipped in plan.get("skipped", []):
            by_reason.setdefault(skipped["reason"], []).append(skipped["logical_id"])
        for reason, logical_ids in by_reason.items():
            lines.append(f"  - left out ({reason}): {', '.join(logical_ids)}")
        for key, value in deployment.outputs.items():
            lines.append(f"  output {key} = {value}")
    routes = routes_of(registry)
    if routes:
        lines.append(f"REST API {rest_url or '(served by `stream-local up`)'}")
        for route in routes:
            lines.append(f"  {route.key}  → {route.function}")
    return "\n".join(lines)
