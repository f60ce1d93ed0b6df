"""Shared fixtures: moto's in-process AWS (``aws``), a readable bus (``event_bus``), the
tables of the data flavors, and a pipeline runner with an in-memory publisher."""



import pytest

from stream_core.pipelines import StreamPipeline, initialize_from
from stream_core.testing import MemoryPublisher
from stream_core.testing.tables import StreamReader, create_entity_table, create_events_table

pytest_plugins = ["stream_core.testing.fixtures"]


@pytest.fixture
def entity_table(aws, monkeypatch):
    create_entity_table("entities")
    monkeypatch.setenv("ENTITY_TABLE_NAME", "entities")
    import boto3

    return boto3.resource("dynamodb").Table("entities")


@pytest.fixture
def events_table(aws, monkeypatch):
    create_events_table("events")
    monkeypatch.setenv("EVENT_TABLE_NAME", "events")
    import boto3

    table = boto3.resource("dynamodb").Table("events")
    table.stream = StreamReader("events")
    return table


class Run:
    def __init__(self):
        self.sink = MemoryPublisher()

    def __call__(self, rules, uows, **options):
        out = []
        result = StreamPipeline(
            initialize_from(rules),
            {"bus_name": "bus", **self.sink.options(), **options},
            concurrency=False,
        ).assemble(uows, on_next=lambda pid, uow: out.append(uow))
        return out, result


@pytest.fixture
def run():
    return Run()
