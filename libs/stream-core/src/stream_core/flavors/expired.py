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

Rule fields: ``event_type`` (optional; matched against the *expiration* event's type),
``filters``.

>>> {"id": "expired", "flavor": expired}                                # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..utils.operators import rx_filter, rx_map
from ._spec import flavor
from ._steps import Operator, by_content, by_event_type, pipe, publish, trace_end, trace_start
from ._steps import with_tags as _with_tags

__all__ = ["expired", "expired_type", "for_expiration"]


@flavor("expired", requires_event_type=False, routed=False)
def expired(rule: Mapping[str, Any]) -> Operator:
    """Build the expired operator for ``rule``."""
    return pipe(
        rx_filter(for_expiration),
        rx_map(_to_expired_event(rule)),
        by_event_type(rule) if rule.get("event_type") is not None else None,
        trace_start(rule),
        by_content(rule),
        publish(rule, "emit"),
        trace_end(rule),
    )


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
