"""The events table that collect, correlate, evaluate and expired share.

Items (``pk``/``sk`` keys; a ``DataIndex`` GSI on ``data`` for evaluate's lookups):

=========  ===================  ==============  ==========================================
item       pk                   sk              other attributes
=========  ===================  ==============  ==========================================
collected  event id             ``EVENT``       discriminator ``EVENT``, data (correlation
                                                key), timestamp, sequence_number, ttl,
                                                expire, event
correlated correlation key      event id        discriminator ``CORREL``, suffix, rule_id,
           [``.`` suffix]                       timestamp, sequence_number, ttl, expire,
                                                event
emitted    emitted event id     ``EMITTED``     discriminator ``EMITTED``, ttl (evaluate's
                                                and expired's once-per-trigger marker,
                                                ``_once.py``)
=========  ===================  ==============  ==========================================

``ttl`` is epoch seconds (enable TTL on that attribute); ``expire`` (``True`` or an event
type) makes the ``expired`` flavor emit when TTL removes the item.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import RecordError
from ..filters.dotpath import get_path
from ..utils.time import ttl as ttl_from

__all__ = [
    "CORRELATION",
    "DEFAULT_TTL_DAYS",
    "EMITTED",
    "EVENT",
    "correlation_key_of",
    "put_once",
    "sequence_number_of",
    "stored_event",
    "ttl_of",
]

EVENT = "EVENT"
CORRELATION = "CORREL"
EMITTED = "EMITTED"
DEFAULT_TTL_DAYS = 33
_CONDITION_FAILED = "ConditionalCheckFailedException"


def correlation_key_of(rule: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], str]:
    """``key(uow)``: ``correlation_key`` as a dot path into the event or ``(uow) -> key``,
    plus ``.<correlation_key_suffix>`` when the rule has one. A missing key is the record's
    fault (the event does not have what the rule correlates on)."""
    spec = rule.get("correlation_key")
    suffix = rule.get("correlation_key_suffix")

    def key(uow: Mapping[str, Any]) -> str:
        if spec is None:
            value = uow["event"].get("partition_key")
        elif callable(spec):
            value = spec(uow)
        else:
            value = get_path(uow["event"], spec)
        if value is None or value == "":
            raise RecordError(
                f"rule {rule.get('id')!r}: no correlation key {spec!r} in event "
                f"{uow['event'].get('id')!r}"
            )
        return f"{value}.{suffix}" if suffix else str(value)

    return key


def ttl_of(rule: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], int]:
    """``ttl(uow)`` in epoch seconds: ``rule['ttl']`` days after the event (a callable
    ``(uow, rule) -> epoch seconds`` is called), else ``TTL`` days from the environment
    (read now), else 33 days."""
    spec = rule.get("ttl")
    if callable(spec):
        return lambda uow: int(spec(uow, rule))
    days = float(spec if spec is not None else os.environ.get("TTL") or DEFAULT_TTL_DAYS)
    return lambda uow: ttl_from(int(uow["event"]["timestamp"]), days)


def sequence_number_of(uow: Mapping[str, Any]) -> str | None:
    """The source record's sequence number (Kinesis, DynamoDB, SQS FIFO), if it has one."""
    record = uow.get("record") or {}
    return (
        (record.get("kinesis") or {}).get("sequenceNumber")
        or (record.get("dynamodb") or {}).get("SequenceNumber")
        or (record.get("attributes") or {}).get("SequenceNumber")
    )


def stored_event(event: Mapping[str, Any], include_raw: bool = False) -> dict[str, Any]:
    """The event as stored in an item (DynamoDB images under ``raw`` left out by default)."""
    if include_raw or "raw" not in event:
        return dict(event)
    return {k: v for k, v in event.items() if k != "raw"}


def put_once(table: Any, item: Mapping[str, Any]) -> bool:
    """Put ``item`` unless an item with its key exists; ``False`` when it already did.

    Makes collect/correlate idempotent: a redelivered record writes nothing and produces no
    stream record, so nothing downstream runs twice.
    """
    try:
        table.put(item, ConditionExpression="attribute_not_exists(pk)")
    except Exception as err:
        response = getattr(err, "response", None) or {}
        if response.get("Error", {}).get("Code") == _CONDITION_FAILED:
            return False
        raise
    return True
