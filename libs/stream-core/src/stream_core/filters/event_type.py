"""Matching a UOW's ``event.type`` against a rule's ``event_type``.

``event_type`` may be a string, a list (or tuple/set) of strings, a compiled regex (searched
in the type) or a callable ``(uow) -> bool``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import RuleValidationError

__all__ = ["EventTypeMatcher", "event_type_matcher", "filter_on_event_type"]


class EventTypeMatcher:
    """A compiled ``event_type``: ``types`` when it is a fixed set of names (so a router
    can index rules by type), else a ``predicate`` over the UOW."""

    __slots__ = ("predicate", "types")

    def __init__(
        self,
        types: frozenset[str] | None,
        predicate: Callable[[Mapping[str, Any]], Any] | None,
    ) -> None:
        self.types = types
        self.predicate = predicate

    def __call__(self, uow: Mapping[str, Any]) -> bool:
        if self.types is not None:
            return uow["event"]["type"] in self.types
        return bool(self.predicate(uow))  # type: ignore[misc]


def event_type_matcher(spec: Any, rule_id: Any = None) -> EventTypeMatcher:
    """Compile ``spec``; an unsupported spec raises ``RuleValidationError``."""
    if isinstance(spec, str):
        return EventTypeMatcher(frozenset((spec,)), None)
    if isinstance(spec, (list, tuple, set, frozenset)):
        if not spec or not all(isinstance(t, str) for t in spec):
            raise RuleValidationError(rule_id, "event_type", "must be a non-empty list of strings")
        return EventTypeMatcher(frozenset(spec), None)
    if isinstance(spec, re.Pattern):
        search = spec.search
        return EventTypeMatcher(None, lambda uow: search(uow["event"]["type"]) is not None)
    if callable(spec):
        return EventTypeMatcher(None, spec)
    raise RuleValidationError(
        rule_id, "event_type", "must be a string, a list of strings, a regex or a callable"
    )


def filter_on_event_type(rule: Mapping[str, Any], uow: Mapping[str, Any]) -> bool:
    """Whether ``uow`` matches ``rule['event_type']`` (a rule without one matches all)."""
    spec = rule.get("event_type")
    if spec is None:
        return True
    return event_type_matcher(spec, rule.get("id"))(uow)
