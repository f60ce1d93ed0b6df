"""control's test fixtures: moto's in-process AWS, the events table (with its stream), and
``chain``: the hub -> listener -> events table -> trigger loop, run by hand."""

import sys
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parents[1]
if str(SERVICE / "src") not in sys.path:  # the service's package, imported as Lambda would
    sys.path.insert(0, str(SERVICE / "src"))

from stream_core.events.dynamodb import TTL_USER_IDENTITY, from_dynamodb  # noqa: E402
from stream_core.events.kinesis import from_kinesis, to_kinesis_records  # noqa: E402
from stream_core.pipelines import StreamPipeline, initialize_from  # noqa: E402
from stream_core.testing import MemoryPublisher  # noqa: E402
from stream_core.testing.fixtures import aws, event_bus  # noqa: E402, F401
from stream_core.testing.tables import StreamReader, create_events_table  # noqa: E402

TABLE = "control-test-events"
T0 = 1_700_000_000_000  # ms: the submissions' time in these tests (long past: TTLs are due)


@pytest.fixture
def events_table(aws, monkeypatch):  # noqa: F811 (the fixture imported above)
    """The events table on moto; ``.stream.event()`` reads its stream as a Lambda event."""
    import boto3

    create_events_table(TABLE)
    boto3.client("dynamodb").update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )
    monkeypatch.setenv("EVENT_TABLE_NAME", TABLE)
    monkeypatch.setenv("SERVICE", "control")
    for name in ("PAYMENT_TIMEOUT_SECONDS", "EVENT_TTL_DAYS"):
        monkeypatch.delenv(name, raising=False)
    table = boto3.resource("dynamodb").Table(TABLE)
    table.stream = StreamReader(TABLE)
    return table


def submitted(order_id, timestamp=T0, event_id=None, source="rest-bff"):
    return {"id": event_id or f"sub-{order_id}", "type": "order-submitted",
            "timestamp": timestamp, "partition_key": order_id,
            "tags": {"source": source, "functionname": "rest-bff-dev-trigger",
                     "pipeline": "order-submitted"},
            "order": {"id": order_id, "customer": "c-1",
                      "items": [{"sku": "A-1", "quantity": 2, "price": 9.99}],
                      "total": 19.98, "status": "SUBMITTED", "version": 1}}


def paid(order_id, timestamp=T0 + 60_000, event_id=None):
    return {"id": event_id or f"pay-{order_id}", "type": "payment-authorized",
            "timestamp": timestamp, "partition_key": order_id, "tags": {"source": "payments"},
            "order": {"id": order_id}, "payment": {"id": f"p-{order_id}", "amount": 19.98}}


class Chain:
    """Runs control's functions the way Lambda would, one batch at a time, with an in-memory
    bus (``sink``): ``hub(*events)`` delivers events to the listener, ``trigger()`` feeds
    the events table's stream to the trigger until it is quiet, ``ttl_remove(pk)`` deletes a
    collected item the way DynamoDB's TTL does."""

    def __init__(self, table, listener_rules, trigger_rules):
        self.table = table
        self.listener_rules = listener_rules
        self.trigger_rules = trigger_rules
        self.sink = MemoryPublisher()
        self.batches = []  # every trigger batch, for redelivery

    def run(self, rules, uows):
        result = StreamPipeline(
            initialize_from(rules), {"bus_name": "bus", **self.sink.options()},
            concurrency=False,
        ).assemble(uows)
        assert result.retry_records == []
        return result

    def hub(self, *events):
        result = self.run(self.listener_rules, from_kinesis(to_kinesis_records(list(events))))
        return result

    def trigger(self, batch=None):
        """Run the trigger on ``batch``, or on the stream until nothing new is written."""
        if batch is not None:
            return self.run(self.trigger_rules, from_dynamodb(batch))
        faults = []
        while (batch := self.table.stream.event())["Records"]:
            self.batches.append(batch)
            faults += self.run(self.trigger_rules, from_dynamodb(batch)).faults
        assert faults == []

    def ttl_remove(self, pk, sk="EVENT"):
        """Delete the item as TTL does (a REMOVE by the DynamoDB service)."""
        self.table.delete_item(Key={"pk": pk, "sk": sk})
        batch = self.table.stream.event()
        for record in batch["Records"]:
            if record["eventName"] == "REMOVE":
                record["userIdentity"] = dict(TTL_USER_IDENTITY)
        self.batches.append(batch)
        result = self.run(self.trigger_rules, from_dynamodb(batch))
        assert result.faults == []
        self.trigger()  # what the decision write etc. put on the stream
        return batch

    def emitted(self, event_type=None):
        return [e for e in self.sink.events if event_type in (None, e["type"])]


@pytest.fixture
def chain(events_table):
    from control.rules import Settings, listener_rules, trigger_rules

    settings = Settings(payment_timeout_seconds=900, event_ttl_days=33)
    return Chain(events_table, listener_rules(settings), trigger_rules(settings=settings))


@pytest.fixture
def events():
    """Builders of the events control consumes: ``events.submitted(order_id, ...)``,
    ``events.paid(order_id, ...)``."""

    class Events:
        pass

    Events.submitted = staticmethod(submitted)
    Events.paid = staticmethod(paid)
    Events.T0 = T0
    return Events


@pytest.fixture
def serverless_yml():
    """serverless.yml as data (CloudFormation tags kept as ``{"Tag": value}``)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def tagged(loader, suffix, node):
        if isinstance(node, yaml.ScalarNode):
            return {suffix: loader.construct_scalar(node)}
        if isinstance(node, yaml.SequenceNode):
            return {suffix: loader.construct_sequence(node, deep=True)}
        return {suffix: loader.construct_mapping(node, deep=True)}

    Loader.add_multi_constructor("!", tagged)
    return yaml.load((SERVICE / "serverless.yml").read_text(), Loader=Loader)


@pytest.fixture
def cold_start():
    """``cold_start("pkg.module")``: the handler module imported afresh, the way a Lambda
    cold start imports it, so it reads this test's environment (BUS_NAME, table names)."""
    import importlib

    def load(name):
        return importlib.reload(importlib.import_module(name))

    return load
