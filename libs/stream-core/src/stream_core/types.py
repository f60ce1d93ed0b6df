"""Shapes of the data that flows through a pipeline.

Dicts stay the wire format: a UOW and an event are plain ``dict`` objects, and an event
carries its own payload keys next to the standard ones, which a ``TypedDict`` cannot express
on Python 3.11. The aliases below name them in signatures; the keys are:

``Event`` (the domain event)
    ``id`` (str), ``type`` (str), ``timestamp`` (int, epoch ms), ``partition_key`` (str),
    ``tags`` (dict), ``raw`` (DynamoDB streams: ``{"new": image | None, "old": image |
    None}``), plus the payload. Sources always set ``id``, ``type`` and ``timestamp``.

``Uow`` (a unit of work)
    ``record``: the raw AWS record, kept untouched for fault reports and resubmission;
    ``event``: the ``Event``, or ``None`` for a malformed record, which then carries
    ``malformed`` (the ``MalformedRecordError``) and becomes a fault without reaching a rule;
    ``pipeline``: the rule id, added when a rule runs it; flavors add their own keys
    (``result``, ``emit`` ...).
"""

from __future__ import annotations

from typing import Any, TypeAlias

__all__ = ["Event", "Record", "Uow"]

Event: TypeAlias = dict[str, Any]
Uow: TypeAlias = dict[str, Any]
Record: TypeAlias = dict[str, Any]
