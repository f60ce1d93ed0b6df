"""eventbridge: publish events derived from the events a rule receives to the bus.

Rule fields:

============  ==================================================================
``to_event``  ``(uow[, rule]) -> event | [events]``: each a dict with a ``type``;
              ``None``/``[]`` publishes nothing for the UOW
``bus_name``  the bus (default ``BUS_NAME``, as for every publishing flavor)
============  ==================================================================

>>> {"id": "announce-shipment", "flavor": eventbridge, "event_type": "order-shipped",
...  "to_event": lambda uow: {"type": "customer-notified",
...                           "customer": uow["event"]["order"]["customer"]}}  # doctest: +SKIP

Each event gets what a ``task``'s emit template carries where it does not set them itself:
an ``id``, a ``timestamp`` (now), the triggering event's ``partition_key``, and the
standard ``tags`` (account, region, stage, source, functionname, pipeline) under its own.
The default ``id`` is derived from the rule, the triggering event's id and the event's
position, so a redelivered batch publishes the same ids (consumers can deduplicate).

Events go through the rule's publisher, as ``task``'s and ``cdc``'s do: in batched,
concurrent ``PutEvents`` at the end of the batch, large fields gzipped and events over
256 KB claim-checked to S3 (``claim_check_bucket``). One UOW comes out per published
event, carrying it in ``emit``; an exception in ``to_event`` or an event that cannot be
published faults that UOW only, a throttled one goes back to Lambda.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import RecordError
from ..utils.operators import rx_map, split_buffer
from ..utils.time import now
from ._sink import as_list
from ._spec import flavor
from ._steps import (
    Operator,
    by_content,
    by_event_type,
    call_rule_fn,
    pipe,
    publish,
    trace_end,
    trace_start,
    with_tags,
)

__all__ = ["eventbridge"]


@flavor("eventbridge", required={"to_event": callable})
def eventbridge(rule: Mapping[str, Any]) -> Operator:
    """Build the eventbridge operator for ``rule``."""
    return pipe(
        by_event_type(rule),
        trace_start(rule),
        by_content(rule),
        rx_map(_to_emit(rule)),
        split_buffer(),
        publish(rule, "emit"),
        trace_end(rule),
    )


def _to_emit(rule: Mapping[str, Any]) -> Callable[[dict[str, Any]], list[dict[str, Any]]]:
    """Step: one UOW per derived event (in ``emit``), with the standard fields filled in."""
    to_event = call_rule_fn(rule["to_event"])
    tags = with_tags(rule)
    rule_id = rule.get("id")

    def step(uow: dict[str, Any]) -> list[dict[str, Any]]:
        events = as_list(to_event(uow, rule))
        trigger = uow["event"]
        emitted = []
        for position, event in enumerate(events):
            if not isinstance(event, Mapping) or not isinstance(event.get("type"), str):
                raise RecordError(
                    f"rule {rule_id!r}: to_event must return an event dict with a 'type' "
                    f"(or a list of them), got {type(event).__name__}"
                )
            derived = {
                "id": _derived_id(rule_id, trigger, position),
                "timestamp": now(),
                "partition_key": trigger.get("partition_key"),
                **event,
                "tags": tags(event.get("tags")),
            }
            emitted.append({**uow, "emit": derived})
        return emitted

    return step


def _derived_id(rule_id: Any, trigger: Mapping[str, Any], position: int) -> str:
    source_id = trigger.get("id")
    if source_id is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"stream-core:{rule_id}:{source_id}:{position}"))
