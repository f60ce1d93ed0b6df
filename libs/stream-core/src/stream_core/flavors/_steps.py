"""Steps that flavors share, so each flavor reads as a short pipe of named steps.

Every builder returns an operator, or ``None`` when the rule does not use the step (the
flavor leaves it out of the pipe, so an unused step costs nothing per record). ``pipe``
joins them.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any

from reactivex import Observable
from reactivex import operators as ops

from ..connectors._retry import is_retryable
from ..errors import RetryableError
from ..filters.dotpath import get_path
from ..utils.filters import on_content, on_event_type, skip_event_type_filter
from ..utils.operators import rx_filter, rx_map, rx_map_io, split_buffer
from ..utils.opt import publish as default_publish
from ..utils.print import print_end_pipeline, print_start_pipeline, rule_logger
from ..utils.tags import env_tags

__all__ = [
    "Operator",
    "by_content",
    "by_event_type",
    "call_rule_fn",
    "io_step",
    "pipe",
    "publish",
    "split",
    "trace_end",
    "trace_start",
    "with_tags",
]

Operator = Callable[[Observable[Any]], Observable[Any]]


def pipe(*steps: Operator | None) -> Operator:
    """The operator running the given steps in order (``None`` steps left out)."""
    active = [step for step in steps if step is not None]

    def operator(source: Observable[Any]) -> Observable[Any]:
        return source.pipe(*active)

    return operator


def by_event_type(rule: Mapping[str, Any]) -> Operator | None:
    """Keep UOWs whose event type matches; left out when the pipeline already routed them."""
    return None if skip_event_type_filter(rule) else rx_filter(on_event_type(rule))


def by_content(rule: Mapping[str, Any]) -> Operator | None:
    """Keep UOWs passing ``rule['filters']``; left out when the rule has none."""
    return rx_filter(on_content(rule)) if rule.get("filters") else None


def trace_start(rule: Mapping[str, Any]) -> Operator | None:
    """DEBUG line per UOW entering the rule; left out when DEBUG is off (checked per build)."""
    if not rule_logger(rule).isEnabledFor(logging.DEBUG):
        return None
    return ops.do_action(print_start_pipeline(rule))


def trace_end(rule: Mapping[str, Any]) -> Operator | None:
    """DEBUG line per UOW leaving the rule; left out when DEBUG is off."""
    if not rule_logger(rule).isEnabledFor(logging.DEBUG):
        return None
    return ops.do_action(print_end_pipeline(rule))


def split(rule: Mapping[str, Any]) -> Operator | None:
    """``split_on``: one UOW per element of the list at that dot path of the UOW, carrying the
    element in ``split_target_field`` (default ``"split"``). A missing or empty list yields
    no UOW; a value that is not a list is treated as a list of one."""
    path = rule.get("split_on")
    if not path:
        return None
    target = rule.get("split_target_field") or "split"

    def fan_out(uow: dict[str, Any]) -> list[dict[str, Any]]:
        value = get_path(uow, path)
        if value is None:
            return []
        items = value if isinstance(value, (list, tuple)) else [value]
        return [{**uow, target: item} for item in items]

    return lambda source: source.pipe(rx_map(fan_out), split_buffer())


def publish(rule: Mapping[str, Any], event_field: str = "emit") -> Operator:
    """Publish ``uow[event_field]`` to the bus with the rule's (or the default) publisher."""
    publisher = rule.get("publish") or default_publish
    params = {
        "bus_name": rule.get("bus_name"),
        "source": rule.get("source"),
        "logger": rule.get("logger"),
        "event_field": event_field,
        "claim_check_bucket": rule.get("claim_check_bucket"),
    }
    if "compress_threshold" in rule:
        params["compress_threshold"] = rule["compress_threshold"]
    return publisher(params)


def with_tags(rule: Mapping[str, Any], *, restamp: bool = False) -> Callable[..., dict[str, Any]]:
    """``tags(existing)``: this function's standard tags merged with ``existing``.

    By default ``existing`` wins (an event that already says where it comes from keeps it).
    With ``restamp=True`` the standard tags win: for events this function *derives* from
    stored or triggering events (``evaluate``, ``expired``), which it emits in its own name;
    keeping the original ``source`` would make the original producer drop them as its own
    (``out_source_is_self``). Other tags of the originals are kept. The environment is read
    once, here; the result is a new dict per call.
    """
    base = env_tags(rule.get("id"))

    def tags(existing: Mapping[str, Any] | None = None) -> dict[str, Any]:
        if not existing:
            return dict(base)
        return {**existing, **base} if restamp else {**base, **existing}

    return tags


def call_rule_fn(function: Callable[..., Any]) -> Callable[[Any, Mapping[str, Any]], Any]:
    """Adapt a rule callback written as ``f(uow)`` or ``f(uow, rule)`` to ``(uow, rule)``.

    The seed's flavors disagree (``materialize``'s ``to_update_request`` takes the UOW,
    ``update``'s takes the UOW and the rule); both forms are accepted everywhere. The
    signature is inspected once, when the rule's operator is built.
    """
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: assume (uow, rule)
        return function
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    variadic = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    if variadic or len(positional) >= 2:
        return function
    return lambda uow, rule: function(uow)


def io_step(rule: Mapping[str, Any], step: Callable[[dict[str, Any]], Any]) -> Operator:
    """Run an AWS-calling ``step`` per UOW, concurrently (``max_in_flight``), where a
    transient error that outlived the connector's retries becomes ``RetryableError`` (the
    record goes back to Lambda) and any other error faults the UOW."""

    def settled(uow: dict[str, Any]) -> Any:
        try:
            return step(uow)
        except Exception as err:
            if is_retryable(err):
                raise RetryableError(f"{type(err).__name__}: {err}") from err
            raise

    return rx_map_io(settled, rule.get("max_in_flight") or 16)
