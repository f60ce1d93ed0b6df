"""Content filters: ``rule['filters']`` is a list whose items must all pass.

Each item is either a callable ``(uow, rule) -> bool`` or a dict filter over the event
(``{"detail.state.value": "ALARM"}``, see ``stream_core.filters.dotpath``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import RuleValidationError
from .dotpath import compile_dict_filter

__all__ = ["compile_filters", "filter_on_content"]

UowPredicate = Callable[[Mapping[str, Any]], bool]


def compile_filters(rule: Mapping[str, Any]) -> UowPredicate | None:
    """One predicate over the UOW for all of ``rule['filters']``, or ``None`` if it has none."""
    filters = rule.get("filters")
    if not filters:
        return None
    if not isinstance(filters, (list, tuple)):
        raise RuleValidationError(rule.get("id"), "filters", "must be a list")
    checks: list[UowPredicate] = []
    for position, item in enumerate(filters):
        if isinstance(item, Mapping):
            checks.append(_on_event(compile_dict_filter(item)))
        elif callable(item):
            checks.append(_with_rule(item, rule))
        else:
            raise RuleValidationError(
                rule.get("id"),
                f"filters[{position}]",
                "must be a callable (uow, rule) -> bool or a dict of dot paths",
            )
    if len(checks) == 1:
        return checks[0]
    return lambda uow: all(check(uow) for check in checks)


def filter_on_content(rule: Mapping[str, Any], uow: Mapping[str, Any]) -> bool:
    """Whether ``uow`` passes every filter of ``rule``."""
    predicate = compile_filters(rule)
    return True if predicate is None else predicate(uow)


def _on_event(matches: Callable[[Any], bool]) -> UowPredicate:
    return lambda uow: matches(uow["event"])


def _with_rule(predicate: Callable[..., Any], rule: Mapping[str, Any]) -> UowPredicate:
    return lambda uow: predicate(uow, rule)
