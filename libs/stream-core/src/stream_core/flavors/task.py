"""task: run business logic for matching events and optionally emit follow-up events.

Rule fields:

==================  ============================================================
``execute``         ``(uow, rule) -> result``, stored in ``uow[result_key]``
``result_key``      where the result goes (default ``"result"``)
``emit``            an event type (string) or ``(uow, rule, template) -> event | [events]``
``execute_operators`` ``rule -> operator`` run after ``execute`` (advanced)
==================  ============================================================

>>> rule = {"id": "process-thing", "flavor": task, "event_type": "thing-created",
...         "execute": lambda uow, rule: {"processed": True}}

The emit ``template`` carries a new ``id``, the current ``timestamp``, the triggering
event's ``partition_key`` and ``tags`` (account, region, stage, source, functionname,
pipeline). Emitted events are published in batches at the end of the rule; the UOWs that
come out carry ``emit``. A failing ``execute``/``emit`` faults that record only.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from reactivex import Observable
from reactivex import operators as ops

from ..errors import RecordError
from ..utils.filters import on_content, on_event_type, skip_event_type_filter
from ..utils.operators import rx_filter, rx_map, split_buffer
from ..utils.opt import publish as default_publish
from ..utils.print import print_end_pipeline, print_start_pipeline, rule_logger
from ..utils.tags import env_tags
from ..utils.time import now
from ._spec import flavor

__all__ = ["task"]

Operator = Callable[[Observable[Any]], Observable[Any]]


@flavor(
    "task",
    optional={
        "execute": callable,
        "emit": (str, callable),
        "result_key": str,
        "execute_operators": callable,
    },
    check=lambda rule: None
    if rule.get("execute") or rule.get("emit")
    else "needs 'execute' or 'emit' (a task with neither does nothing)",
)
def task(rule: Mapping[str, Any]) -> Operator:
    """Build the task operator for ``rule``."""
    steps = [
        _event_type(rule),
        _trace(rule, print_start_pipeline),
        _content(rule),
        _execute(rule),
        _execute_operators(rule),
        _emit(rule),
        _trace(rule, print_end_pipeline),
    ]
    active = [step for step in steps if step is not None]

    def operator(source: Observable[Any]) -> Observable[Any]:
        return source.pipe(*active)

    return operator


def _event_type(rule: Mapping[str, Any]) -> Operator | None:
    return None if skip_event_type_filter(rule) else rx_filter(on_event_type(rule))


def _trace(rule: Mapping[str, Any], printer: Callable[..., Any]) -> Operator | None:
    # Checked once per invocation: with DEBUG off the step is not in the pipe at all.
    if not rule_logger(rule).isEnabledFor(logging.DEBUG):
        return None
    return ops.do_action(printer(rule))


def _content(rule: Mapping[str, Any]) -> Operator | None:
    return rx_filter(on_content(rule)) if rule.get("filters") else None


def _execute(rule: Mapping[str, Any]) -> Operator | None:
    execute = rule.get("execute")
    if execute is None:
        return None
    result_key = rule.get("result_key") or "result"

    def step(uow: dict[str, Any]) -> dict[str, Any]:
        # The UOW is this rule's own shallow copy: enrich it in place.
        uow[result_key] = execute(uow, rule)
        return uow

    return rx_map(step)


def _execute_operators(rule: Mapping[str, Any]) -> Operator | None:
    build = rule.get("execute_operators")
    return build(rule) if build is not None else None


def _emit(rule: Mapping[str, Any]) -> Operator | None:
    emit = rule.get("emit")
    if not emit:
        return None
    publish = rule.get("publish") or default_publish
    return lambda source: source.pipe(
        rx_map(_to_emit(rule, emit)),
        split_buffer(),
        publish(
            {
                "bus_name": rule.get("bus_name"),
                "source": rule.get("source"),
                "logger": rule.get("logger"),
                "event_field": "emit",
            }
        ),
    )


def _to_emit(rule: Mapping[str, Any], emit: Any) -> Callable[[dict[str, Any]], list[dict]]:
    tags = env_tags(rule.get("id"))
    fixed_type = emit if isinstance(emit, str) else None

    def to_emit(uow: dict[str, Any]) -> list[dict[str, Any]]:
        template: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "timestamp": now(),
            "partition_key": uow["event"].get("partition_key"),
            "tags": dict(tags),
        }
        if fixed_type is not None:
            template["type"] = fixed_type
            result: Any = template
        else:
            result = emit(uow, rule, template)
        events = result if isinstance(result, list) else [result]
        seen_ids = set()
        for position, event in enumerate(events):
            if not isinstance(event, dict) or not isinstance(event.get("type"), str):
                raise RecordError(
                    f"rule {rule.get('id')!r}: emit must return an event dict with a 'type' "
                    f"(or a list of them), got {type(event).__name__}"
                )
            if event.get("id") in seen_ids:
                # several events built from one template: each needs its own id
                events[position] = event = {**event, "id": str(uuid.uuid4())}
            seen_ids.add(event.get("id"))
        return [{**uow, "emit": event} for event in events]

    return to_emit
