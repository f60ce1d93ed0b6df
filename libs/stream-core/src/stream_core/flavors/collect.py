"""collect: store events in the events table for later correlation (listeners).

Rule fields:

==========================  ================================================================
``correlation_key``         dot path into the event (``"order.id"``) or ``(uow) -> key``;
                            stored as ``data`` (default: the event's ``partition_key``)
``ttl``                     days to keep the event (or ``(uow, rule) -> epoch seconds``);
                            default ``TTL`` from the environment, else 33
``expire``                  ``True`` or an event type: emit an expiration event (flavor
                            ``expired``) when TTL removes the item
``include_raw``             keep the DynamoDB images of the event (default ``False``)
``table_name``/``connector``  the events table (default ``EVENT_TABLE_NAME``)
==========================  ================================================================

>>> {"id": "collect-order-events", "flavor": collect,
...  "event_type": ["order-submitted", "payment-authorized"],
...  "correlation_key": "order.id", "expire": "order-payment-timeout"}   # doctest: +SKIP

The item is ``{pk: event id, sk: "EVENT", discriminator: "EVENT", data: correlation key,
timestamp, sequence_number, ttl, expire, event}`` (see ``_events_table``), written only if
absent: redelivering a batch writes nothing twice and triggers nothing twice.
``uow["collected"]`` says whether this delivery stored it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..utils.operators import rx_map
from ._events_table import (
    EVENT,
    correlation_key_of,
    put_once,
    sequence_number_of,
    stored_event,
    ttl_of,
)
from ._spec import flavor
from ._steps import Operator, by_content, by_event_type, io_step, pipe, trace_end, trace_start
from ._tables import EVENT_TABLE, table_for

__all__ = ["collect"]


@flavor(
    "collect",
    optional={
        "correlation_key": (str, callable),
        "ttl": (int, float, callable),
        "expire": (bool, str),
        "include_raw": bool,
        "table_name": str,
        "connector": None,
    },
)
def collect(rule: Mapping[str, Any]) -> Operator:
    """Build the collect operator for ``rule``."""
    return pipe(
        by_event_type(rule),
        trace_start(rule),
        by_content(rule),
        rx_map(_to_item(rule)),
        io_step(rule, _store(rule)),
        trace_end(rule),
    )


def _to_item(rule: Mapping[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    key_of = correlation_key_of(rule)
    ttl = ttl_of(rule)
    expire = rule.get("expire")
    include_raw = bool(rule.get("include_raw"))

    def step(uow: dict[str, Any]) -> dict[str, Any]:
        event = uow["event"]
        item: dict[str, Any] = {
            "pk": str(event["id"]),
            "sk": EVENT,
            "discriminator": EVENT,
            "data": key_of(uow),
            "timestamp": event["timestamp"],
            "ttl": ttl(uow),
            "event": stored_event(event, include_raw),
        }
        sequence_number = sequence_number_of(uow)
        if sequence_number is not None:
            item["sequence_number"] = sequence_number
        if expire:
            item["expire"] = expire
        uow["put_request"] = {"Item": item}
        return uow

    return step


def _store(rule: Mapping[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    table = table_for(rule, EVENT_TABLE)

    def step(uow: dict[str, Any]) -> dict[str, Any]:
        uow["collected"] = put_once(table, uow["put_request"]["Item"])
        return uow

    return step
