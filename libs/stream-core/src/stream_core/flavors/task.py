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

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import RecordError
from ..utils.operators import rx_map, split_buffer
from ..utils.time import now
from ._spec import flavor
from ._steps import (
    Operator,
    by_content,
    by_event_type,
    pipe,
    publish,
    trace_end,
    trace_start,
    with_tags,
)

__all__ = ["emit_step", "execute_step", "task"]


@flavor(
    "task",
    optional={
        "execute": callable,
        "emit": (str, callable),
        "result_key": str,
        "execute_operators": callable,
    },
    check=lambda rule: (
        None
        if rule.get("execute") or rule.get("emit")
        else "needs 'execute' or 'emit' (a task with neither does nothing)"
    ),
)
def task(rule: Mapping[str, Any]) -> Operator:
    """Build the task operator for ``rule``."""
    return pipe(
        by_event_type(rule),
        trace_start(rule),
        by_content(rule),
        execute_step(rule),
        _execute_operators(rule),
        emit_step(rule),
        trace_end(rule),
    )


def execute_step(rule: Mapping[str, Any]) -> Operator | None:
    """``uow[result_key] = execute(uow, rule)``; left out without ``execute``."""
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


def emit_step(rule: Mapping[str, Any]) -> Operator | None:
    """Build the ``emit`` events from a template and publish them; left out without ``emit``."""
    emit = rule.get("emit")
    if not emit:
        return None
    return pipe(rx_map(_to_emit(rule, emit)), split_buffer(), publish(rule))


def _to_emit(rule: Mapping[str, Any], emit: Any) -> Callable[[dict[str, Any]], list[dict]]:
    tags = with_tags(rule)
    fixed_type = emit if isinstance(emit, str) else None

    def to_emit(uow: dict[str, Any]) -> list[dict[str, Any]]:
        template: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "timestamp": now(),
            "partition_key": uow["event"].get("partition_key"),
            "tags": tags(),
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
