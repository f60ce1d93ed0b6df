"""What an EventBridge target receives: ``Input``, ``InputPath``, ``InputTransformer``, and
the JSONPath subset EventBridge uses (``$.detail.items[0].id``).

>>> target_input({"detail": {"id": "t1"}}, {"InputPath": "$.detail"})
'{"id": "t1"}'
>>> target_input({"detail": {"id": "t1"}}, {"InputTransformer": {
...     "InputPathsMap": {"id": "$.detail.id"}, "InputTemplate": '{"thing": <id>}'}})
'{"thing": "t1"}'
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["MISSING", "jsonpath", "target_input", "transform_input"]

MISSING: Any = object()
_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def jsonpath(document: Any, path: str) -> Any:
    """The value at ``path`` (``$``, ``$.a.b``, ``$.a[0]``, ``$['a b']``), or ``MISSING``."""
    path = path.strip()
    if not path.startswith("$"):
        raise ValueError(f"JSONPath must start with '$': {path!r}")
    value = document
    position = 1
    while position < len(path):
        match = _STEP.match(path, position)
        if match is None:
            raise ValueError(f"unsupported JSONPath {path!r} at {path[position:]!r}")
        key, index, quoted, double_quoted = match.groups()
        if index is not None:
            if not isinstance(value, list) or int(index) >= len(value):
                return MISSING
            value = value[int(index)]
        else:
            name = key if key is not None else quoted if quoted is not None else double_quoted
            if not isinstance(value, Mapping) or name not in value:
                return MISSING
            value = value[name]
        position = match.end()
    return value


def target_input(event: Mapping[str, Any], target: Mapping[str, Any], rule: Any = None) -> str:
    """The text EventBridge sends to ``target`` for ``event``."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath"):
        value = jsonpath(event, target["InputPath"])
        return json.dumps(None if value is MISSING else value)
    transformer = target.get("InputTransformer")
    if transformer:
        return transform_input(event, transformer, rule or {})
    return json.dumps(event)


def transform_input(
    event: Mapping[str, Any], transformer: Mapping[str, Any], rule: Mapping[str, Any]
) -> str:
    """Apply an ``InputTransformer``: ``<name>`` placeholders in ``InputTemplate`` get the
    values of ``InputPathsMap``. Inside a JSON string a value is inserted as text; outside
    one, as JSON (strings quoted). Missing paths give ``null`` (empty inside a string).
    Predefined: ``aws.events.rule-arn``, ``aws.events.rule-name``, ``aws.events.event``,
    ``aws.events.event.json``, ``aws.events.event.ingestion-time``."""
    paths = transformer.get("InputPathsMap") or {}
    values: dict[str, Any] = {name: jsonpath(event, path) for name, path in paths.items()}
    rule_arn = str(rule.get("arn") or "")
    values.setdefault("aws.events.rule-arn", rule_arn)
    values.setdefault("aws.events.rule-name", rule_arn.rsplit("/", 1)[-1])
    values.setdefault("aws.events.event", event)
    values.setdefault("aws.events.event.json", event)
    values.setdefault("aws.events.event.ingestion-time", event.get("time"))
    template = str(transformer.get("InputTemplate", ""))

    out: list[str] = []
    in_string = False
    position = 0
    while position < len(template):
        char = template[position]
        if char == "\\" and in_string:
            out.append(template[position : position + 2])
            position += 2
            continue
        if char == '"':
            in_string = not in_string
        elif char == "<":
            match = _PLACEHOLDER.match(template, position)
            if match and match.group(1) in values:
                out.append(_render(values[match.group(1)], in_string))
                position = match.end()
                continue
        out.append(char)
        position += 1
    return "".join(out)


def _render(value: Any, in_string: bool) -> str:
    if value is MISSING:
        return "" if in_string else "null"
    if in_string:
        text = value if isinstance(value, str) else json.dumps(value)
        return json.dumps(text)[1:-1]  # escaped for the surrounding JSON string
    return json.dumps(value)
