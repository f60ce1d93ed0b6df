"""evaluate: decide on correlated events and emit higher-order events (events-table trigger).

Runs on the events table's stream, on each new ``EVENT`` (collected) or ``CORREL``
(correlated) item whose domain event matches ``event_type``.

Rule fields:

==========================  ===============================================================
``emit``                    an event type, or ``(uow, rule, template) -> event | [events]``
``expression``              optional ``(uow) -> bool | event | [events]``; with it, the
                            correlated events are queried first into ``uow["correlated"]``
                            (newest first). ``True``: the trigger event is the trigger;
                            events: they are the triggers; ``False``/empty: nothing emitted
``correlation_key_suffix``  only correlations written with this suffix (and a rule without
                            a suffix only those without one)
``index``                   the GSI on ``data`` for collected items (default ``DataIndex``)
``table_name``/``connector``  the events table (default ``EVENT_TABLE_NAME``)
==========================  ===============================================================

>>> {"id": "order-ready", "flavor": evaluate,
...  "event_type": ["order-submitted", "payment-authorized"],
...  "expression": lambda uow: {e["type"] for e in uow["correlated"]} >= {
...      "order-submitted", "payment-authorized"},
...  "emit": "order-ready"}                                               # doctest: +SKIP

The emitted event's ``id`` is ``<stream record id>.<rule id>``, its ``timestamp`` the last
trigger's, its ``partition_key`` the correlation key (without suffix), and it lists its
``triggers`` ``[{id, type, timestamp}]``. With a string ``emit`` the event also carries the
trigger event's fields.

**Once per trigger** (``_once.py``). Before publishing, emitted ids already marked in the
table are skipped; after publishing, each emitted id is marked (``{pk: id, sk: "EMITTED"}``,
with the trigger item's ``ttl``). Redelivering a batch therefore emits nothing twice. Only a
crash between the publish and the marker can repeat an event, with the same id, so
consumers can still deduplicate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..utils.operators import rx_filter, rx_map, split_buffer
from ._events_table import CORRELATION, EVENT
from ._once import emit_once
from ._spec import flavor
from ._steps import (
    Operator,
    by_content,
    by_event_type,
    io_step,
    pipe,
    publish,
    trace_end,
    trace_start,
    with_tags,
)
from ._tables import EVENT_TABLE, table_for
from .correlate import normalize

__all__ = ["evaluate", "for_events"]


@flavor(
    "evaluate",
    required={"emit": (str, callable)},
    optional={
        "expression": callable,
        "correlation_key_suffix": str,
        "index": str,
        "table_name": str,
        "connector": None,
    },
    routed=False,  # event_type names the stored domain event, not the stream record
)
def evaluate(rule: Mapping[str, Any]) -> Operator:
    """Build the evaluate operator for ``rule``."""
    table = table_for(rule, EVENT_TABLE)
    return pipe(
        rx_filter(for_events),
        rx_map(normalize),
        by_event_type(rule),
        trace_start(rule),
        by_content(rule),
        _complex(rule, table),
        rx_map(_to_higher_order_events(rule)),
        split_buffer(),
        emit_once(table, publish(rule, "emit"), lambda uow: uow["meta"].get("ttl")),
        trace_end(rule),
    )


def for_events(uow: Mapping[str, Any]) -> bool:
    """An ``INSERT`` of a collected (``EVENT``) or correlated (``CORREL``) item."""
    record = uow.get("record") or {}
    new = ((uow.get("event") or {}).get("raw") or {}).get("new") or {}
    return record.get("eventName") == "INSERT" and new.get("discriminator") in (EVENT, CORRELATION)


def _correlation_key(uow: Mapping[str, Any]) -> Any:
    meta = uow["meta"]
    return meta["pk"] if meta["discriminator"] == CORRELATION else meta["data"]


def _complex(rule: Mapping[str, Any], table: Any) -> Operator:
    expression = rule.get("expression")
    if expression is None:
        return rx_map(_simple_trigger)
    suffix = rule.get("correlation_key_suffix")
    index = rule.get("index") or "DataIndex"

    def query(uow: dict[str, Any]) -> dict[str, Any]:
        meta = uow["meta"]
        if meta["discriminator"] == CORRELATION:
            request = {
                "KeyConditionExpression": "#pk = :pk",
                "ExpressionAttributeNames": {"#pk": "pk"},
                "ExpressionAttributeValues": {":pk": meta["pk"]},
                "ConsistentRead": True,
            }
        else:
            request = {
                "IndexName": index,
                "KeyConditionExpression": "#data = :data",
                "ExpressionAttributeNames": {"#data": "data"},
                "ExpressionAttributeValues": {":data": meta["data"]},
            }
        items = table.query(request)
        events = [item["event"] for item in items if "event" in item]
        uow["correlated"] = sorted(events, key=lambda e: e.get("timestamp") or 0, reverse=True)
        return uow

    def decide(uow: dict[str, Any]) -> dict[str, Any]:
        result = expression(uow)
        if isinstance(result, bool) or result is None:
            uow["triggers"] = [uow["event"]] if result else []
        else:
            uow["triggers"] = result if isinstance(result, list) else [result]
        return uow

    return pipe(
        rx_filter(lambda uow: uow["meta"]["suffix"] == suffix),
        io_step(rule, query),
        rx_map(decide),
        rx_filter(lambda uow: bool(uow["triggers"])),
    )


def _simple_trigger(uow: dict[str, Any]) -> dict[str, Any]:
    uow["triggers"] = [uow["event"]]
    return uow


def _to_higher_order_events(rule: Mapping[str, Any]) -> Callable[[dict[str, Any]], list[dict]]:
    emit = rule["emit"]
    suffix = rule.get("correlation_key_suffix")
    tags = with_tags(rule, restamp=True)

    def step(uow: dict[str, Any]) -> list[dict[str, Any]]:
        triggers = uow["triggers"]
        key = str(_correlation_key(uow) or "")
        if suffix and key.endswith(f".{suffix}"):
            key = key[: -len(suffix) - 1]
        merged_tags: dict[str, Any] = {}
        for trigger in triggers:
            merged_tags.update(trigger.get("tags") or {})
        template: dict[str, Any] = {
            "id": f"{uow['meta']['id']}.{rule['id']}",
            "timestamp": triggers[-1].get("timestamp"),
            "partition_key": key,
            "tags": tags(merged_tags),
            "triggers": [
                {"id": t.get("id"), "type": t.get("type"), "timestamp": t.get("timestamp")}
                for t in triggers
            ],
        }
        if isinstance(emit, str):
            result: Any = {**uow["event"], **template, "type": emit}
        else:
            result = emit(uow, rule, template)
        events = result if isinstance(result, list) else [result]
        if len(events) > 1:  # one template, several events: each needs its own id
            events = [{**e, "id": f"{e.get('id')}.{i}"} for i, e in enumerate(events)]
        return [{**uow, "emit": event} for event in events]

    return step
