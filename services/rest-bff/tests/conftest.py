"""rest-bff's test fixtures: moto's in-process AWS, the orders table as serverless.yml
declares it (with its stream), API Gateway proxy events, and a pipeline runner."""

import json
import sys
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parents[1]
if str(SERVICE / "src") not in sys.path:  # the service's package, imported as Lambda would
    sys.path.insert(0, str(SERVICE / "src"))

from stream_core.pipelines import StreamPipeline, initialize_from  # noqa: E402
from stream_core.testing import MemoryPublisher  # noqa: E402
from stream_core.testing.fixtures import aws, event_bus  # noqa: E402, F401
from stream_core.testing.tables import StreamReader  # noqa: E402

TABLE = "rest-bff-test-orders"

#: The orders table of serverless.yml (test_template.py checks they agree).
ORDERS_TABLE = {
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": "discriminator", "AttributeType": "S"},
        {"AttributeName": "created", "AttributeType": "N"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "ByCreated",
            "KeySchema": [
                {"AttributeName": "discriminator", "KeyType": "HASH"},
                {"AttributeName": "created", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
}


@pytest.fixture
def orders_table(aws, monkeypatch):  # noqa: F811 (the fixture imported above)
    """The orders table on moto; ``.stream.event()`` reads its stream as a Lambda event."""
    import boto3

    boto3.client("dynamodb").create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST", **ORDERS_TABLE
    )
    monkeypatch.setenv("ENTITY_TABLE_NAME", TABLE)
    monkeypatch.setenv("SERVICE", "rest-bff")
    table = boto3.resource("dynamodb").Table(TABLE)
    table.stream = StreamReader(TABLE)
    return table


class Clock:
    """Epoch milliseconds that the test moves."""

    def __init__(self, now=1_700_000_000_000):
        self.now = now

    def __call__(self):
        return self.now

    def tick(self, ms=1_000):
        self.now += ms
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def api(orders_table, clock):
    """``api(method, path, body=None, query=None, headers=None) -> (status, body, headers)``
    through the REST handler's resolver, with API Gateway REST proxy events."""
    from rest_bff.orders import Orders
    from rest_bff.rest import create_app

    ids = iter(f"o{n}" for n in range(1, 1000))
    app = create_app(Orders(TABLE, clock=clock, new_id=lambda: next(ids)))

    def call(method, path, body=None, query=None, headers=None):
        response = app.resolve(proxy_event(method, path, body, query, headers), None)
        text = response.get("body")
        return response["statusCode"], json.loads(text) if text else None, _headers(response)

    call.app = app
    return call


def proxy_event(method, path, body=None, query=None, headers=None):
    """An API Gateway REST API (v1) Lambda proxy event, as API Gateway sends it."""
    resource, params = path, None
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "orders":
        resource, params = "/orders/{id}", {"id": parts[1]}
    headers = {"Content-Type": "application/json", **(headers or {})}
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": params,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/test{path}",
            "stage": "test",
            "requestId": "request-1",
            "accountId": "123456789012",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "pytest"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


class Run:
    """Runs rules over UOWs with an in-memory publisher (``run.sink``)."""

    def __init__(self):
        self.sink = MemoryPublisher()

    def __call__(self, rules, uows):
        out = []
        result = StreamPipeline(
            initialize_from(rules),
            {"bus_name": "bus", **self.sink.options()},
            concurrency=False,
        ).assemble(uows, on_next=lambda pid, uow: out.append(uow))
        return out, result


@pytest.fixture
def run():
    return Run()


@pytest.fixture
def make_proxy_event():
    return proxy_event


def _headers(response):
    """The response headers (REST API responses carry them as multiValueHeaders)."""
    headers = {k: v for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name] = values[-1] if len(values) == 1 else values
    return headers


@pytest.fixture
def orders_table_schema():
    return ORDERS_TABLE


@pytest.fixture
def serverless_yml():
    """serverless.yml as data (CloudFormation tags kept as ``{"Tag": value}``)."""
    return load_serverless_yml(SERVICE / "serverless.yml")


def load_serverless_yml(path):
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
    return yaml.load(path.read_text(), Loader=Loader)


@pytest.fixture
def cold_start():
    """``cold_start("pkg.module")``: the handler module imported afresh, the way a Lambda
    cold start imports it, so it reads this test's environment (BUS_NAME, table names)."""
    import importlib

    def load(name):
        return importlib.reload(importlib.import_module(name))

    return load
