"""What every event source shares: turning a decoded payload into a UOW, or into a
malformed-record UOW when it cannot be decoded, and ordering the UOWs of a batch.

Guarantee: a source function never raises for a bad record. Each record yields a UOW; a
record that cannot be decoded yields ``{"record": record, "event": None, "malformed":
MalformedRecordError(...)}``, which ``StreamPipeline`` reports as a fault carrying the raw
record. Only a trigger event that is not a batch at all (no ``Records`` list) raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigurationError, MalformedRecordError
from ..types import Uow

__all__ = ["finish", "malformed", "records_of", "sort_uows", "to_uow"]


def records_of(event: Mapping[str, Any], source: str) -> list[dict[str, Any]]:
    """The ``Records`` list of a Lambda trigger event; a wrong trigger shape is a
    configuration error (the function is wired to the wrong source), not a record fault."""
    try:
        records = event["Records"]
    except (KeyError, TypeError):
        raise ConfigurationError(
            f"from_{source}: the Lambda event has no 'Records' list; is the function "
            f"subscribed to a {source} source?"
        ) from None
    if not isinstance(records, list):
        raise ConfigurationError(f"from_{source}: 'Records' must be a list")
    return records


def malformed(record: Any, reason: str, cause: BaseException | None = None) -> Uow:
    """The UOW of a record that could not be decoded."""
    err = MalformedRecordError(reason)
    if cause is not None:
        err.__cause__ = cause
    uow: Uow = {"record": record, "event": None, "malformed": err}
    err.uow = uow
    return uow


def to_uow(
    record: Any,
    event: Any,
    *,
    default_id: Any,
    default_timestamp: Any,
    default_partition_key: Any = None,
) -> Uow:
    """Build the UOW of ``record`` from its decoded ``event`` payload.

    The event must be a JSON object with a non-empty string ``type``. ``id``,
    ``timestamp`` (epoch ms) and ``partition_key`` are filled from the record when the
    event does not carry them, so every rule can rely on them. The payload dict is reused,
    not copied.
    """
    if type(event) is not dict:
        return malformed(record, f"event payload is a {type(event).__name__}, not an object")
    event_type = event.get("type")
    if not event_type or type(event_type) is not str:
        return malformed(record, "event has no 'type' string")
    if "id" not in event:
        event["id"] = default_id
    if "timestamp" not in event:
        event["timestamp"] = default_timestamp
    if default_partition_key is not None and "partition_key" not in event:
        event["partition_key"] = default_partition_key
    return {"record": record, "event": event}


def _timestamp(uow: Uow) -> Any:
    event = uow["event"]
    return 0 if event is None else event.get("timestamp") or 0


def sort_uows(uows: list[Uow]) -> list[Uow]:
    """Order UOWs by event timestamp, in place, and return the list.

    The sort is stable, so UOWs of one partition key come out in timestamp order and ties
    keep their arrival order. A batch that is already ordered (the usual case) costs one
    pass. Timestamps that cannot be compared leave the batch in arrival order.
    """
    try:
        previous = None
        for uow in uows:
            ts = _timestamp(uow)
            if previous is not None and ts < previous:
                break
            previous = ts
        else:
            return uows
        uows.sort(key=_timestamp)
    except TypeError:  # mixed timestamp types: arrival order is the safe answer
        pass
    return uows


def finish(uows: list[Uow], *, ordered: bool = False) -> list[Uow]:
    """The last step of a source whose records carry published events: claim-check stubs
    are replaced by the stored events and compressed fields inflated (see
    ``stream_core.utils.claimcheck``), then the UOWs are ordered (skipped when the caller
    already knows they are)."""
    from ..utils.claimcheck import resolve_claims

    resolve_claims(uows)
    return uows if ordered else sort_uows(uows)
