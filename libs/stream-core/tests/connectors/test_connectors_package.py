"""What every connector shares: lazy boto3, the common constructor, exports, examples."""

import importlib
import inspect
import subprocess
import sys

import pytest

import stream_core.connectors as connectors
from stream_core.connectors._client import LazyClient, shared_client

CONNECTORS = {
    "dynamodb": ("DynamoDBConnector", ("things",)),
    "eventbridge": ("EventBridgeConnector", ()),
    "firehose": ("FirehoseConnector", ("lake",)),
    "kinesis": ("KinesisConnector", ("hub",)),
    "lambda_": ("LambdaConnector", ()),
    "s3": ("S3Connector", ("bucket",)),
    "secrets": ("SecretsConnector", ()),
    "sns": ("SnsConnector", ("arn:aws:sns:us-east-1:123456789012:t",)),
    "sqs": ("SqsConnector", ("https://sqs.us-east-1.amazonaws.com/123456789012/q",)),
}


def test_importing_and_building_connectors_does_not_import_boto3():
    lines = ["import sys"]
    for module, (name, args) in CONNECTORS.items():
        lines.append(f"from stream_core.connectors.{module} import {name}")
        lines.append(f"{name}(*{args!r})")
    lines.append("assert 'boto3' not in sys.modules and 'botocore' not in sys.modules")
    lines.append("print('lazy')")
    result = subprocess.run(
        [sys.executable, "-c", "\n".join(lines)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "lazy"


@pytest.mark.parametrize("module", sorted(CONNECTORS))
def test_every_connector_has_the_common_shape(module):
    name, args = CONNECTORS[module]
    cls = getattr(importlib.import_module(f"stream_core.connectors.{module}"), name)
    assert getattr(connectors, name) is cls
    assert name in connectors.__all__
    parameters = inspect.signature(cls).parameters
    for keyword in ("client", "config", "retry", "max_in_flight"):
        assert parameters[keyword].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters["client"].default is None
    assert parameters["max_in_flight"].default == 16
    given = object()
    connector = cls(*args, client=given)
    assert connector.calls == 0
    assert isinstance(type(connector).client, LazyClient)
    assert connector.client is given
    assert ">>>" in (importlib.import_module(f"stream_core.connectors.{module}").__doc__ or "")


def test_a_retry_policy_makes_at_least_one_attempt():
    from stream_core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="max_attempts must be at least 1"):
        connectors.RetryPolicy(max_attempts=0)


def test_chunk_fails_entries_over_the_entry_limit_below_the_request_limit():
    requests, too_large = connectors.chunk(
        [4, 6, 5, 5, 1], max_entries=10, max_bytes=10, max_entry_bytes=5
    )
    assert requests == [[0, 2], [3, 4]]
    assert too_large == [1]


def test_caller_counts_retries_and_keeps_the_last_error_as_cause():
    from botocore.exceptions import ClientError

    from stream_core.errors import RetryableError

    sleeps = []
    caller = connectors.Caller(connectors.RetryPolicy(max_attempts=3, sleep=sleeps.append))
    throttled = ClientError({"Error": {"Code": "Throttling"}}, "GetItem")

    def get_item():
        raise throttled

    with pytest.raises(RetryableError, match="get_item failed after 3 attempts") as raised:
        caller(get_item)
    assert raised.value.__cause__ is throttled
    assert caller.calls == 3
    assert len(sleeps) == 2
    assert caller(lambda x: x * 2, 21) == 42
    assert caller.calls == 4


@pytest.mark.parametrize(
    ("service", "variable"),
    [("events", "AWS_ENDPOINT_URL_EVENTBRIDGE"), ("secretsmanager",
     "AWS_ENDPOINT_URL_SECRETS_MANAGER"), ("sqs", "AWS_ENDPOINT_URL_SQS")],
)
def test_the_shared_client_follows_the_service_endpoint_variable(service, variable, monkeypatch):
    monkeypatch.setattr("stream_core.connectors._client._clients", {})  # others' stay cached
    # botocore reads AWS_ENDPOINT_URL_<its name for the service>; the cache must key on it too
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv(variable, "http://127.0.0.1:4001")
    first = shared_client(service)
    assert first.meta.endpoint_url == "http://127.0.0.1:4001"
    monkeypatch.setenv(variable, "http://127.0.0.1:4002")
    second = shared_client(service)
    assert second is not first and second.meta.endpoint_url == "http://127.0.0.1:4002"
    assert shared_client(service) is second  # one client per endpoint


def test_a_lazy_client_is_made_on_first_use_with_the_connectors_config(monkeypatch):
    from botocore.config import Config

    monkeypatch.setattr("stream_core.connectors._client._clients", {})
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    config = Config(read_timeout=7)
    connector = connectors.SqsConnector("https://queue", config=config)
    assert connector._client is None  # nothing made before it is needed
    client = connector.client
    assert client is connector.client and client.meta.config.read_timeout == 7
    made = connectors.LambdaConnector().client  # its own default: long reads
    assert made.meta.config.read_timeout == 905
