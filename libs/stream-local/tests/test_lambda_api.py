"""Lambda's Invoke API served by the runtime (``lambda_api.py``), through a real boto3 client,
against the fixture hub's listener as deployed on moto: a stream-core Kinesis handler that
writes each ``thing-*`` event to the hub's DynamoDB table. The last tests use two functions
of ``fixtures/handlers/invoker.py`` in a synthetic registry: one invokes the other."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from stream_core.connectors import LambdaConnector, LambdaFunctionError
from stream_core.events.kinesis import to_kinesis_records
from stream_local.deploy import deploy
from stream_local.lambda_api import (
    ASYNC_PAYLOAD_LIMIT,
    SYNC_PAYLOAD_LIMIT,
    parse_function_name,
)
from stream_local.log import DeliveryLog
from stream_local.registry import Registry
from stream_local.runtime import Runtime, RuntimeOptions, wait_for

pytestmark = pytest.mark.integration

LISTENER = "sl-fixture-hub-local-listener"
TABLE = "sl-fixture-hub-local-things"
HANDLERS = Path(__file__).parent / "fixtures" / "handlers"


@pytest.fixture(scope="module")
def runtime(cloud, packaged):
    """The hub deployed on the session's moto (created, or updated if another module did),
    run with the Lambda API on a free port."""
    registry = Registry()
    registry.add(deploy(cloud, packaged("hub")))
    runtime = Runtime(
        cloud, registry, log=DeliveryLog(stream=None), options=RuntimeOptions(lambda_port=0)
    )
    with runtime:
        yield runtime


@pytest.fixture(scope="module")
def lam(runtime):
    """A boto3 Lambda client on the runtime's endpoint; no retries, so each call is one."""
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client(
        "lambda",
        endpoint_url=runtime.lambda_api.url,
        config=Config(retries={"total_max_attempts": 1}, read_timeout=30),
    )


def things(*ids):
    """A Kinesis trigger event carrying one ``thing-created`` per id."""
    return to_kinesis_records([{"type": "thing-created", "id": i, "partition_key": i} for i in ids])


def saved(cloud, thing_id):
    key = {"pk": {"S": thing_id}}
    return cloud.client("dynamodb").get_item(TableName=TABLE, Key=key).get("Item")


def error_of(call):
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_function_names_parse_as_lambda_takes_them():
    assert parse_function_name("fn") == ("fn", None)
    assert parse_function_name("fn:$LATEST") == ("fn", "$LATEST")
    assert parse_function_name("123456789012:function:fn") == ("fn", None)
    assert parse_function_name("arn:aws:lambda:eu-west-1:123456789012:function:fn:live") == (
        "fn",
        "live",
    )
    for bad in ("", "a b", "arn:aws:lambda:us-east-1:fn", "fn:1:2"):
        with pytest.raises(ValueError):
            parse_function_name(bad)


def test_a_synchronous_invocation_answers_the_handler_response(cloud, runtime, lam, unique):
    response = lam.invoke(FunctionName=LISTENER, Payload=json.dumps(things(f"sync-{unique}")))
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"batchItemFailures": []}
    assert saved(cloud, f"sync-{unique}")["function"] == {"S": LISTENER}
    (delivery,) = [d for d in runtime.log.deliveries if d.source == "lambda:Invoke"][-1:]
    assert delivery.function == LISTENER and delivery.ok
    # the request id botocore reports is the invocation's own
    assert response["ResponseMetadata"]["RequestId"] == delivery.invocation.request_id


def test_a_function_error_is_a_200_with_the_error_object(lam):
    response = lam.invoke(FunctionName=LISTENER, Payload=b"{}")  # no Records: a wrong trigger
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "ConfigurationError"
    assert "'Records'" in error["errorMessage"] and error["stackTrace"]
    # what stream-core's connector makes of it
    with pytest.raises(LambdaFunctionError) as caught:
        LambdaConnector(client=lam).invoke(LISTENER, {})
    assert caught.value.kind == "Unhandled"
    assert caught.value.error["errorType"] == "ConfigurationError"


def test_an_event_invocation_answers_202_and_runs_the_function(cloud, runtime, lam, unique):
    response = lam.invoke(
        FunctionName=LISTENER, InvocationType="Event", Payload=json.dumps(things(f"ev-{unique}"))
    )
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    assert wait_for(lambda: saved(cloud, f"ev-{unique}"), timeout=20)
    assert any(d.source == "lambda:Invoke Event" and d.ok for d in runtime.log.deliveries)


def test_a_dry_run_answers_204_and_runs_nothing(runtime, lam):
    before = len(runtime.log.deliveries)
    response = lam.invoke(FunctionName=LISTENER, InvocationType="DryRun", Payload=b"{}")
    assert response["StatusCode"] == 204
    assert not [d for d in list(runtime.log.deliveries)[before:] if d.source.startswith("lambda")]


def test_an_unknown_function_is_resource_not_found(lam):
    assert error_of(lambda: lam.invoke(FunctionName="nope", Payload=b"{}")) == (
        "ResourceNotFoundException",
        404,
    )
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="nope", InvocationType="Event", Payload=b"{}")


