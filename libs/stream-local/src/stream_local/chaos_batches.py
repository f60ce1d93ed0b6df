"""Partial failures of batch APIs, for chaos: some entries of a request fail, the rest land.

AWS's batch writes answer 200 with some entries failed (throttled, or the service busy):
PutEvents and PutRecords list a result per entry, SendMessageBatch and PublishBatch a
``Failed`` list by ``Id``, BatchWriteItem and BatchGetItem hand back ``UnprocessedItems`` and
``UnprocessedKeys``. Only the caller can retry those entries, so this is what tests
stream-core's connectors hardest, and what moto never does.

``drop(operation, params, pick)`` takes the entries ``pick`` chooses out of the request
before botocore builds it (``before-parameter-build``), so moto never sees them;
``restore(dropped, parsed)`` then writes them into the parsed response as failed
(``after-call``). The caller's own lists are never changed: the request gets new ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["OPERATIONS", "Dropped", "drop", "restore"]

#: ``pick(count) -> positions to fail``: a non-empty proper subset of ``range(count)``
Pick = Callable[[int], Sequence[int]]

MESSAGE = "Rate exceeded (stream-local chaos: a partial failure)"

#: Operations answered with one result per entry, in request order: request list, response
#: list, failed-count field, error code.
_POSITIONAL = {
    "events.PutEvents": ("Entries", "Entries", "FailedEntryCount", "ThrottlingException"),
    "kinesis.PutRecords": (
        "Records",
        "Records",
        "FailedRecordCount",
        "ProvisionedThroughputExceededException",
    ),
    "firehose.PutRecordBatch": (
        "Records",
        "RequestResponses",
        "FailedPutCount",
        "ServiceUnavailableException",
    ),
}
#: Operations answered with a ``Failed`` list by entry ``Id``: the request list.
_BY_ID = {
    "sqs.SendMessageBatch": "Entries",
    "sns.PublishBatch": "PublishBatchRequestEntries",
}
_DYNAMODB = {"dynamodb.BatchWriteItem", "dynamodb.BatchGetItem"}

OPERATIONS = frozenset({*_POSITIONAL, *_BY_ID, *_DYNAMODB})


@dataclass
class Dropped:
    """What was taken out of one request: the operation, the entries' positions in the
    original request and the entries (for DynamoDB: ``(table, entry)`` pairs)."""

    operation: str
    positions: list[int]
    entries: list[Any]
    total: int


def drop(operation: str, params: dict[str, Any], pick: Pick) -> Dropped | None:
    """Take the entries ``pick`` chooses out of ``params`` (a request of at least two
    entries of one of ``OPERATIONS``); ``None`` if nothing was taken."""
    if operation in _POSITIONAL or operation in _BY_ID:
        name = _POSITIONAL[operation][0] if operation in _POSITIONAL else _BY_ID[operation]
        entries = params.get(name)
        if not isinstance(entries, list) or len(entries) < 2:
            return None
        failing = set(pick(len(entries)))
        params[name] = [e for i, e in enumerate(entries) if i not in failing]
        return Dropped(
            operation, sorted(failing), [entries[i] for i in sorted(failing)], len(entries)
        )
    if operation in _DYNAMODB:
        return _drop_dynamodb(operation, params, pick)
    return None


def restore(dropped: Dropped, parsed: dict[str, Any]) -> int:
    """Write the dropped entries into the parsed response as failed; how many."""
    operation = dropped.operation
    if operation in _POSITIONAL:
        _, results, count, code = _POSITIONAL[operation]
        landed = iter(parsed.get(results) or [])
        failing = set(dropped.positions)
        parsed[results] = [
            {"ErrorCode": code, "ErrorMessage": MESSAGE} if i in failing else next(landed, {})
            for i in range(dropped.total)
        ]
        parsed[count] = int(parsed.get(count) or 0) + len(dropped.entries)
    elif operation in _BY_ID:
        failed = list(parsed.get("Failed") or [])
        failed += [
            {"Id": entry["Id"], "SenderFault": False, "Code": "Throttling", "Message": MESSAGE}
            for entry in dropped.entries
        ]
        parsed["Failed"] = failed
    else:
        key = "UnprocessedItems" if operation == "dynamodb.BatchWriteItem" else "UnprocessedKeys"
        unprocessed: dict[str, Any] = dict(parsed.get(key) or {})
        for table, entry in dropped.entries:
            if key == "UnprocessedItems":
                unprocessed[table] = [*unprocessed.get(table, []), entry]
            else:
                keys, options = entry
                before = unprocessed.get(table) or {**options, "Keys": []}
                unprocessed[table] = {**before, "Keys": [*before["Keys"], keys]}
        parsed[key] = unprocessed
    return len(dropped.entries)


def _drop_dynamodb(operation: str, params: dict[str, Any], pick: Pick) -> Dropped | None:
    """BatchWriteItem ``{table: [request, ...]}``, BatchGetItem ``{table: {Keys: [...],
    ...}}``: the entries of every table, counted together."""
    items = params.get("RequestItems")
    if not isinstance(items, Mapping):
        return None
    writes = operation == "dynamodb.BatchWriteItem"
    flat: list[tuple[str, Any]] = []
    for table, value in items.items():
        entries = value if writes else (value or {}).get("Keys") or []
        flat += [(table, entry) for entry in entries]
    if len(flat) < 2:
        return None
    failing = set(pick(len(flat)))
    kept: dict[str, Any] = {}
    dropped: list[Any] = []
    for position, (table, entry) in enumerate(flat):
        if position in failing:
            options = {} if writes else {k: v for k, v in items[table].items() if k != "Keys"}
            dropped.append((table, entry if writes else (entry, options)))
        elif writes:
            kept.setdefault(table, []).append(entry)
        else:
            kept.setdefault(table, {**items[table], "Keys": []})["Keys"].append(entry)
    params["RequestItems"] = kept
    return Dropped(operation, sorted(failing), dropped, len(flat))
