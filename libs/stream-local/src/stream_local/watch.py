"""Faults in the live log: a rule on each bus copies ``fault`` events to a queue that this
watcher drains, printing each fault (function, rule, error) in red."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .cloud import Cloud
from .pollers.base import PollerThread

__all__ = ["FaultWatcher", "describe_fault"]

RULE = "stream-local-faults"


def describe_fault(fault: dict[str, Any]) -> str:
    """``function/rule: ErrorName: message (event type id)`` of a stream-core fault event."""
    tags = fault.get("tags") or {}
    err = fault.get("err") or {}
    event = (fault.get("uow") or {}).get("event") or {}
    where = "/".join(str(p) for p in (tags.get("functionname"), tags.get("pipeline")) if p)
    what = f"{err.get('name', 'Error')}: {err.get('message', '')}"
    about = " ".join(str(p) for p in (event.get("type"), event.get("id")) if p)
    return f"{where or 'unknown'}: {what}" + (f" ({about})" if about else "")


class FaultWatcher(PollerThread):
    def __init__(
        self, cloud: Cloud, bus: str, on_fault: Callable[[str], None], *, wait_seconds: int = 1
    ) -> None:
        super().__init__()
        self.cloud = cloud
        self.bus = bus
        self.on_fault = on_fault
        self.wait_seconds = wait_seconds
        self.name = f"faults:{bus}"

    def run(self) -> None:
        sqs, events = self.cloud.client("sqs"), self.cloud.client("events")
        url = sqs.create_queue(QueueName=f"sl-faults-{self.bus}"[:80])["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        events.put_rule(
            Name=RULE, EventBusName=self.bus, EventPattern=json.dumps({"detail-type": ["fault"]})
        )
        events.put_targets(
            Rule=RULE,
            EventBusName=self.bus,
            Targets=[{"Id": "faults", "Arn": arn["Attributes"]["QueueArn"]}],
        )
        self.ready.set()
        while not self.stopping.is_set():
            for message in sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=self.wait_seconds
            ).get("Messages", []):
                try:
                    self.on_fault(describe_fault(json.loads(message["Body"]).get("detail") or {}))
                except (ValueError, AttributeError):
                    self.on_fault(message["Body"][:500])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
