"""Fixtures of stream-local's tests: one moto_server per test session, packaged fixture
services cached across runs, synthetic deployments for the semantics tests."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stream_local.cloud import Cloud, MotoServer
from stream_local.deploy import Deployment
from stream_local.log import DeliveryLog
from stream_local.package import Package, package_service
from stream_local.registry import Registry
from stream_local.runtime import Clock, Runtime, RuntimeOptions

FIXTURES = Path(__file__).parent / "fixtures"
HANDLERS = FIXTURES / "handlers"


@pytest.fixture(scope="session")
def cloud() -> Iterator[Cloud]:
    """A moto_server shared by the whole session; tests use unique resource names."""
    server = MotoServer()
    cloud = server.start()
    yield cloud
    server.stop()


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def packaged(request: pytest.FixtureRequest) -> Callable[[str], Package]:
    """``packaged("hub")``: the fixture service packaged by serverless, cached across runs
    in pytest's cache folder (serverless runs again only when the service changed)."""
    cache = Path(request.config.cache.mkdir("stream-local-packages"))
    done: dict[str, Package] = {}

    def get(name: str) -> Package:
        if name not in done:
            done[name] = package_service(FIXTURES / name, out_dir=cache / name, reuse=True)
        return done[name]

    return get


class Journal:
    """What the ``journal`` fixture handler wrote, one entry per invocation."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self, function: str | None = None) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        entries = [json.loads(line) for line in self.path.read_text().splitlines() if line]
        return [e for e in entries if function is None or e["function"] == function]

    def batches(self, function: str | None = None) -> list[list[Any]]:
        return [[p.get("n") for p in e["payloads"]] for e in self.entries(function)]


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.jsonl")


def journal_function(
    name: str, journal: Journal, *, timeout: float = 5, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """A function running ``fixtures/handlers/journal.py``."""
    return {
        "name": name,
        "arn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        "handler": "journal.handler",
        "runtime": "python3.12",
        "timeout": timeout,
        "memory": 128,
        "environment": {"JOURNAL_FILE": str(journal.path), **(env or {})},
        "service_dir": str(HANDLERS),
        "events": [],
    }


def registry_of(
    service: str,
    functions: list[dict[str, Any]],
    *,
    mappings: list[dict[str, Any]] = (),  # type: ignore[assignment]
    rules: list[dict[str, Any]] = (),  # type: ignore[assignment]
    **plan: Any,
) -> Registry:
    """A registry holding one synthetic deployment (no CloudFormation involved)."""
    deployment = Deployment(
        service=service,
        stack_name=f"{service}-local",
        service_dir=str(HANDLERS),
        stage="local",
        outputs={},
        plan={
            "functions": [{"logical_id": f["name"], "name": f["name"]} for f in functions],
            "mappings": [{"logical_id": f"Mapping{i}", **m} for i, m in enumerate(mappings)],
            "rules": list(rules),
            "subscriptions": [],
            "firehoses": [],
            "invoke_configs": [],
            "ttl": [],
            "skipped": [],
            "notes": [],
            **plan,
        },
        functions=functions,
    )
    return Registry({deployment.stack_name: deployment})


@pytest.fixture(name="journal_function")
def journal_function_fixture() -> Callable[..., dict[str, Any]]:
    return journal_function


@pytest.fixture(name="registry_of")
def registry_of_fixture() -> Callable[..., Registry]:
    return registry_of


@pytest.fixture
def run() -> Iterator[Callable[..., Runtime]]:
    """``run(cloud, registry, **options)``: a started runtime, stopped after the test."""
    started: list[Runtime] = []

    def start(
        cloud: Cloud, registry: Registry, *, clock: Clock | None = None, **options: Any
    ) -> Runtime:
        runtime = Runtime(
            cloud,
            registry,
            clock=clock,
            log=DeliveryLog(stream=None),
            options=RuntimeOptions(**{"max_retry_delay": 0.1, **options}),
        )
        started.append(runtime.start())
        return runtime

    yield start
    for runtime in started:
        runtime.stop()


class Resources:
    """Uniquely named AWS resources on the session's moto server."""

    def __init__(self, cloud: Cloud, unique: str) -> None:
        self.cloud = cloud
        self.unique = unique
        self._count = 0

    def name(self, kind: str) -> str:
        self._count += 1
        return f"t-{kind}-{self.unique}-{self._count}"

    def stream(self, shards: int = 1) -> str:
        kinesis = self.cloud.client("kinesis")
        name = self.name("stream")
        kinesis.create_stream(StreamName=name, ShardCount=shards)
        return kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]

    def put(self, stream_arn: str, payloads: list[dict[str, Any]], key: str = "k") -> list[str]:
        """Put ``payloads`` in order (one PutRecords call); returns their sequence numbers."""
        response = self.cloud.client("kinesis").put_records(
            StreamName=stream_arn.rsplit("/", 1)[1],
            Records=[
                {"Data": json.dumps(p).encode(), "PartitionKey": str(p.get("key", key))}
                for p in payloads
            ],
        )
        return [r["SequenceNumber"] for r in response["Records"]]

    def queue(self, **attributes: str) -> tuple[str, str]:
        sqs = self.cloud.client("sqs")
        url = sqs.create_queue(QueueName=self.name("queue"), Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return url, arn["Attributes"]["QueueArn"]

    def drain(self, url: str) -> list[dict[str, Any]]:
        """Every message now in the queue (received and deleted), bodies parsed."""
        sqs = self.cloud.client("sqs")
        bodies = []
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages")
            if not messages:
                return bodies
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def aws(cloud: Cloud, unique: str) -> Resources:
    return Resources(cloud, unique)
