"""UOW predicates built from a rule, for ``rx_filter`` (the seed's module path).

>>> from stream_core.utils.operators import rx_filter
>>> steps = [rx_filter(on_event_type(rule)), rx_filter(on_content(rule))]  # doctest: +SKIP

Both compile the rule once, when called, not per record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..filters.content import compile_filters
from ..filters.event_type import event_type_matcher

__all__ = ["ROUTED", "on_content", "on_event_type", "skip_event_type_filter"]

#: Option set by ``StreamPipeline`` when it already delivers a rule only the UOWs whose event
#: type matches: the flavor may then leave its own event-type filter out of the pipe.
ROUTED = "_stream_core_routed_by_event_type"


def _always(_uow: Any) -> bool:
    return True


def on_event_type(rule: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bool]:
    """Predicate: the UOW's event type matches ``rule['event_type']`` (absent: all match)."""
    spec = rule.get("event_type")
    if spec is None:
        return _always
    return event_type_matcher(spec, rule.get("id"))


def on_content(rule: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bool]:
    """Predicate: the UOW passes every filter in ``rule['filters']``."""
    return compile_filters(rule) or _always


def skip_event_type_filter(rule: Mapping[str, Any]) -> bool:
    """Whether the rule's UOWs were already matched on ``event_type`` by the router."""
    return bool(rule.get(ROUTED))
