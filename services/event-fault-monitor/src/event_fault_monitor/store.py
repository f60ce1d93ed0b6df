"""The faults bucket (S3) and index (DynamoDB).

* S3 ``faults/<yyyy>/<mm>/<dd>/<fault id>.json``: the whole fault event, with the raw record
  of the unit of work (what ``resubmit`` re-delivers);
* DynamoDB, one item per distinct fault (``pk`` = its key, see ``keys``): function name,
  pipeline, error, event, status (``open`` / ``resubmitted``), occurrences, the S3 key. The
  ``ByFunction`` and ``ByPipeline`` indexes sort by ``sorted`` = ``<ISO time>#<key>``.

``save`` stores a fault at most once per key. A repeat of a known fault only counts an
occurrence, and a repeat of a resubmitted fault re-opens it: the fix did not work. The
object goes to S3 before the index item, so a crash in between leaves at most an
unindexed object and never an item without its fault. Two copies racing for the same key
are settled by the conditional put, and the loser deletes its object.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from stream_core.connectors import DynamoDBConnector, S3Connector

from .keys import fault_key, fault_parts

__all__ = ["DEFAULT_RETENTION_DAYS", "FaultStore", "Saved"]

DEFAULT_RETENTION_DAYS = 90
_MESSAGE_LIMIT = 1000  # characters of err.message kept in the index (the fault has it all)


@dataclass(frozen=True)
class Saved:
    """What ``save`` did: ``stored`` (new), ``duplicate`` (seen before: one more
    occurrence), ``reopened`` (seen again after a resubmission) or ``redelivered`` (this very
    fault event was saved already)."""

    outcome: str
    key: str
    s3_key: str | None = None


@dataclass
class FaultStore:
    table_name: str
    bucket: str
    retention_days: int = DEFAULT_RETENTION_DAYS
    table: DynamoDBConnector = field(init=False, repr=False)
    objects: S3Connector = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.table = DynamoDBConnector(self.table_name)
        self.objects = S3Connector(self.bucket)

    @classmethod
    def from_env(cls) -> FaultStore:
        """The store named by ``FAULTS_TABLE_NAME`` / ``FAULTS_BUCKET_NAME``."""
        try:
            return cls(
                os.environ["FAULTS_TABLE_NAME"],
                os.environ["FAULTS_BUCKET_NAME"],
                int(os.environ.get("FAULT_RETENTION_DAYS") or DEFAULT_RETENTION_DAYS),
            )
        except KeyError as err:
            from stream_core.errors import ConfigurationError

            raise ConfigurationError(f"{err.args[0]} is not set") from None

    # ---- writing (the listener) -----------------------------------------------------------

    def save(self, fault: Mapping[str, Any], *, now_ms: int | None = None) -> Saved:
        """Store ``fault`` unless a fault with its key is stored already."""
        key = fault_key(fault)
        now_ms = _now_ms() if now_ms is None else now_ms
        known = self.get(key, consistent=True)
        if known is not None:
            return self._repeat(known, fault, now_ms)
        s3_key = object_key(fault)
        self.objects.put_json(s3_key, fault)
        try:
            self.table.put(
                self._item(key, fault, s3_key, now_ms),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except Exception as err:
            if _error_code(err) != "ConditionalCheckFailedException":
                raise
            self.objects.delete_object(s3_key)  # another copy won the race
            known = self.get(key, consistent=True)
            assert known is not None
            return self._repeat(known, fault, now_ms)
        return Saved("stored", key, s3_key)

    def _repeat(self, known: Mapping[str, Any], fault: Mapping[str, Any], now_ms: int) -> Saved:
        fault_id = fault.get("id")
        if fault_id in (known.get("fault_id"), known.get("last_fault_id")):
            return Saved("redelivered", known["pk"], known.get("s3_key"))
        values: dict[str, Any] = {":one": 1, ":now": now_ms, ":id": fault_id}
        update = "ADD occurrences :one SET last_seen = :now, last_fault_id = :id"
        outcome = "duplicate"
        if known.get("status") == "resubmitted":
            update += ", #status = :open, reopened_at = :now"
            values[":open"] = "open"
            outcome = "reopened"
        self.table.update(
            {
                "Key": {"pk": known["pk"]},
                "UpdateExpression": update,
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": values,
                **(
                    {"ExpressionAttributeNames": {"#status": "status"}}
                    if outcome == "reopened"
                    else {}
                ),
            }
        )
        return Saved(outcome, known["pk"], known.get("s3_key"))

    def _item(self, key: str, fault: Mapping[str, Any], s3_key: str, now_ms: int) -> dict[str, Any]:
        parts = fault_parts(fault)
        timestamp = _int(fault.get("timestamp")) or now_ms
        event = (fault.get("uow") or {}).get("event") or {}
        err = fault.get("err") or {}
        item: dict[str, Any] = {
            "pk": key,
            **parts,
            "sorted": f"{iso(timestamp)}#{key}",
            "timestamp": timestamp,
            "time": iso(timestamp),
            "fault_id": fault.get("id"),
            "err_message": str(err.get("message") or "")[:_MESSAGE_LIMIT],
            "event_type": event.get("type") if isinstance(event, Mapping) else None,
            "event_id": event.get("id") if isinstance(event, Mapping) else None,
            "status": "open",
            "occurrences": 1,
            "first_seen": now_ms,
            "last_seen": now_ms,
            "s3_key": s3_key,
            "expires": now_ms // 1000 + self.retention_days * 86400,
        }
        return {name: value for name, value in item.items() if value is not None}

    # ---- reading and marking (the command) ------------------------------------------------

    def get(self, key: str, *, consistent: bool = False) -> dict[str, Any] | None:
        """The index item of ``key``, or None."""
        return self.table.get({"pk": key}, ConsistentRead=consistent)

    def fault(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """The whole fault event of an index item, from S3."""
        return self.objects.get_json(item["s3_key"])

    def list(
        self,
        *,
        function: str | None = None,
        pipeline: str | None = None,
        since_ms: int | None = None,
        status: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Index items, newest first: by function (``ByFunction``) or pipeline
        (``ByPipeline``) when given, else a scan; optionally only since ``since_ms`` and of
        one ``status``."""
        since = iso(since_ms) if since_ms is not None else None
        if function is not None or pipeline is not None:
            index, name, value = (
                ("ByFunction", "functionname", function)
                if function is not None
                else ("ByPipeline", "pipeline", pipeline)
            )
            condition = "#h = :h"
            values: dict[str, Any] = {":h": value}
            if since is not None:
                condition += " AND #s >= :since"
                values[":since"] = since
            items = self.table.query(
                {
                    "IndexName": index,
                    "KeyConditionExpression": condition,
                    "ExpressionAttributeNames": {"#h": name, **({"#s": "sorted"} if since else {})},
                    "ExpressionAttributeValues": values,
                    "ScanIndexForward": False,
                }
            )
        else:
            items = sorted(self.table.scan(), key=lambda i: i.get("sorted", ""), reverse=True)
        for item in items:
            if since is not None and item.get("sorted", "") < since:
                continue
            if function is not None and item.get("functionname") != function:
                continue
            if pipeline is not None and item.get("pipeline") != pipeline:
                continue
            if status is not None and item.get("status") != status:
                continue
            yield item

    def mark_resubmitted(self, key: str, function_name: str, *, now_ms: int | None = None) -> None:
        """Mark the fault ``key`` resubmitted (to ``function_name``, now)."""
        now_ms = _now_ms() if now_ms is None else now_ms
        self.table.update(
            {
                "Key": {"pk": key},
                "UpdateExpression": (
                    "SET #status = :resubmitted, resubmitted_at = :now, resubmitted_to = :fn "
                    "ADD resubmissions :one"
                ),
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":resubmitted": "resubmitted",
                    ":now": now_ms,
                    ":fn": function_name,
                    ":one": 1,
                },
            }
        )


def object_key(fault: Mapping[str, Any]) -> str:
    """``faults/<yyyy>/<mm>/<dd>/<fault id>.json``, dated by the fault's timestamp (UTC)."""
    timestamp = _int(fault.get("timestamp")) or _now_ms()
    day = dt.datetime.fromtimestamp(timestamp / 1000, tz=dt.UTC).strftime("%Y/%m/%d")
    return f"faults/{day}/{fault['id']}.json"


def iso(ms: int) -> str:
    """Epoch milliseconds as ISO 8601 UTC with milliseconds (sorts as text)."""
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat(timespec="milliseconds")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


def _error_code(err: BaseException) -> str | None:
    response = getattr(err, "response", None)
    if isinstance(response, Mapping):
        return (response.get("Error") or {}).get("Code")
    return None
