"""Latching: a trigger must not echo back the writes a listener made.

A service that owns a table usually has both a *listener* (consumes other services'
events and writes them into its table, e.g. ``materialize``) and a *trigger* (reads the
table's DynamoDB stream and publishes the changes, e.g. ``cdc``). Without a latch every
write the listener makes would come back out of the trigger as a new domain event, and
other services would see events that nobody in this service decided to emit.

The convention (the same as aws-lambda-stream's) is one item attribute, ``latched``:

- **listeners** mark what they write: ``latched(item)`` sets ``latched: True``;
- **commands** (the service's own API writes) clear it: ``unlatched(item)`` sets
  ``latched: None``, which ``stream_core.utils.dynamodb.update_expression`` turns into a
  ``REMOVE``, so a user's later change of a listener-written item is published;
- **triggers** put ``out_latched`` in the rule's ``filters``: a stream record whose new
  image (the old image for a ``REMOVE``) has ``latched`` truthy is left out.

>>> to_update_request = lambda uow, rule: {                              # doctest: +SKIP
...     "Key": {"pk": ..., "sk": ...},
...     **update_expression(latched({"name": uow["event"]["thing"]["name"]})),
... }
>>> cdc_rule = {"id": "publish-things", "flavor": cdc, "event_type": "thing-updated",
...             "filters": [out_latched], ...}                           # doctest: +SKIP

A delete is attributed to the last writer (a ``REMOVE`` record carries only the old
image): a command that deletes an item a listener wrote last is skipped too. Commands
that must publish such deletes should soft-delete (``update_expression(unlatched({"deleted":
True}))``, which ``from_dynamodb`` maps to ``<prefix>-deleted``) instead.

A UOW without DynamoDB images (``event.raw``) is not a table change and is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["LATCHED", "latched", "out_latched", "unlatched"]

#: The item attribute that carries the latch.
LATCHED = "latched"


def out_latched(uow: Mapping[str, Any], rule: Any = None) -> bool:
    """``False`` for a DynamoDB stream change written latched (by a listener).

    Usable in ``filters: [...]`` (``(uow, rule)``) and with ``rx_filter`` (``(uow)``).

    >>> out_latched({"event": {"raw": {"new": {"pk": "1", "latched": True}, "old": None}}})
    False
    >>> out_latched({"event": {"raw": {"new": None, "old": {"pk": "1"}}}})
    True
    """
    raw = (uow.get("event") or {}).get("raw")
    if not isinstance(raw, Mapping):
        return True
    image = raw.get("new") or raw.get("old")
    if not isinstance(image, Mapping):
        return True
    return not image.get(LATCHED)


def latched(item: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``item`` marked as written by a listener (``latched: True``).

    >>> latched({"pk": "1", "name": "x"})
    {'pk': '1', 'name': 'x', 'latched': True}
    """
    return {**item, LATCHED: True}


def unlatched(item: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``item`` for a command's write: ``latched: None`` (removed by
    ``update_expression``), so the trigger publishes the change.

    >>> unlatched({"pk": "1", "latched": True})
    {'pk': '1', 'latched': None}
    """
    return {**item, LATCHED: None}
