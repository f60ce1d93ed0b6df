"""Shapes of the data that flows through a pipeline.

Dicts stay the wire format (a UOW is a plain ``dict``); these ``TypedDict`` classes only
document the keys stream-core reads and writes, for editors and type checkers.
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = ["Event", "Uow"]


class Event(TypedDict, total=False):
    """A domain event. ``id``, ``type`` and ``timestamp`` are always set by the sources."""

    id: str
    type: str
    timestamp: int  # epoch milliseconds
    partition_key: str
    tags: dict[str, Any]
    raw: dict[str, Any]  # DynamoDB streams: {"new": image | None, "old": image | None}


class Uow(TypedDict, total=False):
    """A unit of work: one source record and the event decoded from it.

    ``record`` is the raw AWS record, kept untouched for fault reports and resubmission.
    ``event`` is ``None`` only for a malformed record, which then carries ``malformed``
    (the ``MalformedRecordError``) and is turned into a fault without reaching any rule.
    Flavors add their own keys (``pipeline``, ``result``, ``emit`` ...).
    """

    record: dict[str, Any]
    event: Event | None
    pipeline: str
    malformed: Exception
