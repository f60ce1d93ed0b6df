"""firehose: deliver events (or records derived from them) to a Firehose delivery stream.

Rule fields:

========================  ==========================================================
``delivery_stream_name``  the delivery stream (default ``DELIVERY_STREAM_NAME``)
``to_firehose``           ``(uow[, rule]) -> record | [records]``: PutRecordBatch
                          records (``{"Data": bytes | str}``); ``None``/``[]`` skips
                          the UOW. Default: the event as one line of JSON
                          (newline-terminated, so the objects Firehose writes read
                          line by line)
``split_on``              dot path of a list in the UOW: one UOW per element
``connector``             a ready ``FirehoseConnector`` (tests)
========================  ==========================================================

>>> {"id": "event-lake", "flavor": firehose, "event_type": lambda uow: True,
...  "delivery_stream_name": "event-lake"}                                 # doctest: +SKIP

The records of all the rule's UOWs are put together when the batch is in, through
``FirehoseConnector.put_record_batch`` (500 records / 4 MB per request, requests
concurrent up to ``max_in_flight``, failed records retried alone). The UOWs whose records
were all put come out carrying ``firehose_records``; a UOW with a record rejected for good
(over 1,000 KiB) becomes a fault, one still failing transiently after the retries goes back
to Lambda. An exception in ``to_firehose`` faults that UOW only. Firehose adds no
delimiters: a ``to_firehose`` writing JSON lines ends each ``Data`` with ``"\\n"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..connectors.firehose import FirehoseConnector
from ..utils.json import dumps
from ._sink import batch_sink, connector_for, entries_step, needs_target
from ._spec import flavor
from ._steps import Operator, by_content, by_event_type, pipe, split, trace_end, trace_start

__all__ = ["firehose"]

FIELD = "firehose_records"


@flavor(
    "firehose",
    optional={
        "delivery_stream_name": str,
        "to_firehose": callable,
        "split_on": str,
        "split_target_field": str,
        "connector": None,
    },
    check=needs_target("delivery_stream_name", "DELIVERY_STREAM_NAME"),
)
def firehose(rule: Mapping[str, Any]) -> Operator:
    """Build the firehose operator for ``rule``."""
    stream = connector_for(rule, "delivery_stream_name", "DELIVERY_STREAM_NAME", FirehoseConnector)
    to_firehose = rule.get("to_firehose") or _event_line
    return pipe(
        by_event_type(rule),
        trace_start(rule),
        by_content(rule),
        split(rule),
        entries_step(rule, FIELD, to_firehose, _problem, "to_firehose"),
        batch_sink(rule, FIELD, stream.put_record_batch, "PutRecordBatch"),
        trace_end(rule),
    )


def _event_line(uow: dict[str, Any]) -> dict[str, Any]:
    return {"Data": dumps(uow["event"]) + "\n"}


def _problem(record: Any) -> str | None:
    if not isinstance(record, Mapping):
        return f"must return PutRecordBatch records (dicts), got {type(record).__name__}"
    if not isinstance(record.get("Data"), (bytes, bytearray, str)):
        return "records need 'Data' (bytes or str)"
    return None
