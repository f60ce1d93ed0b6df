"""Reading back what was published to an EventBridge bus, through a rule to an SQS queue.

Works against moto (in-process ``mock_aws`` or a ``moto_server``) and real AWS alike:
``BusCapture`` creates the bus (unless it exists), a queue and a rule matching every event
of the bus to the queue, then ``events()`` drains the queue and returns the published
domain events (the ``detail`` of each EventBridge envelope).

>>> capture = BusCapture.create("my-bus")                  # doctest: +SKIP
>>> ... run a pipeline with options {"bus_name": "my-bus"} ...
>>> [e["type"] for e in capture.events()]                   # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BusCapture"]


@dataclass
class BusCapture:
    """A queue that receives every event put on ``bus_name``."""

    bus_name: str
    queue_url: str
    events_client: Any = field(repr=False)
    sqs_client: Any = field(repr=False)
    _seen: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @classmethod
    def create(
        cls,
        bus_name: str,
        *,
        events_client: Any = None,
        sqs_client: Any = None,
        pattern: dict[str, Any] | None = None,
    ) -> BusCapture:
        """Create the bus (if missing), a capture queue, and a rule routing to it."""
        import boto3

        events_client = events_client or boto3.client("events")
        sqs_client = sqs_client or boto3.client("sqs")
        if bus_name != "default":
            try:
                events_client.create_event_bus(Name=bus_name)
            except events_client.exceptions.ResourceAlreadyExistsException:
                pass
        import uuid

        suffix = uuid.uuid4().hex[:8]  # two captures of one bus must not share a queue
        queue_name = f"capture-{bus_name}"[:71] + f"-{suffix}"
        queue_url = sqs_client.create_queue(QueueName=queue_name)["QueueUrl"]
        queue_arn = sqs_client.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        rule_name = f"capture-{bus_name}"[:55] + f"-{suffix}"
        events_client.put_rule(
            Name=rule_name,
            EventBusName=bus_name,
            EventPattern=json.dumps(pattern or {"source": [{"prefix": ""}]}),
            State="ENABLED",
        )
        events_client.put_targets(
            Rule=rule_name,
            EventBusName=bus_name,
            Targets=[{"Id": "capture", "Arn": queue_arn}],
        )
        return cls(bus_name, queue_url, events_client, sqs_client)

    def envelopes(self) -> list[dict[str, Any]]:
        """Every EventBridge envelope received so far (drains the queue)."""
        while True:
            messages = self.sqs_client.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                break
            for message in messages:
                self._seen.append(json.loads(message["Body"]))
            self.sqs_client.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
        return list(self._seen)

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """The published domain events (``detail``), optionally only of ``event_type``."""
        details = [envelope["detail"] for envelope in self.envelopes()]
        if event_type is None:
            return details
        return [d for d in details if d.get("type") == event_type]
