"""Lambda connector against moto's Docker-free Lambda (it answers an invocation with the
payload it was sent, or with a result queued by the test), plus hooks for failures."""

import datetime as dt
import io
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from stream_core.connectors import LambdaConnector, RetryPolicy
from stream_core.connectors.lambda_ import LambdaFunctionError
from stream_core.errors import RecordError, RetryableError

NO_WAIT = RetryPolicy(max_attempts=4, base_delay=0)


@pytest.fixture
def client(aws, monkeypatch):
    # moto's default Lambda runs functions in Docker; without Docker every invoke fails
    from moto.core.config import default_user_config

    monkeypatch.setitem(default_user_config, "lambda", {"use_docker": False})
    return boto3.client("lambda")


def queue_result(text):
    """The next invocation answers ``text`` (moto's Docker-free Lambda)."""
    from moto.awslambda_simple.models import lambda_simple_backends

    lambda_simple_backends["123456789012"]["us-east-1"].lambda_simple_results_queue.append(text)


def connector(client, **kwargs):
    return LambdaConnector(client=client, retry=kwargs.pop("retry", NO_WAIT), **kwargs)


def body(data: bytes):
    return StreamingBody(io.BytesIO(data), len(data))


def test_the_payload_goes_as_json_and_the_result_comes_back_decoded(client):
    functions = connector(client)
    payload = {"n": Decimal("1.5"), "tags": {"b", "a"}, "at": dt.date(2024, 1, 2), "raw": b"\x00"}
    assert functions.invoke("echo", payload) == {
        "n": 1.5,
        "tags": ["a", "b"],
        "at": "2024-01-02",
        "raw": "AA==",
    }
    queue_result('{"ok":true}')
    assert functions.invoke("echo", {"x": 1}) == {"ok": True}
    assert functions.calls == 2


def test_bytes_are_sent_as_they_are(client, hooks):
    sent = hooks.requests(client, "Invoke")
    assert connector(client).invoke("echo", b'["pre-encoded"]') == ["pre-encoded"]
    assert sent[0]["Payload"] == b'["pre-encoded"]'
    assert sent[0]["InvocationType"] == "RequestResponse"


def test_an_event_invocation_returns_no_result(client, hooks):
    sent = hooks.requests(client, "Invoke")
    assert connector(client).invoke("echo", {"x": 1}, invocation_type="Event") == {}
    assert sent[0]["InvocationType"] == "Event"


def test_a_function_error_raises_with_the_functions_error_payload(client, hooks):
    error = b'{"errorMessage":"boom","errorType":"ValueError","stackTrace":["line 1"]}'
    hooks.answer(
        client,
        "Invoke",
        lambda params, n: {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": body(error)},
    )
    functions = connector(client)
    with pytest.raises(LambdaFunctionError) as raised:
        functions.invoke("resize", {"key": "a.png"})
    assert isinstance(raised.value, RecordError)
    assert str(raised.value) == "function resize failed (Unhandled): ValueError: boom"
    assert raised.value.error["stackTrace"] == ["line 1"]
    assert raised.value.kind == "Unhandled"
    assert functions.calls == 1  # a function's failure is not retried


def test_throttling_is_retried(client, hooks):
    sent = hooks.answer(
        client,
        "Invoke",
        lambda params, n: hooks.error("TooManyRequestsException", 429) if n < 3 else None,
    )
    functions = connector(client)
    assert functions.invoke("echo", {"x": 1}) == {"x": 1}
    assert functions.calls == len(sent) == 3


def test_a_function_not_ready_is_retried_then_raised_as_retryable(client, hooks):
    hooks.answer(client, "Invoke", lambda params, n: hooks.error("ResourceNotReadyException", 502))
    sleeps = []
    functions = connector(client, retry=RetryPolicy(max_attempts=3, sleep=sleeps.append))
    with pytest.raises(RetryableError):
        functions.invoke("cold", {})
    assert functions.calls == 3
    assert len(sleeps) == 2


def test_a_missing_function_fails_at_once(client, hooks):
    hooks.answer(client, "Invoke", lambda params, n: hooks.error("ResourceNotFoundException", 404))
    functions = connector(client)
    with pytest.raises(ClientError) as raised:
        functions.invoke("missing", {})
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert functions.calls == 1


def test_the_default_client_waits_longer_than_any_function_runs(client):
    from stream_core.connectors._client import shared_client

    functions = LambdaConnector()
    assert functions._client is None
    assert functions.invoke("echo", {"x": 2}) == {"x": 2}
    assert functions.client.meta.config.read_timeout > 900
    assert LambdaConnector().client is functions.client
    assert functions.client is not shared_client("lambda")
