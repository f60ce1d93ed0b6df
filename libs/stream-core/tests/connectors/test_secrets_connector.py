"""Secrets Manager connector against moto: values, the per-connector TTL cache, failures."""

import boto3
import pytest
from botocore.exceptions import ClientError

from stream_core.connectors import RetryPolicy, SecretsConnector
from stream_core.errors import RetryableError

NO_WAIT = RetryPolicy(max_attempts=4, base_delay=0)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def client(aws):
    client = boto3.client("secretsmanager")
    client.create_secret(Name="api", SecretString='{"token": "t1", "n": 1}')
    client.create_secret(Name="text", SecretString="plain password")
    client.create_secret(Name="array", SecretString="[1, 2]")
    client.create_secret(Name="blob", SecretBinary=b"\x00\x01")
    return client


@pytest.fixture
def clock():
    return Clock()


def connector(client, clock, **kwargs):
    return SecretsConnector(client=client, clock=clock, retry=NO_WAIT, **kwargs)


def test_values_come_back_as_dict_text_or_bytes(client, clock):
    secrets = connector(client, clock)
    assert secrets.get_secret("api") == {"token": "t1", "n": 1}
    assert secrets.get_secret("text") == "plain password"
    assert secrets.get_secret("array") == "[1, 2]"  # only JSON objects are parsed
    assert secrets.get_secret("blob") == b"\x00\x01"
    arn = client.describe_secret(SecretId="api")["ARN"]
    assert secrets.get_secret(arn)["token"] == "t1"


def test_a_secret_is_cached_for_the_ttl(client, clock):
    secrets = connector(client, clock, ttl=60)
    assert secrets.get_secret("api")["token"] == "t1"
    client.put_secret_value(SecretId="api", SecretString='{"token": "t2"}')
    clock.now += 59
    assert secrets.get_secret("api")["token"] == "t1"
    assert secrets.calls == 1
    clock.now += 1
    assert secrets.get_secret("api")["token"] == "t2"
    assert secrets.get_secret("api")["token"] == "t2"
    assert secrets.calls == 2


def test_the_default_ttl_is_five_minutes(client, clock):
    secrets = connector(client, clock)
    secrets.get_secret("text")
    clock.now += 299
    secrets.get_secret("text")
    assert secrets.calls == 1
    clock.now += 1
    secrets.get_secret("text")
    assert secrets.calls == 2


def test_refresh_and_invalidate_ask_again(client, clock):
    secrets = connector(client, clock)
    secrets.get_secret("api")
    client.put_secret_value(SecretId="api", SecretString='{"token": "t2"}')
    assert secrets.get_secret("api", refresh=True)["token"] == "t2"
    secrets.get_secret("text")
    secrets.invalidate("api")
    secrets.get_secret("api")
    secrets.get_secret("text")
    assert secrets.calls == 4
    secrets.invalidate()
    secrets.get_secret("text")
    assert secrets.calls == 5


def test_the_cache_belongs_to_the_connector(client, clock):
    first, second = connector(client, clock), connector(client, clock)
    first.get_secret("api")
    second.get_secret("api")
    assert (first.calls, second.calls) == (1, 1)


def test_version_stages_are_cached_apart(client, clock):
    client.put_secret_value(SecretId="api", SecretString='{"token": "t2"}')
    secrets = connector(client, clock)
    assert secrets.get_secret("api")["token"] == "t2"
    assert secrets.get_secret("api", version_stage="AWSPREVIOUS")["token"] == "t1"
    assert secrets.get_secret("api")["token"] == "t2"
    assert secrets.calls == 2


def test_a_missing_secret_fails_at_once_and_is_not_cached(client, clock):
    secrets = connector(client, clock)
    for _ in range(2):
        with pytest.raises(ClientError) as raised:
            secrets.get_secret("missing")
        assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert secrets.calls == 2


def test_throttling_is_retried_then_raised_as_retryable(client, clock, hooks):
    hooks.answer(
        client,
        "GetSecretValue",
        lambda params, n: hooks.error("ThrottlingException") if n in (1, 2) or n > 3 else None,
    )
    secrets = connector(client, clock)
    assert secrets.get_secret("text") == "plain password"
    assert secrets.calls == 3
    with pytest.raises(RetryableError):
        secrets.get_secret("api")
    assert secrets.calls == 3 + NO_WAIT.max_attempts


def test_the_client_is_created_on_first_use(client):
    from stream_core.connectors._client import shared_client

    secrets = SecretsConnector()
    assert secrets._client is None
    assert secrets.get_secret("text") == "plain password"
    assert secrets.client is shared_client("secretsmanager")
