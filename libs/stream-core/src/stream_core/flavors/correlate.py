"""correlate: index collected events by correlation key (a trigger on the events table).

Runs on the events table's DynamoDB stream. For each newly collected event (an ``INSERT``
of an ``EVENT`` item, see ``collect``) whose *domain* event matches ``event_type``, it
writes a correlation item keyed by the correlation key, so ``evaluate`` can query all the
events of one correlation (one order, one customer ...) with one consistent Query.

Rule fields:

===========================  ==============================================================
``event_type``               the domain event types (``order-submitted``), not the stream's
``correlation_key``          dot path into the event or ``(uow) -> key`` (required)
``correlation_key_suffix``   appended as ``.<suffix>``: separate correlation sets on the
                             same entity (evaluate rules with the suffix read only these)
``ttl``                      days (or ``(uow, rule) -> epoch seconds``); default: the
                             collected item's ``ttl``
``expire``                   ``True`` or an event type, as in ``collect``
``table_name``/``connector``   the events table (default ``EVENT_TABLE_NAME``)
===========================  ==============================================================

>>> {"id": "correlate-order", "flavor": correlate,
...  "event_type": ["order-submitted", "payment-authorized"],
...  "correlation_key": "order.id"}                                      # doctest: +SKIP

The item ``{pk: key, sk: event id, discriminator: "CORREL", ...}`` is written only if absent:
redelivery writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..utils.operators import rx_filter, rx_map
from ._events_table import CORRELATION, EVENT, correlation_key_of, put_once, ttl_of
from ._spec import flavor
from ._steps import Operator, by_content, by_event_type, io_step, pipe, trace_end, trace_start
from ._tables import EVENT_TABLE, table_for

__all__ = ["correlate", "for_collected_events", "normalize"]


@flavor(
    "correlate",
    required={"correlation_key": (str, callable)},
    optional={
        "correlation_key_suffix": str,
        "ttl": (int, float, callable),
        "expire": (bool, str),
        "table_name": str,
        "connector": None,
    },
    routed=False,  # event_type names the collected domain event, not the stream record
)
def correlate(rule: Mapping[str, Any]) -> Operator:
    """Build the correlate operator for ``rule``."""
    return pipe(
        rx_filter(for_collected_events),
        rx_map(normalize),
        by_event_type(rule),
        trace_start(rule),
        by_content(rule),
        rx_map(_to_item(rule)),
        io_step(rule, _store(rule)),
        trace_end(rule),
    )


def for_collected_events(uow: Mapping[str, Any]) -> bool:
    """An ``INSERT`` of a collected ``EVENT`` item."""
    record = uow.get("record") or {}
    new = ((uow.get("event") or {}).get("raw") or {}).get("new") or {}
    return record.get("eventName") == "INSERT" and new.get("discriminator") == EVENT


def normalize(uow: dict[str, Any]) -> dict[str, Any]:
    """The UOW of the stored domain event: ``event`` is the item's ``event``, ``meta`` keeps
    the item's bookkeeping (and ``stream_event`` the stream's view of it)."""
    new = uow["event"]["raw"]["new"]
    uow["meta"] = {
        "id": uow["event"]["id"],
        "pk": new.get("pk"),
        "sk": new.get("sk"),
        "data": new.get("data"),
        "sequence_number": new.get("sequence_number"),
        "ttl": new.get("ttl"),
        "expire": new.get("expire"),
        "suffix": new.get("suffix"),
        "discriminator": new.get("discriminator"),
    }
    uow["stream_event"] = uow["event"]
    uow["event"] = new["event"]
    return uow


def _to_item(rule: Mapping[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    key_of = correlation_key_of(rule)
    ttl = ttl_of(rule) if rule.get("ttl") is not None else None
    suffix = rule.get("correlation_key_suffix")
    expire = rule.get("expire")

    def step(uow: dict[str, Any]) -> dict[str, Any]:
        event = uow["event"]
        meta = uow["meta"]
        item: dict[str, Any] = {
            "pk": key_of(uow),
            "sk": str(event["id"]),
            "discriminator": CORRELATION,
            "timestamp": event["timestamp"],
            "ttl": ttl(uow) if ttl is not None else meta["ttl"],
            "rule_id": rule["id"],
            "event": event,
        }
        for name, value in (
            ("sequence_number", meta["sequence_number"]),
            ("suffix", suffix),
            ("expire", expire),
        ):
            if value is not None:
                item[name] = value
        uow["put_request"] = {"Item": item}
        return uow

    return step


def _store(rule: Mapping[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    table = table_for(rule, EVENT_TABLE)

    def step(uow: dict[str, Any]) -> dict[str, Any]:
        uow["correlated"] = put_once(table, uow["put_request"]["Item"])
        return uow

    return step
