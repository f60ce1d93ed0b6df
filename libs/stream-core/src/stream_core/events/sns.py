"""SNS trigger -> UOWs, and a record builder for tests.

Each record's ``Sns.Message`` is the JSON of one domain event. The event keeps its own
``id``/``timestamp``; missing ones come from the notification (``Sns.MessageId``,
``Sns.Timestamp``). A message that is not JSON, not an object or an event without a ``type``
yields a malformed UOW (a fault with the raw record), never an exception.

>>> event = to_sns_records([{"type": "thing-created", "timestamp": 1}])
>>> [uow["event"]["type"] for uow in from_sns(event)]
['thing-created']
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..types import Uow
from ..utils.json import dumps
from ._base import finish, malformed, records_of, to_uow
from ._sns import message_of, notification
from ._time import iso_ms

__all__ = ["from_sns", "to_sns_records"]

TOPIC_ARN = "arn:aws:sns:us-west-2:123456789012:test-topic"
PUBLISHED = 1548967022000


def from_sns(event: Mapping[str, Any]) -> list[Uow]:
    """Decode an SNS trigger event into UOWs ordered by event timestamp."""
    uows: list[Uow] = []
    append = uows.append
    loads = json.loads
    for record in records_of(event, "sns"):
        try:
            sns = record["Sns"]
            payload = loads(message_of(sns, envelope=False))
            published = None
            if type(payload) is dict and "timestamp" not in payload:  # parse only if needed
                published = sns.get("Timestamp")
                if published is not None:
                    published = iso_ms(published)
        except (KeyError, TypeError, ValueError) as err:
            append(malformed(record, f"sns message is not a JSON event: {err!r}", err))
            continue
        append(
            to_uow(record, payload, default_id=sns.get("MessageId"), default_timestamp=published)
        )
    return finish(uows)


def to_sns_records(
    events: Iterable[Mapping[str, Any]] | None = None,
    *,
    messages: Sequence[str] | None = None,
    topic_arn: str = TOPIC_ARN,
    published: int = PUBLISHED,
    subject: str | None = None,
) -> dict[str, Any]:
    """Build an SNS trigger event with one notification per event (its JSON as ``Message``),
    in order; or, with ``messages``, one per raw message string (to build malformed cases).

    The ``Timestamp`` of notification ``i`` is ``published + i`` (ms).
    """
    if messages is not None:
        if events is not None:
            raise ValueError("to_sns_records: pass events or messages, not both")
    else:
        messages = [dumps(event) for event in events or ()]
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:21be56ed-a058-49f5-8c98-{i:012d}",
                "Sns": notification(
                    message,
                    index=i,
                    timestamp_ms=published + i,
                    topic_arn=topic_arn,
                    subject=subject,
                    lambda_record=True,
                ),
            }
            for i, message in enumerate(messages)
        ]
    }
