"""sns: publish messages derived from events to an SNS topic.

Rule fields:

==================  ================================================================
``topic_arn``       the topic (default ``TOPIC_ARN`` from the environment)
``to_sns``          ``(uow[, rule]) -> entry | [entries]``: PublishBatch entries
                    (``{"Message": str, ...}``; ``Subject``, ``MessageAttributes``,
                    ``MessageGroupId`` ... as PublishBatch takes them, ``Id`` optional);
                    ``None``/``[]`` skips the UOW. Default: the event as JSON
``split_on``        dot path of a list in the UOW: one UOW per element (see ``materialize``)
``connector``       a ready ``SnsConnector`` (tests)
==================  ================================================================

>>> {"id": "notify-order-ready", "flavor": sns, "event_type": "order-ready",
...  "topic_arn": "arn:aws:sns:us-east-1:123456789012:orders",
...  "to_sns": lambda uow: [{"Message": json.dumps(uow["event"])}]}   # doctest: +SKIP

The entries of all the rule's UOWs are published together when the batch is in, through
``SnsConnector.publish_batch`` (10 entries / 256 KB per request, requests concurrent up to
``max_in_flight``, failed entries retried alone). The UOWs whose entries were all published
come out carrying ``sns_entries``; a UOW with an entry rejected for good (too large, invalid)
becomes a fault, one still throttled after the retries goes back to Lambda. An exception in
``to_sns`` faults that UOW only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..connectors.sns import SnsConnector
from ..utils.json import dumps
from ._sink import batch_sink, connector_for, entries_step, needs_target
from ._spec import flavor
from ._steps import Operator, by_content, by_event_type, pipe, split, trace_end, trace_start

__all__ = ["sns"]

FIELD = "sns_entries"


@flavor(
    "sns",
    optional={
        "topic_arn": str,
        "to_sns": callable,
        "split_on": str,
        "split_target_field": str,
        "connector": None,
    },
    check=needs_target("topic_arn", "TOPIC_ARN"),
)
def sns(rule: Mapping[str, Any]) -> Operator:
    """Build the sns operator for ``rule``."""
    topic = connector_for(rule, "topic_arn", "TOPIC_ARN", SnsConnector)
    return pipe(
        by_event_type(rule),
        trace_start(rule),
        by_content(rule),
        split(rule),
        entries_step(rule, FIELD, rule.get("to_sns") or _event_message, _problem, "to_sns"),
        batch_sink(rule, FIELD, topic.publish_batch, "PublishBatch"),
        trace_end(rule),
    )


def _event_message(uow: dict[str, Any]) -> dict[str, Any]:
    return {"Message": dumps(uow["event"])}


def _problem(entry: Any) -> str | None:
    if not isinstance(entry, Mapping):
        return f"must return PublishBatch entries (dicts), got {type(entry).__name__}"
    if not isinstance(entry.get("Message"), str):
        return "entries need a string 'Message' (json.dumps the payload)"
    return None
