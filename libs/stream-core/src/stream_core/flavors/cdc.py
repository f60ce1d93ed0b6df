"""cdc: publish domain events from a table's DynamoDB stream (change data capture, triggers).

Rule fields:

======================  ===================================================================
``event_type``          the stream event types (``<discriminator>-created/updated/deleted``)
``to_event``            ``(uow[, rule]) -> dict`` merged into the published event (e.g.
                        ``{"type": "thing-created", "thing": uow["event"]["raw"]["new"]}``)
``to_query_request``    optional Query of related items, into ``uow["query_response"]``
                        before ``to_event`` runs (e.g. all items of the aggregate)
``include_raw``         keep ``raw`` (the images) in the published event (default ``True``)
``table_name`` / ``connector``  the table to query (default ``ENTITY_TABLE_NAME``)
======================  ===================================================================

>>> {"id": "thing-cdc", "flavor": cdc, "event_type": "THING-created",
...  "to_event": lambda uow: {"type": "thing-created",
...                           "thing": uow["event"]["raw"]["new"]}}      # doctest: +SKIP

Latched changes (written by this service's listeners, see ``stream_core.filters.latch``)
are skipped: a materialization never echoes back as a new event. The published event keeps
the stream record's id (stable under redelivery, so consumers can deduplicate) and its
timestamp, and gets this function's standard tags (``source`` etc.) under its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..filters.latch import out_latched
from ..utils.operators import rx_filter, rx_map
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

__all__ = ["cdc"]


@flavor(
    "cdc",
    optional={
        "to_event": callable,
        "to_query_request": callable,
        "include_raw": bool,
        "table_name": str,
        "connector": None,
    },
)
def cdc(rule: Mapping[str, Any]) -> Operator:
    """Build the cdc operator for ``rule``."""
    return pipe(
        rx_filter(out_latched),
        by_event_type(rule),
        trace_start(rule),
        by_content(rule),
        _query(rule),
        rx_map(_to_event(rule)),
        publish(rule, "event"),
        trace_end(rule),
    )


def _query(rule: Mapping[str, Any]) -> Operator | None:
    to_request = rule.get("to_query_request")
    if to_request is None:
        return None
    request_of = call_rule_fn(to_request)
    table = table_for(rule, ENTITY_TABLE)

    def step(uow: dict[str, Any]) -> dict[str, Any]:
        request = request_of(uow, rule)
        uow["query_response"] = table.query(request) if request else []
        return uow

    return io_step(rule, step)


def _to_event(rule: Mapping[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    to_event = rule.get("to_event")
    fields_of = call_rule_fn(to_event) if to_event else None
    include_raw = rule.get("include_raw", True)
    tags = with_tags(rule)

    def step(uow: dict[str, Any]) -> dict[str, Any]:
        event = dict(uow["event"])
        if fields_of is not None:
            event.update(fields_of(uow, rule))
        if not include_raw:
            event.pop("raw", None)
        event["tags"] = tags(event.get("tags"))
        uow["event"] = event  # the seed's contract: to_event is merged into uow["event"]
        return uow

    return step
