"""job: page through a query or scan for scheduled work, with a cursor.

A job rule reacts to a trigger event (a schedule, a command), reads a table page by page
and hands each item on as its own UOW (``uow[split_target_field]``, default ``"item"``),
where ``execute`` and ``emit`` work as in ``task``. At most ``page_limit`` pages (default
10) are read per trigger; if more remain, a continuation event carrying the ``cursor`` is
published (type ``continue_type``, default ``"<rule id>-continue"``) and the rule resumes
from it when it arrives: list that type in the rule's ``event_type``.

Rule fields: ``to_query_request`` or ``to_scan_request`` (``(uow[, rule]) -> request``),
``page_limit``, ``continue_type``, ``split_target_field``, ``execute``, ``emit``,
``table_name``/``connector`` (default ``ENTITY_TABLE_NAME``).

>>> {"id": "expire-carts", "flavor": job,
...  "event_type": ["nightly", "expire-carts-continue"],
...  "to_scan_request": lambda uow: {"FilterExpression": ...},
...  "emit": lambda uow, rule, template: {**template, "type": "cart-expired",
...                                       "cart": uow["item"]}}          # doctest: +SKIP
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from ..utils.operators import rx_map, split_buffer
from ..utils.time import now
from ._spec import flavor
from ._steps import (
    Operator,
    by_content,
    by_event_type,
    call_rule_fn,
    io_step,
    pipe,
    publish,
    trace_end,
    trace_start,
    with_tags,
)
from ._tables import ENTITY_TABLE, table_for
from .task import emit_step, execute_step

__all__ = ["job"]


@flavor(
    "job",
    optional={
        "to_query_request": callable,
        "to_scan_request": callable,
        "page_limit": int,
        "continue_type": str,
        "split_target_field": str,
        "execute": callable,
        "emit": (str, callable),
        "result_key": str,
        "table_name": str,
        "connector": None,
    },
    check=lambda rule: (
        None
        if bool(rule.get("to_query_request")) != bool(rule.get("to_scan_request"))
        else "needs exactly one of 'to_query_request' and 'to_scan_request'"
    ),
)
def job(rule: Mapping[str, Any]) -> Operator:
    """Build the job operator for ``rule``."""
    return pipe(
        by_event_type(rule),
        trace_start(rule),
        by_content(rule),
        io_step(rule, _read_pages(rule)),
        _continue(rule),
        rx_map(_items(rule)),
        split_buffer(),
        execute_step(rule),
        emit_step(rule),
        trace_end(rule),
    )


def _read_pages(rule: Mapping[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    table = table_for(rule, ENTITY_TABLE)
    scan = rule.get("to_scan_request") is not None
    request_of = call_rule_fn(rule.get("to_scan_request") or rule["to_query_request"])
    page_limit = rule.get("page_limit") or 10
    read_page = table.scan_page if scan else table.query_page

    def step(uow: dict[str, Any]) -> dict[str, Any]:
        request = request_of(uow, rule)
        cursor = uow["event"].get("cursor")
        items: list[dict[str, Any]] = []
        for _ in range(page_limit):
            page = read_page(request, cursor)
            items.extend(page.items)
            cursor = page.cursor
            if cursor is None:
                break
        uow["job"] = {"items": items, "cursor": cursor}
        return uow

    return step


def _continue(rule: Mapping[str, Any]) -> Operator:
    """Publish a continuation event for UOWs whose cursor is not exhausted."""
    continue_type = rule.get("continue_type") or f"{rule['id']}-continue"
    tags = with_tags(rule)

    def to_continuation(uow: dict[str, Any]) -> dict[str, Any]:
        cursor = uow["job"]["cursor"]
        if cursor is not None:
            uow = {
                **uow,
                "continuation": {
                    **{k: v for k, v in uow["event"].items() if k not in ("id", "cursor")},
                    "id": str(uuid.uuid4()),
                    "type": continue_type,
                    "timestamp": now(),
                    "cursor": cursor,
                    "tags": tags(),
                },
            }
        return uow

    return pipe(rx_map(to_continuation), publish(rule, "continuation"))


def _items(rule: Mapping[str, Any]) -> Callable[[dict[str, Any]], list[dict[str, Any]]]:
    target = rule.get("split_target_field") or "item"
    return lambda uow: [{**uow, target: item} for item in uow["job"]["items"]]
