"""kinesis: put events (or records derived from them) on a Kinesis stream.

Rule fields:

==================  ================================================================
``stream_name``     the stream (default ``STREAM_NAME`` from the environment)
``to_kinesis``      ``(uow[, rule]) -> record | [records]``: PutRecords records
                    (``{"Data": bytes | str, "PartitionKey": str}``, optionally
                    ``ExplicitHashKey``); ``None``/``[]`` skips the UOW.
                    Default: the event as JSON, keyed by its ``partition_key`` (else
                    its ``id``)
``split_on``        dot path of a list in the UOW: one UOW per element (see ``materialize``)
``connector``       a ready ``KinesisConnector`` (tests, a stream ARN)
==================  ================================================================

>>> {"id": "forward-orders", "flavor": kinesis, "event_type": re.compile("^order-"),
...  "stream_name": "event-hub-stream"}                                   # doctest: +SKIP

**Large events.** The default record is the event with its large fields gzipped
(``compress_threshold``, as when publishing to the bus), and an event still over Kinesis'
1 MB goes through the claim check (``claim_check_bucket``, else
``CLAIM_CHECK_BUCKET_NAME``): the full event is stored in S3 and its stub put on the
stream, which ``from_kinesis`` resolves. Records from ``to_kinesis`` are put as given.

The records of all the rule's UOWs are put together when the batch is in, through
``KinesisConnector.put_records`` (500 records / 5 MB per request, requests concurrent up
to ``max_in_flight``, throttled records retried alone). The UOWs whose records were all put
come out carrying ``kinesis_records``; a UOW with a record rejected for good (over 1 MB)
becomes a fault, one still throttled after the retries goes back to Lambda. An exception in
``to_kinesis`` faults that UOW only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..connectors.kinesis import MAX_RECORD_BYTES, KinesisConnector
from ..errors import RecordError
from ..utils.claimcheck import DEFAULT_COMPRESS_THRESHOLD, claim_check_from, compress_fields
from ..utils.json import dumps, size_of
from ._sink import batch_sink, connector_for, entries_step, needs_target
from ._spec import flavor
from ._steps import Operator, by_content, by_event_type, pipe, split, trace_end, trace_start

__all__ = ["kinesis"]

FIELD = "kinesis_records"


@flavor(
    "kinesis",
    optional={
        "stream_name": str,
        "to_kinesis": callable,
        "split_on": str,
        "split_target_field": str,
        "connector": None,
    },
    check=needs_target("stream_name", "STREAM_NAME"),
)
def kinesis(rule: Mapping[str, Any]) -> Operator:
    """Build the kinesis operator for ``rule``."""
    stream = connector_for(rule, "stream_name", "STREAM_NAME", KinesisConnector)
    to_kinesis = rule.get("to_kinesis") or _event_record(rule)
    return pipe(
        by_event_type(rule),
        trace_start(rule),
        by_content(rule),
        split(rule),
        entries_step(rule, FIELD, to_kinesis, _problem, "to_kinesis"),
        batch_sink(rule, FIELD, stream.put_records, "PutRecords"),
        trace_end(rule),
    )


def _event_record(rule: Mapping[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The default ``to_kinesis``: the event, compressed, claim-checked when too large."""
    threshold = rule.get("compress_threshold", DEFAULT_COMPRESS_THRESHOLD)
    claim_check = claim_check_from(rule)

    def to_kinesis(uow: dict[str, Any]) -> dict[str, Any]:
        event = uow["event"]
        key = event.get("partition_key") or event.get("id")
        if not key:
            raise RecordError("the event has neither 'partition_key' nor 'id' to key it by")
        key = str(key)
        if threshold is not None:
            event = compress_fields(event, threshold)
        data = dumps(event)
        if claim_check is not None and size_of(data) + size_of(key) > MAX_RECORD_BYTES:
            data = dumps(claim_check.store(event))
        return {"Data": data, "PartitionKey": key}

    return to_kinesis


def _problem(record: Any) -> str | None:
    if not isinstance(record, Mapping):
        return f"must return PutRecords records (dicts), got {type(record).__name__}"
    if not isinstance(record.get("Data"), (bytes, bytearray, str)):
        return "records need 'Data' (bytes or str)"
    if not isinstance(record.get("PartitionKey"), str) or not record["PartitionKey"]:
        return "records need a non-empty string 'PartitionKey'"
    return None
