"""Fixtures for event-fault-monitor's tests: ``src`` on ``sys.path``, stream-core's ``aws``
and ``event_bus`` fixtures (moto in-process), and the service's table and bucket."""

import sys
from pathlib import Path

import pytest

# src: the service's package; tests: its helper modules (named after the service, since
# every service's tests share one sys.path in the repository's test run)
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE)]

from stream_core.testing.fixtures import aws, event_bus  # noqa: E402, F401

TABLE = "event-fault-monitor-test-faults"
BUCKET = "event-fault-monitor-test-faults"


def create_faults_table(name: str = TABLE) -> None:
    """The table of serverless.yml (FaultsTable), keys and indexes alike."""
    import boto3

    index = lambda name, hash_key: {  # noqa: E731
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": hash_key, "KeyType": "HASH"},
            {"AttributeName": "sorted", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
    boto3.client("dynamodb").create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": "S"}
            for a in ("pk", "functionname", "pipeline", "sorted")
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            index("ByFunction", "functionname"),
            index("ByPipeline", "pipeline"),
        ],
    )


@pytest.fixture
def faults_store(aws, monkeypatch):  # noqa: F811 (the fixture imported above)
    """The faults table and bucket on moto, named in the environment as on Lambda."""
    import boto3

    from event_fault_monitor.rules import store
    from event_fault_monitor.store import FaultStore

    create_faults_table()
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("FAULTS_TABLE_NAME", TABLE)
    monkeypatch.setenv("FAULTS_BUCKET_NAME", BUCKET)
    store.cache_clear()  # the listener's store is per process: a fresh one per test
    yield FaultStore(TABLE, BUCKET)
    store.cache_clear()