def test_a_body_that_is_not_json_is_invalid_request_content(lam):
    assert error_of(lambda: lam.invoke(FunctionName=LISTENER, Payload=b"{not json")) == (
        "InvalidRequestContentException",
        400,
    )


def test_payloads_over_lambdas_limits_are_too_large(lam):
    def padded(size):
        return json.dumps({"pad": "x" * (size - 11)}).encode()  # 11: {"pad": ""}

    assert len(padded(100)) == 100
    too_large = "RequestTooLargeException", 413
    sync = padded(SYNC_PAYLOAD_LIMIT + 1)
    assert error_of(lambda: lam.invoke(FunctionName=LISTENER, Payload=sync)) == too_large
    over_async = padded(ASYNC_PAYLOAD_LIMIT + 1)
    event = {"FunctionName": LISTENER, "InvocationType": "Event", "Payload": over_async}
    assert error_of(lambda: lam.invoke(**event)) == too_large
    # the same payload is not too large for a synchronous invocation
    response = lam.invoke(FunctionName=LISTENER, Payload=over_async)
    assert response["FunctionError"] == "Unhandled"  # it ran: no Records, a wrong trigger


def test_every_form_of_the_function_name_reaches_the_function(lam, unique):
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{LISTENER}"
    names = [arn, f"123456789012:function:{LISTENER}", f"{arn}:$LATEST", f"{LISTENER}:$LATEST"]
    for n, name in enumerate(names):
        payload = json.dumps(things(f"name-{unique}-{n}"))
        response = lam.invoke(FunctionName=name, Payload=payload)
        assert response["StatusCode"] == 200 and "FunctionError" not in response, name
    response = lam.invoke(FunctionName=LISTENER, Qualifier="$LATEST", Payload=b"{}")
    assert response["StatusCode"] == 200
    # only $LATEST runs locally: another version or alias is not found
    assert error_of(lambda: lam.invoke(FunctionName=f"{LISTENER}:1", Payload=b"{}")) == (
        "ResourceNotFoundException",
        404,
    )
    assert error_of(lambda: lam.invoke(FunctionName=LISTENER, Qualifier="live")) == (
        "ResourceNotFoundException",
        404,
    )


def test_other_lambda_calls_are_answered_by_moto(cloud, lam):
    configuration = lam.get_function(FunctionName=LISTENER)["Configuration"]
    direct = cloud.client("lambda").get_function(FunctionName=LISTENER)["Configuration"]
    assert configuration["FunctionArn"] == direct["FunctionArn"]
    assert configuration["Environment"] == direct["Environment"]
    assert LISTENER in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    # moto's own errors come through unchanged
    assert error_of(lambda: lam.get_function(FunctionName="nope")) == (
        "ResourceNotFoundException",
        404,
    )


def test_workers_get_the_endpoint_for_their_own_lambda_calls(runtime):
    env = runtime.worker(LISTENER).env
    assert env["AWS_ENDPOINT_URL_LAMBDA"] == runtime.lambda_api.url
    assert env["AWS_ENDPOINT_URL"] == runtime.cloud.endpoint


def test_no_server_unless_asked(cloud):
    with Runtime(cloud, Registry(), log=DeliveryLog(stream=None)) as runtime:
        assert runtime.lambda_api is None


def _invoker(name):
    return {
        "name": name,
        "arn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        "handler": "invoker.handler",
        "timeout": 10,
        "environment": {},
        "service_dir": str(HANDLERS),
        "events": [],
    }


@pytest.fixture
def invokers(cloud, registry_of, run):
    """Two functions of ``fixtures/handlers/invoker.py`` in a runtime of their own."""
    registry = registry_of("invokers", [_invoker("fn-invoker-a"), _invoker("fn-invoker-b")])
    runtime = run(cloud, registry, lambda_port=0)
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client("lambda", endpoint_url=runtime.lambda_api.url)


def test_a_handler_invokes_another_function_through_the_api(invokers):
    event = {"target": "fn-invoker-b", "payload": {"size": 3}}
    response = invokers.invoke(FunctionName="fn-invoker-a", Payload=json.dumps(event))
    assert json.loads(response["Payload"].read()) == {"status": 200, "payload": "xxx"}


def test_a_response_over_6_mb_is_a_function_error(invokers):
    response = invokers.invoke(
        FunctionName="fn-invoker-b", Payload=json.dumps({"size": SYNC_PAYLOAD_LIMIT})
    )
    assert response["FunctionError"] == "Unhandled"  # 6 MB and the quotes
    assert json.loads(response["Payload"].read())["errorType"] == "Function.ResponseSizeTooLarge"
    response = invokers.invoke(
        FunctionName="fn-invoker-b", Payload=json.dumps({"size": SYNC_PAYLOAD_LIMIT - 2})
    )
    assert "FunctionError" not in response
    assert len(response["Payload"].read()) == SYNC_PAYLOAD_LIMIT
