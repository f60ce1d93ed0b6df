"""Event patterns (EventBridge rules, Lambda ``FilterCriteria``) with moto's matcher.

>>> Pattern.load({"detail": {"amount": [{"numeric": [">", 100]}]}}).matches(
...     {"detail": {"amount": 150}})
True

moto's ``EventPattern`` implements prefix, suffix, anything-but, exists, numeric,
equals-ignore-case, wildcard, cidr and ``$or``, and it is lenient: an operator it does not
know matches everything. ``Pattern.load`` therefore checks the operators first, so a typo
(``"prefx"``) is an error here instead of a rule that silently matches every event.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["OPERATORS", "Pattern", "PatternError", "RecordFilter"]

OPERATORS = frozenset(
    {
        "prefix",
        "suffix",
        "anything-but",
        "numeric",
        "exists",
        "cidr",
        "equals-ignore-case",
        "wildcard",
    }
)
_NUMERIC = frozenset({"<", "<=", "=", ">=", ">"})


class PatternError(ValueError):
    """An event pattern that EventBridge would reject."""


class Pattern:
    """A checked event pattern; ``matches(event)`` uses moto's matcher."""

    def __init__(self, pattern: Mapping[str, Any]) -> None:
        from moto.events.models import EventPattern

        _check(pattern, "")
        self.pattern = dict(pattern)
        self._matcher = EventPattern(json.dumps(pattern), self.pattern)

    @classmethod
    def load(cls, pattern: str | Mapping[str, Any]) -> Pattern:
        if isinstance(pattern, str):
            try:
                pattern = json.loads(pattern)
            except json.JSONDecodeError as err:
                raise PatternError(f"pattern is not JSON: {err}") from err
        if not isinstance(pattern, Mapping):
            raise PatternError("a pattern must be a JSON object")
        return cls(pattern)

    def matches(self, event: Any) -> bool:
        return bool(self._matcher.matches_event(event))

    def __repr__(self) -> str:
        return f"Pattern({self.pattern!r})"


def _check(node: Mapping[str, Any], path: str) -> None:
    for key, value in node.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise PatternError(f"{where}: $or needs a list of at least two patterns")
            for option in value:
                if not isinstance(option, Mapping):
                    raise PatternError(f"{where}: every $or option must be an object")
                _check(option, path)
        elif isinstance(value, Mapping):
            _check(value, where)
        elif isinstance(value, list):
            if not value:
                raise PatternError(f"{where}: empty arrays are not allowed")
            for item in value:
                if isinstance(item, Mapping):
                    _check_operator(item, where)
        else:
            raise PatternError(f"{where}: must be an object or an array")


def _check_operator(item: Mapping[str, Any], where: str) -> None:
    if len(item) != 1:
        raise PatternError(f"{where}: a matcher object has exactly one operator: {dict(item)}")
    ((name, argument),) = item.items()
    if name not in OPERATORS:
        raise PatternError(f"{where}: unknown operator {name!r} (known: {sorted(OPERATORS)})")
    if name == "numeric":
        if not isinstance(argument, list) or len(argument) % 2 or not argument:
            raise PatternError(f"{where}: numeric takes [op, value, ...]: {argument!r}")
        for op, number in zip(argument[::2], argument[1::2], strict=True):
            if op not in _NUMERIC or not isinstance(number, (int, float)):
                raise PatternError(f"{where}: bad numeric comparison {op!r} {number!r}")
    elif name == "exists" and not isinstance(argument, bool):
        raise PatternError(f"{where}: exists takes true or false")
    elif name == "anything-but" and isinstance(argument, Mapping):
        _check_operator(argument, where)


class RecordFilter:
    """Lambda ``FilterCriteria`` for one event source kind.

    A record is delivered when any filter matches. Like Lambda, the pattern sees the
    record with its payload decoded when it is JSON: Kinesis ``data`` (the pattern keys are
    those of the record's ``kinesis`` object), SQS ``body``; DynamoDB records as they are.
    """

    def __init__(self, kind: str, patterns: Iterable[Pattern]) -> None:
        self.kind = kind
        self.patterns = list(patterns)

    @classmethod
    def from_criteria(cls, kind: str, criteria: Mapping[str, Any] | None) -> RecordFilter | None:
        filters = (criteria or {}).get("Filters") or []
        if not filters:
            return None
        return cls(kind, [Pattern.load(f["Pattern"]) for f in filters])

    def view(self, record: Mapping[str, Any]) -> dict[str, Any]:
        if self.kind == "kinesis":
            view = dict(record.get("kinesis") or {})
            view["data"] = _json_or_raw(_b64(view.get("data")))
            return view
        if self.kind == "sqs":
            view = dict(record)
            view["body"] = _json_or_raw(view.get("body"))
            return view
        return dict(record)

    def matches(self, record: Mapping[str, Any]) -> bool:
        view = self.view(record)
        return any(pattern.matches(view) for pattern in self.patterns)


def _b64(data: Any) -> Any:
    if not isinstance(data, str):
        return data
    try:
        return base64.b64decode(data).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return data


def _json_or_raw(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text
