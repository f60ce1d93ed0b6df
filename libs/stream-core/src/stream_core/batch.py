"""Partial batch responses: telling Lambda which records to deliver again.

``partial_batch_response(records, retry)`` builds ``{"batchItemFailures": [...]}`` for the
records in ``retry`` (records whose fault could not be published, or that failed with a
retryable error):

* **SQS**: every such message id. For a FIFO queue, every later message of the same
  message group is reported too, so a group is never processed out of order.
* **Kinesis / DynamoDB Streams**: checkpoint semantics. Lambda resumes the shard from the
  single reported sequence number, so the response names the *lowest* failed sequence
  number; records after it are delivered again, including ones that succeeded (flavors are
  idempotent for that reason). Sequence numbers are compared as integers.
* **SNS, S3, EventBridge** (asynchronous invocations) have no partial response: if anything
  must be retried, ``RetryableError`` is raised so the invocation fails and Lambda's async
  retry (and on-failure destination) takes over.

Requires ``FunctionResponseTypes: [ReportBatchItemFailures]`` on the event source mapping.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .errors import RetryableError

__all__ = ["EMPTY_RESPONSE", "item_identifier", "partial_batch_response", "source_of"]

EMPTY_RESPONSE: Mapping[str, list] = {"batchItemFailures": []}


def source_of(record: Mapping[str, Any]) -> str:
    """``"sqs"``, ``"kinesis"``, ``"dynamodb"``, ``"sns"``, ``"s3"`` or ``"unknown"``."""
    source = record.get("eventSource") or record.get("EventSource") or ""
    return source.rpartition(":")[2] if source else "unknown"


def item_identifier(record: Mapping[str, Any]) -> str | None:
    """The id Lambda expects for ``record`` in ``batchItemFailures``."""
    source = source_of(record)
    if source == "sqs":
        return record.get("messageId")
    if source == "kinesis":
        return record.get("kinesis", {}).get("sequenceNumber")
    if source == "dynamodb":
        return record.get("dynamodb", {}).get("SequenceNumber")
    return None


def _as_int(sequence: str) -> int:
    try:
        return int(sequence)
    except (TypeError, ValueError):
        return -1  # unparsable: retry from the start of the batch rather than skip it


def partial_batch_response(
    records: Sequence[Mapping[str, Any]], retry: Iterable[Mapping[str, Any]]
) -> dict[str, list[dict[str, str]]]:
    """The response that makes Lambda redeliver ``retry`` (a subset of ``records``)."""
    retry = list(retry)
    if not retry:
        return {"batchItemFailures": []}
    source = source_of(retry[0])
    if source == "sqs":
        return {"batchItemFailures": _sqs_failures(records, retry)}
    if source in ("kinesis", "dynamodb"):
        ids = [item_identifier(r) for r in retry]
        known = [i for i in ids if i is not None]
        if not known:
            raise RetryableError(f"{len(retry)} {source} records to retry carry no sequence number")
        lowest = min(known, key=_as_int)
        return {"batchItemFailures": [{"itemIdentifier": lowest}]}
    raise RetryableError(
        f"{len(retry)} record(s) must be retried and a {source} invocation has no partial "
        "batch response: failing the invocation so Lambda retries it"
    )


def _sqs_failures(
    records: Sequence[Mapping[str, Any]], retry: list[Mapping[str, Any]]
) -> list[dict[str, str]]:
    failed_ids = {str(r.get("messageId")) for r in retry}
    fifo = str(retry[0].get("eventSourceARN", "")).endswith(".fifo")
    blocked_groups: set[str] = set()
    failures: list[dict[str, str]] = []
    seen: set[str] = set()
    for record in records or retry:
        message_id = str(record.get("messageId"))
        group = record.get("attributes", {}).get("MessageGroupId") if fifo else None
        if message_id in failed_ids or (group is not None and group in blocked_groups):
            if group is not None:
                blocked_groups.add(group)
            if message_id not in seen:
                seen.add(message_id)
                failures.append({"itemIdentifier": message_id})
    for message_id in failed_ids - seen:  # retry records not in ``records``: still report
        failures.append({"itemIdentifier": message_id})
    return failures
