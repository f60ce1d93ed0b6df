"""Lambda's event source mapping for an SQS queue.

The poller long-polls the queue, gathers up to ``BatchSize`` messages (waiting up to
``MaximumBatchingWindowInSeconds`` for more) and invokes the function, then settles the
messages the way Lambda does:

* success: every message is deleted;
* ``ReportBatchItemFailures``: every message except the reported ones is deleted (a
  malformed response or an unknown id counts as the whole batch failing);
* a function error (or timeout): nothing is deleted.

Messages that are not deleted become visible again after the queue's visibility timeout and
are received again; the queue's ``RedrivePolicy`` moves a message to its dead-letter queue
after ``maxReceiveCount`` receives. Both are moto's own SQS behaviour, as on AWS: the runtime
adds nothing there. ``FilterCriteria`` (the pattern sees ``body`` parsed when it is JSON):
messages that do not match are deleted without an invocation, as Lambda does.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..chaos import Chaos
from ..cloud import Cloud
from ..patterns import RecordFilter
from ..registry import EventSourceMapping
from .base import Invoke, PollerThread, failed_identifiers

__all__ = ["SqsPoller"]


@dataclass
class SqsStats:
    invocations: int = 0
    deleted: int = 0
    filtered: int = 0
    batch_sizes: list[int] = field(default_factory=list)


class SqsPoller(PollerThread):
    """Polls one queue for one mapping; see the module docstring."""

    def __init__(
        self,
        cloud: Cloud,
        mapping: EventSourceMapping,
        invoke: Invoke,
        *,
        say: Callable[[str], None],
        wait_seconds: int = 1,
        chaos: Chaos | None = None,
    ) -> None:
        super().__init__()
        self.chaos = chaos
        self.cloud = cloud
        self.mapping = mapping
        self.invoke = invoke
        self.say = say
        self.wait_seconds = wait_seconds
        self.batch_size = int(mapping.get("BatchSize", 10))
        self.window = float(mapping.get("MaximumBatchingWindowInSeconds", 0))
        self.report_failures = "ReportBatchItemFailures" in (
            mapping.get("FunctionResponseTypes") or []
        )
        self.filter = RecordFilter.from_criteria("sqs", mapping.get("FilterCriteria"))
        self.queue_name = mapping.source_arn.rsplit(":", 1)[-1]
        self.stats = SqsStats()
        self.name = f"sqs:{self.queue_name}->{mapping.function}"
        self.sqs = cloud.client("sqs")
        self.url = ""

    def run(self) -> None:
        while not self.url and not self.stopping.is_set():
            found = self.attempt(self.sqs.get_queue_url, QueueName=self.queue_name)
            self.url = found["QueueUrl"] if found else ""
        self.ready.set()
        while not self.stopping.is_set():
            messages = self._collect()
            if messages:
                self.process(messages)
                if self.chaos is not None:  # chaos: some messages received a second time
                    again = self.chaos.redeliver(
                        self.name, self.mapping.function, messages, tail=False
                    )
                    if again:
                        self._deliver_again(again)

    def _collect(self) -> list[dict[str, Any]]:
        # By id: a message whose visibility timeout ran out while the batching window was
        # open is received again; it is one message (with the newer receipt handle).
        by_id: dict[str, dict[str, Any]] = {}
        first_at = 0.0
        while not self.stopping.is_set():
            page = self.attempt(
                self.sqs.receive_message,
                QueueUrl=self.url,
                MaxNumberOfMessages=max(1, min(10, self.batch_size - len(by_id))),
                WaitTimeSeconds=0 if by_id else self.wait_seconds,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            received = (page or {}).get("Messages", [])
            if received and not by_id:
                first_at = time.monotonic()
            for message in received:
                by_id[message["MessageId"]] = message
            if len(by_id) >= self.batch_size:
                break
            if by_id:
                left = self.window - (time.monotonic() - first_at)
                if left <= 0:
                    break
                if not received:
                    self.stopping.wait(min(0.1, left))
        return list(by_id.values())

    def process(self, messages: list[dict[str, Any]]) -> None:
        records = [self._record(m) for m in messages]
        if self.filter is not None:
            kept = [r for r in records if self.filter.matches(r)]
            dropped = [r for r in records if r not in kept]
            self.stats.filtered += len(dropped)
            self._delete(dropped)
            records = kept
            if not records:
                return
        result = self.invoke(
            self.mapping.function,
            {"Records": records},
            source=f"sqs:{self.queue_name}",
            records=len(records),
        )
        self.stats.invocations += 1
        self.stats.batch_sizes.append(len(records))
        if not result.ok:
            return  # visible again after the visibility timeout; redrive counts receives
        failed = failed_identifiers(result, self.report_failures)
        if failed is None:
            self._delete(records)
            return
        ids = {r["messageId"] for r in records}
        if None in failed or not set(failed) <= ids:
            return  # Lambda: a malformed response is a failure of the whole batch
        self._delete([r for r in records if r["messageId"] not in failed])

    def _deliver_again(self, messages: list[dict[str, Any]]) -> None:
        """A second delivery of messages already settled (chaos: at-least-once delivery);
        its outcome settles nothing."""
        records = [self._record(m) for m in messages]
        if self.filter is not None:
            records = [r for r in records if self.filter.matches(r)]
        if records:
            self.invoke(
                self.mapping.function,
                {"Records": records},
                source=f"sqs:{self.queue_name} (again)",
                records=len(records),
            )

    def _delete(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)
                ],
            )
            self.stats.deleted += len(chunk)

    def _record(self, message: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message.get("Body", ""),
            "attributes": dict(message.get("Attributes") or {}),
            "messageAttributes": {
                name: _attribute(value)
                for name, value in (message.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.mapping.source_arn,
            "awsRegion": self.cloud.region,
        }


def _attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    """A message attribute as Lambda spells it (camelCase, binary as base64)."""
    converted: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues") or []),
        "binaryListValues": [
            base64.b64encode(b).decode("ascii") for b in value.get("BinaryListValues") or []
        ],
        "dataType": value.get("DataType", "String"),
    }
    if "StringValue" in value:
        converted["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        converted["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
    return converted
