"""SNS to Lambda: drain a subscription's tap queue (``outside.py``) and invoke the function
asynchronously with the SNS event Lambda would receive (one record per message)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from .cloud import Cloud
from .pollers.base import PollerThread

__all__ = ["SnsTap", "sns_event"]


def sns_event(envelope: Mapping[str, Any], subscription_arn: str = "") -> dict[str, Any]:
    """The Lambda event of one SNS notification (as delivered to SQS by moto)."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": envelope.get("Type", "Notification"),
                    "MessageId": envelope.get("MessageId"),
                    "TopicArn": envelope.get("TopicArn"),
                    "Subject": envelope.get("Subject"),
                    "Message": envelope.get("Message"),
                    "Timestamp": envelope.get("Timestamp"),
                    "SignatureVersion": envelope.get("SignatureVersion", "1"),
                    "Signature": envelope.get("Signature", ""),
                    "SigningCertUrl": envelope.get("SigningCertURL", ""),
                    "UnsubscribeUrl": envelope.get("UnsubscribeURL", ""),
                    "MessageAttributes": envelope.get("MessageAttributes") or {},
                },
            }
        ]
    }


class SnsTap(PollerThread):
    """Invokes ``entry["function"]`` for every notification in the subscription's tap."""

    def __init__(
        self,
        cloud: Cloud,
        entry: Mapping[str, Any],
        invoke_async: Callable[..., None],
        *,
        say: Callable[[str], None],
        wait_seconds: int = 1,
    ) -> None:
        super().__init__()
        self.cloud = cloud
        self.entry = entry
        self.invoke_async = invoke_async
        self.say = say
        self.wait_seconds = wait_seconds
        topic = str(entry["properties"].get("TopicArn", "")).rsplit(":", 1)[-1]
        self.name = f"sns:{topic}"

    def run(self) -> None:
        sqs = self.cloud.client("sqs")
        url = self.entry["tap_queue_url"]
        self.ready.set()
        while not self.stopping.is_set():
            for message in sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=self.wait_seconds
            ).get("Messages", []):
                try:
                    envelope = json.loads(message["Body"])
                except ValueError:
                    self.say(f"{self.name}: tap message is not an SNS envelope, dropped")
                else:
                    self.invoke_async(self.entry["function"], sns_event(envelope), source=self.name)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
