"""http (REST v1) and httpApi (HTTP API v2) functions served on localhost."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from stream_local.rest import Route, routes_of

pytestmark = pytest.mark.integration


def _function(name, events):
    return {
        "name": name,
        "arn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        "handler": "echo.handler",
        "timeout": 5,
        "environment": {},
        "service_dir": str(__import__("pathlib").Path(__file__).parent / "fixtures" / "handlers"),
        "events": events,
    }


def _call(url, method="GET", body=None, headers=None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.fixture
def api(cloud, registry_of, run):
    functions = [
        _function("fn-rest-v1", [{"http": {"path": "orders/{id}", "method": "get"}}]),
        _function("fn-rest-v1-any", [{"http": {"path": "files/{proxy+}", "method": "any"}}]),
        _function(
            "fn-rest-v2",
            [
                {"httpApi": "POST /carts/{cartId}/items"},
                {"httpApi": {"method": "GET", "path": "/carts"}},
            ],
        ),
    ]
    runtime = run(cloud, registry_of("rest-test", functions), rest_port=0)
    return runtime.rest.url


def test_rest_v1_proxy_event_and_response(api):
    status, headers, body = _call(f"{api}/orders/o-1?expand=lines&expand=customer")
    assert status == 201 and headers["Content-Type"] == "application/json"
    echoed = json.loads(body)
    assert echoed == {
        "version": "1.0",
        "method": "GET",
        "path": "/orders/o-1",
        "resource": "/orders/{id}",
        "pathParameters": {"id": "o-1"},
        "query": {"expand": "customer"},
        "body": None,
        "isBase64Encoded": False,
    }


def test_greedy_path_parameters_and_any_method(api):
    status, _, body = _call(f"{api}/files/a/b/c.txt", method="DELETE")
    assert status == 201
    assert json.loads(body)["pathParameters"] == {"proxy": "a/b/c.txt"}


def test_http_api_v2_event_with_a_json_body(api):
    status, _, body = _call(
        f"{api}/carts/c-1/items?x=1",
        method="POST",
        body=b'{"sku": "a"}',
        headers={"Content-Type": "application/json"},
    )
    echoed = json.loads(body)
    assert status == 201
    assert echoed["version"] == "2.0"
    assert echoed["resource"] == "POST /carts/{cartId}/items"
    assert echoed["pathParameters"] == {"cartId": "c-1"}
    assert echoed["query"] == {"x": "1"}
    assert json.loads(echoed["body"]) == {"sku": "a"}


def test_http_api_accepts_a_plain_json_result(api):
    status, _headers, body = _call(f"{api}/carts?plain=1")
    assert status == 200 and json.loads(body) == {"plain": True, "path": "/carts"}


def test_function_errors_unknown_paths_and_preflight(api):
    assert _call(f"{api}/orders/o-1?boom=1")[0] == 502
    assert _call(f"{api}/nothing/here")[0] == 404
    assert _call(f"{api}/orders/o-1", method="POST")[0] == 404  # GET only
    status, headers, _ = _call(
        f"{api}/orders/o-1", method="OPTIONS", headers={"Origin": "http://x"}
    )
    assert status == 204 and headers["Access-Control-Allow-Origin"] == "http://x"


def test_routes_prefer_literal_segments_over_parameters(registry_of):
    registry = registry_of(
        "routes",
        [
            _function("a", [{"http": {"path": "orders/{id}", "method": "get"}}]),
            _function("b", [{"http": {"path": "orders/recent", "method": "get"}}]),
            _function("c", [{"httpApi": "*"}]),
        ],
    )
    routes = routes_of(registry)
    assert [(r.function, r.key) for r in routes] == [
        ("b", "GET /orders/recent"),
        ("a", "GET /orders/{id}"),
        ("c", "ANY /{proxy+}"),
    ]
    assert routes[0].match("GET", "/orders/recent") == {}
    assert Route("2.0", "GET", "/a/{b}", "x").match("GET", "/a/1/") == {"b": "1"}
