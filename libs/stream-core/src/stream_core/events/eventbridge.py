"""EventBridge events -> UOWs: a Lambda that is the target of a rule, or an SQS queue that is
the target of a rule; and builders for tests.

The domain event is the envelope's ``detail``. It keeps its own ``type``/``id``/
``timestamp``; missing ones come from the envelope (``detail-type``, ``id``, ``time``; for
SQS the message's ``attributes.MessageGroupId`` is the default ``partition_key``). A
``detail`` that is not an object, a body that is not an EventBridge event or an event
without a type yields a malformed UOW (a fault with the raw record), never an exception.

>>> [uow["event"]["type"] for uow in from_eventbridge(to_eventbridge_event({"type": "x"}))]
['x']
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ConfigurationError
from ..types import Uow
from ..utils.json import dumps
from ._base import finish, malformed, records_of, to_uow
from ._time import iso_ms, ms_iso
from .sqs import QUEUE_ARN, message_defaults, to_sqs_records

__all__ = [
    "from_eventbridge",
    "from_sqs_eventbridge",
    "to_eventbridge_event",
    "to_sqs_eventbridge_records",
]

TIME = 1548967022000
_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


def from_eventbridge(event: Mapping[str, Any]) -> list[Uow]:
    """Decode the event of a Lambda invoked by an EventBridge rule: one UOW whose
    ``record`` is the envelope and whose event is (a shallow copy of) its ``detail``.

    An event that is not an EventBridge envelope raises ``ConfigurationError``: the
    function is wired to another source.
    """
    if not isinstance(event, Mapping) or "detail-type" not in event:
        raise ConfigurationError(
            "from_eventbridge: the Lambda event is not an EventBridge event (no "
            "'detail-type'); is the function the target of an EventBridge rule?"
        )
    detail = event.get("detail")
    # The envelope is the record kept for resubmission: fill defaults in a copy of detail.
    payload = dict(detail) if type(detail) is dict else detail
    timestamp = None
    if type(payload) is dict and "timestamp" not in payload:  # parse only if needed
        try:
            timestamp = _time_ms(event)
        except _ERRORS as err:
            return [malformed(event, f"eventbridge event has a bad 'time': {err!r}", err)]
    return [_to_uow(event, event, payload, event.get("id"), timestamp, None)]


def from_sqs_eventbridge(event: Mapping[str, Any]) -> list[Uow]:
    """Decode an SQS trigger event whose bodies are EventBridge events (the queue is the
    target of a rule) into UOWs ordered by event timestamp."""
    uows: list[Uow] = []
    append = uows.append
    loads = json.loads
    for record in records_of(event, "sqs"):
        try:
            envelope = loads(record["body"])
            if type(envelope) is not dict or "detail-type" not in envelope:
                raise ValueError("no 'detail-type'")
            message_id, sent, group = message_defaults(record)
            detail = envelope.get("detail")
            if type(detail) is dict and "timestamp" not in detail:  # parse only if needed
                timestamp = _time_ms(envelope)
                if timestamp is not None:
                    sent = timestamp
        except _ERRORS as err:
            reason = f"sqs message is not an EventBridge event: {err!r}"
            append(malformed(record, reason, err))
            continue
        append(
            _to_uow(
                record,
                envelope,
                detail,
                envelope.get("id") or message_id,
                sent,
                group,
            )
        )
    return finish(uows)


def _time_ms(envelope: Mapping[str, Any]) -> int | None:
    time = envelope.get("time")
    return None if time is None else iso_ms(time)


def _to_uow(
    record: Any,
    envelope: Mapping[str, Any],
    payload: Any,
    default_id: Any,
    default_timestamp: Any,
    default_partition_key: Any,
) -> Uow:
    if type(payload) is dict and "type" not in payload:
        payload["type"] = envelope["detail-type"]
    return to_uow(
        record,
        payload,
        default_id=default_id,
        default_timestamp=default_timestamp,
        default_partition_key=default_partition_key,
    )


def to_eventbridge_event(
    event: Mapping[str, Any],
    *,
    index: int = 0,
    source: str = "test",
    account: str = "123456789012",
    region: str = "us-west-2",
) -> dict[str, Any]:
    """The EventBridge envelope a rule delivers for ``event`` (its JSON as ``detail``).

    ``detail-type`` is the event's type; ``time`` is its timestamp (else a fixed time),
    at the second, as EventBridge writes it; ``index`` varies the envelope ``id``.
    """
    return {
        "version": "0",
        "id": f"6a7e8feb-b491-4cf7-a9f1-{index:012d}",
        "detail-type": event.get("type"),
        "source": source,
        "account": account,
        "time": ms_iso(event.get("timestamp") or TIME, timespec="seconds"),
        "region": region,
        "resources": [],
        "detail": json.loads(dumps(event)),
    }


def to_sqs_eventbridge_records(
    events: Iterable[Mapping[str, Any]],
    *,
    queue_arn: str = QUEUE_ARN,
    source: str = "test",
) -> dict[str, Any]:
    """Build an SQS trigger event for a queue that is the target of an EventBridge rule:
    each body is the envelope of one event (see ``to_eventbridge_event``)."""
    account, region = queue_arn.split(":")[4], queue_arn.split(":")[3]
    bodies = [
        dumps(to_eventbridge_event(event, index=i, source=source, account=account, region=region))
        for i, event in enumerate(events)
    ]
    return to_sqs_records(bodies=bodies, queue_arn=queue_arn)
