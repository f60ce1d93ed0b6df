"""expired: emit expiration events when DynamoDB TTL removes events-table items (triggers).

An item stored with ``ttl`` and ``expire`` (see ``collect``) that TTL deletes produces a
``REMOVE`` stream record; this flavor turns it into an event:

* type: ``expire`` when it is a string (``"order-payment-timeout"``), else the stored
  event's type + ``-expired`` (``thing-created-expired``), or ``.expired`` for dotted types;
* ``id``: the stream record's id (stable under redelivery); ``timestamp``: the TTL time in
  ms (plus the stored event's milliseconds); ``triggers``: the stored event;
* the stored event's fields otherwise; its tags restamped with this function's standard
  tags (``source`` is this service: the original producer must not drop it as its own).

A removal counts as expired when it was made by the TTL service (``ttl_expired``, from the
``userIdentity`` of the record) or happened at or after the item's ``ttl``; a user's delete
of the item before then emits nothing (e.g. to disarm a timeout once it is settled).

**Once per removal** (``_once.py``). Lambda redelivers a stream batch after an error, so
the same removal can come again; with an events table the flavor publishes each expiration
event once and marks its id (``{pk: id, sk: "EMITTED"}``, kept two days: DynamoDB Streams
keep a record for one). The table is the rule's ``table_name``/``connector``, else
``EVENT_TABLE_NAME`` (or ``ENTITY_TABLE_NAME``), as for evaluate, and the function needs
``BatchGetItem`` and ``BatchWriteItem`` on it. With no table (or ``once: False``) every
delivery publishes, with the same id, for consumers that deduplicate.

Rule fields: ``event_type`` (optional; matched against the *expiration* event's type),
``filters``, ``once`` (default: when a table is known; ``True`` requires one),
``table_name``, ``connector``.

>>> {"id": "expired", "flavor": expired}                                # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ConfigurationError
from ..utils.operators import rx_filter, rx_map
from ._once import emit_once
from ._spec import flavor
from ._steps import Operator, by_content, by_event_type, pipe, publish, trace_end, trace_start
from ._steps import with_tags as _with_tags
from ._tables import EVENT_TABLE, table_for

__all__ = ["expired", "expired_type", "for_expiration"]

MARKER_DAYS = 2


@flavor(
    "expired",
    optional={"once": bool, "table_name": str, "connector": None},
    requires_event_type=False,
    routed=False,
)
def expired(rule: Mapping[str, Any]) -> Operator:
    """Build the expired operator for ``rule``."""
    table = _marker_table(rule)
    publish_op = publish(rule, "emit")
    return pipe(
        rx_filter(for_expiration),
        rx_map(_to_expired_event(rule)),
        by_event_type(rule) if rule.get("event_type") is not None else None,
        trace_start(rule),
        by_content(rule),
        publish_op if table is None else emit_once(table, publish_op, _marker_ttl),
        trace_end(rule),
    )


def _marker_table(rule: Mapping[str, Any]) -> Any:
    """The table for the emitted-markers, or ``None`` (see the module doc)."""
    once = rule.get("once")
    if once is False:
        return None
    try:
        return table_for(rule, EVENT_TABLE)
    except ConfigurationError:
        if once:
            raise
        return None


def _marker_ttl(uow: Mapping[str, Any]) -> int:
    """Two days after the removal: past any redelivery (stream records live 24 hours)."""
    record = uow.get("record") or {}
    removed = (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")
    return int(float(removed) if removed is not None else time.time()) + MARKER_DAYS * 86_400


def for_expiration(uow: Mapping[str, Any]) -> bool:
    """A ``REMOVE`` of an item with ``ttl`` and ``expire``, made by TTL."""
    record = uow.get("record") or {}
    if record.get("eventName") != "REMOVE":
        return False
    event = uow.get("event") or {}
    old = (event.get("raw") or {}).get("old") or {}
    ttl, expire = old.get("ttl"), old.get("expire")
    if not ttl or not expire or not isinstance(old.get("event"), Mapping):
        return False
    if event.get("ttl_expired"):
        return True
    removed = (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")
    return removed is not None and float(removed) >= float(ttl)


def expired_type(event_type: str, expire: Any) -> str:
    """The type of the expiration event of ``event_type`` under ``expire``."""
    if isinstance(expire, str):
        return expire
    return f"{event_type}.expired" if "." in event_type else f"{event_type}-expired"


def _to_expired_event(rule: Mapping[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    tags = _with_tags(rule, restamp=True)

    def step(uow: dict[str, Any]) -> dict[str, Any]:
        old = uow["event"]["raw"]["old"]
        stored = old["event"]
        timestamp = int(stored.get("timestamp") or 0)
        uow["stream_event"] = uow["event"]
        uow["event"] = uow["emit"] = {
            **stored,
            "id": uow["event"]["id"],
            "type": expired_type(str(stored.get("type")), old["expire"]),
            "timestamp": int(old["ttl"]) * 1000 + timestamp % 1000,
            "tags": tags(stored.get("tags")),
            "triggers": [
                {"id": stored.get("id"), "type": stored.get("type"), "timestamp": timestamp}
            ],
        }
        return uow

    return step
