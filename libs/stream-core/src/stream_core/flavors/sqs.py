"""sqs: send messages derived from events to an SQS queue.

Rule fields:

==================  ================================================================
``queue_url``       the queue (default ``QUEUE_URL`` from the environment)
``to_sqs``          ``(uow[, rule]) -> entry | [entries]``: SendMessageBatch entries
                    (``{"MessageBody": str, ...}``; ``MessageAttributes``,
                    ``DelaySeconds``, ``MessageGroupId`` ... as SendMessageBatch takes
                    them, ``Id`` optional); ``None``/``[]`` skips the UOW.
                    Default: the event as JSON
``split_on``        dot path of a list in the UOW: one UOW per element (see ``materialize``)
``connector``       a ready ``SqsConnector`` (tests, 1 MiB messages)
==================  ================================================================

>>> {"id": "queue-order-work", "flavor": sqs, "event_type": "order-ready",
...  "queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/orders",
...  "to_sqs": lambda uow: {"MessageBody": json.dumps(uow["event"]["order"]),
...                         "MessageGroupId": uow["event"]["partition_key"]}}  # doctest: +SKIP

The entries of all the rule's UOWs are sent together when the batch is in, through
``SqsConnector.send_message_batch`` (10 entries / 1 MiB per request, 256 KiB a message;
requests concurrent up to ``max_in_flight``, failed entries retried alone). The UOWs whose
entries were all sent come out carrying ``sqs_entries``; a UOW with an entry rejected for
good becomes a fault, one still failing transiently after the retries goes back to Lambda.
An exception in ``to_sqs`` faults that UOW only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..connectors.sqs import SqsConnector
from ..utils.json import dumps
from ._sink import batch_sink, connector_for, entries_step, needs_target
from ._spec import flavor
from ._steps import Operator, by_content, by_event_type, pipe, split, trace_end, trace_start

__all__ = ["sqs"]

FIELD = "sqs_entries"


@flavor(
    "sqs",
    optional={
        "queue_url": str,
        "to_sqs": callable,
        "split_on": str,
        "split_target_field": str,
        "connector": None,
    },
    check=needs_target("queue_url", "QUEUE_URL"),
)
def sqs(rule: Mapping[str, Any]) -> Operator:
    """Build the sqs operator for ``rule``."""
    queue = connector_for(rule, "queue_url", "QUEUE_URL", SqsConnector)
    return pipe(
        by_event_type(rule),
        trace_start(rule),
        by_content(rule),
        split(rule),
        entries_step(rule, FIELD, rule.get("to_sqs") or _event_message, _problem, "to_sqs"),
        batch_sink(rule, FIELD, queue.send_message_batch, "SendMessageBatch"),
        trace_end(rule),
    )


def _event_message(uow: dict[str, Any]) -> dict[str, Any]:
    return {"MessageBody": dumps(uow["event"])}


def _problem(entry: Any) -> str | None:
    if not isinstance(entry, Mapping):
        return f"must return SendMessageBatch entries (dicts), got {type(entry).__name__}"
    if not isinstance(entry.get("MessageBody"), str):
        return "entries need a string 'MessageBody' (json.dumps the payload)"
    return None
