"""EventBridge targets: drain each rule's SQS tap queue and deliver to the real targets.

moto matches a rule's pattern itself (its matcher is good) but can deliver only to SQS, so
the deployer points every rule at a tap queue (``template.py``). A ``TapRouter`` thread per
rule long-polls its tap and delivers each event to the rule's real targets, applying
``Input`` / ``InputPath`` / ``InputTransformer`` (``inputs.py``):

* Kinesis: ``PutRecord`` with the partition key at ``KinesisParameters.PartitionKeyPath``
  of the *original* event (the event id when there is none), as EventBridge does;
* SQS: ``SendMessage`` (FIFO: ``SqsParameters.MessageGroupId``, the event id as
  deduplication id);
* Lambda: an asynchronous invocation through the runtime (retries, on-failure destination);
* Firehose: the runtime's delivery stream (``firehose.py``);
* SNS: ``Publish``; another event bus: ``PutEvents``.

A delivery that fails leaves the message in the tap (it is received again after the tap's
visibility timeout); targets that already got it are not delivered twice.

The events of one receive (up to 10) go to a Kinesis target in one ``PutRecords``, in order,
and leave the tap in one ``DeleteMessageBatch``: moto serves a request slowly, and a busy
bus puts thousands of events through each tap.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from .chaos import Chaos
from .cloud import Cloud
from .inputs import MISSING, jsonpath, target_input
from .pollers.base import PollerThread

__all__ = ["TapRouter", "Targets"]

_RETRY_AFTER = 2  # seconds a failed tap message stays invisible


class Targets(Protocol):
    """What the runtime offers for targets stream-local implements itself."""

    def invoke_async(self, function: str, event: Any, *, source: str) -> None: ...

    def firehose_put(self, name: str, data: bytes) -> None: ...


class TapRouter(PollerThread):
    """Delivers the events of one rule (from its tap queue) to the rule's targets."""

    def __init__(
        self,
        cloud: Cloud,
        rule: Mapping[str, Any],
        targets: Targets,
        *,
        say: Callable[[str], None],
        on_delivery: Callable[[str, str, str, bool, str], None] | None = None,
        wait_seconds: int = 1,
        chaos: Chaos | None = None,
    ) -> None:
        super().__init__()
        self.chaos = chaos
        self.cloud = cloud
        self.rule = rule
        self.targets = targets
        self.say = say
        self.on_delivery = on_delivery
        self.wait_seconds = wait_seconds
        self.rule_name = str(rule.get("arn", "")).rsplit("/", 1)[-1] or rule["logical_id"]
        self.name = f"rule:{rule['logical_id']}"
        self.delivered = 0
        self._done: dict[str, set[str]] = {}  # message id -> targets already delivered
        self._queue_urls: dict[str, str] = {}

    def run(self) -> None:
        sqs = self.cloud.client("sqs")
        url = self.rule["tap_queue_url"]
        self.ready.set()
        while not self.stopping.is_set():
            page = self.attempt(
                sqs.receive_message,
                QueueUrl=url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=self.wait_seconds,
            )
            messages = (page or {}).get("Messages", [])
            if not messages:
                continue
            delivered = self.deliver_messages(messages)
            done = [m for m, ok in zip(messages, delivered, strict=True) if ok]
            failed = [m for m, ok in zip(messages, delivered, strict=True) if not ok]
            if done:
                self.attempt(sqs.delete_message_batch, QueueUrl=url, Entries=_entries(done))
            if failed:
                self.attempt(
                    sqs.change_message_visibility_batch,
                    QueueUrl=url,
                    Entries=[{**e, "VisibilityTimeout": _RETRY_AFTER} for e in _entries(failed)],
                )
            # chaos: EventBridge delivers at least once: some events again
            again = self.chaos.redeliver(self.name, None, done, tail=False) if self.chaos else []
            if again:
                events = [_event_or_none(m) for m in again]
                self._deliver(events, [set() for _ in events])

    def deliver_message(self, message: Mapping[str, Any]) -> bool:
        """Deliver one tapped event to every target; True when all succeeded."""
        return self.deliver_messages([message])[0]

    def deliver_messages(self, messages: list[Mapping[str, Any]]) -> list[bool]:
        """Deliver tapped events to every target that has not got them yet; whether each
        message is done (a message that is not JSON is dropped: done)."""
        events = []
        for message in messages:
            event = _event_or_none(message)
            if event is None:
                self.say(f"{self.name}: tap message is not JSON, dropped")
            events.append(event)
        dones = [self._done.setdefault(m["MessageId"], set()) for m in messages]
        delivered = self._deliver(events, dones)
        for message, ok in zip(messages, delivered, strict=True):
            if ok:
                self._done.pop(message["MessageId"], None)
        return delivered

    def deliver_event(self, event: Mapping[str, Any], done: set[str] | None = None) -> bool:
        """Deliver ``event`` to every target not in ``done`` (updated); True if all took it."""
        return self._deliver([event], [set() if done is None else done])[0]

    def _deliver(
        self, events: Sequence[Mapping[str, Any] | None], dones: Sequence[set[str]]
    ) -> list[bool]:
        """Deliver ``events`` (None: skip) to every target not in their ``dones`` (updated):
        Kinesis targets get them in one PutRecords, other targets one at a time."""
        delivered = [True] * len(events)
        for target in self.rule.get("targets") or []:
            target_id = str(target.get("Id"))
            # index -> event, in order, of the events this target still has to get
            pending = {
                i: e for i, e in enumerate(events) if e is not None and target_id not in dones[i]
            }
            if not pending:
                continue
            if str(target["Arn"]).split(":")[2] == "kinesis" and len(pending) > 1:
                errors = self._put_records(list(pending.values()), target)
            else:
                errors = [self._deliver_one(e, target) for e in pending.values()]
            for (i, event), error in zip(pending.items(), errors, strict=True):
                if error:
                    delivered[i] = False
                    self._report(event, target, False, error)
                else:
                    dones[i].add(target_id)
                    self.delivered += 1
                    self._report(event, target, True, "")
        return delivered

    def _deliver_one(self, event: Mapping[str, Any], target: Mapping[str, Any]) -> str:
        try:
            self.deliver(event, target)
        except Exception as err:
            return f"{type(err).__name__}: {err}"
        return ""

    def _put_records(
        self, events: Sequence[Mapping[str, Any]], target: Mapping[str, Any]
    ) -> list[str]:
        """``events`` to a Kinesis target in one PutRecords (in order); an error per event
        ("" when it was stored)."""
        errors = [""] * len(events)
        records, positions = [], []
        for i, event in enumerate(events):
            try:
                payload = target_input(event, target, self.rule)
            except Exception as err:
                errors[i] = f"{type(err).__name__}: {err}"
                continue
            records.append({"Data": payload.encode("utf-8"), "PartitionKey": _key(event, target)})
            positions.append(i)
        if not records:
            return errors
        try:
            response = self.cloud.client("kinesis").put_records(
                StreamName=str(target["Arn"]).rsplit("/", 1)[-1], Records=records
            )
        except Exception as err:
            for i in positions:
                errors[i] = f"{type(err).__name__}: {err}"
            return errors
        for i, result in zip(positions, response["Records"], strict=True):
            if result.get("ErrorCode"):
                errors[i] = f"{result['ErrorCode']}: {result.get('ErrorMessage', '')}"
        return errors

    def _report(
        self, event: Mapping[str, Any], target: Mapping[str, Any], ok: bool, error: str
    ) -> None:
        if self.on_delivery is not None:
            self.on_delivery(
                self.name, str(target.get("Arn")), str(event.get("detail-type")), ok, error
            )

    def deliver(self, event: Mapping[str, Any], target: Mapping[str, Any]) -> None:
        """Send ``event`` to one ``target`` (an ``AWS::Events::Rule`` target, resolved)."""
        arn = str(target["Arn"])
        service = arn.split(":")[2]
        payload = target_input(event, target, self.rule)
        if service == "kinesis":
            self.cloud.client("kinesis").put_record(
                StreamName=arn.rsplit("/", 1)[-1],
                Data=payload.encode("utf-8"),
                PartitionKey=_key(event, target),
            )
        elif service == "sqs":
            kwargs: dict[str, Any] = {"QueueUrl": self._queue_url(arn), "MessageBody": payload}
            if arn.endswith(".fifo"):
                group = (target.get("SqsParameters") or {}).get("MessageGroupId") or "default"
                kwargs.update(MessageGroupId=group, MessageDeduplicationId=str(event.get("id")))
            self.cloud.client("sqs").send_message(**kwargs)
        elif service == "lambda":
            self.targets.invoke_async(arn, _json_or_text(payload), source=self.name)
        elif service == "firehose":
            self.targets.firehose_put(arn.rsplit("/", 1)[-1], payload.encode("utf-8"))
        elif service == "sns":
            self.cloud.client("sns").publish(TopicArn=arn, Message=payload)
        elif service == "events" and ":event-bus/" in arn:
            self.cloud.client("events").put_events(
                Entries=[
                    {
                        "EventBusName": arn.rsplit("/", 1)[-1],
                        "Source": event.get("source", "stream-local"),
                        "DetailType": event.get("detail-type", ""),
                        "Detail": json.dumps(event.get("detail", {})),
                        "Resources": event.get("resources") or [],
                    }
                ]
            )
        else:
            raise NotImplementedError(f"target type {service} is not supported locally")

    def _queue_url(self, arn: str) -> str:
        url = self._queue_urls.get(arn)
        if url is None:
            name = arn.rsplit(":", 1)[-1]
            url = self._queue_urls[arn] = self.cloud.client("sqs").get_queue_url(QueueName=name)[
                "QueueUrl"
            ]
        return url


def _key(event: Mapping[str, Any], target: Mapping[str, Any]) -> str:
    """The Kinesis partition key: ``PartitionKeyPath`` of the event, else its id."""
    path = (target.get("KinesisParameters") or {}).get("PartitionKeyPath")
    key = jsonpath(event, path) if path else MISSING
    if key is MISSING or key is None or key == "":
        key = event.get("id")
    return str(key)


def _event_or_none(message: Mapping[str, Any]) -> Any:
    try:
        return json.loads(message["Body"])
    except ValueError:
        return None


def _entries(messages: list[Mapping[str, Any]]) -> list[dict[str, str]]:
    return [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]


def _json_or_text(payload: str) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload
