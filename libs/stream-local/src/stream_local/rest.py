"""Functions with ``http`` (API Gateway REST, payload v1) and ``httpApi`` (HTTP API, payload
v2) events, served on localhost as API Gateway proxy integrations.

>>> server = RestServer(runtime, routes_of(registry), port=3000).start()   # doctest: +SKIP
>>> # curl localhost:3000/orders/o-1  ->  the function's proxy response

Routes come from the events in ``serverless.yml`` as ``sls package`` resolved them
(``path``/``method``, ``{param}`` and greedy ``{proxy+}`` parameters, ``ANY``/``*``). All
services share one port and the paths are served without the stage prefix. A function
error answers 502 ``{"message": "Internal server error"}`` as API Gateway does; a
malformed v1 response too. CORS preflights (``OPTIONS``) are answered for every known path.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .http_server import LocalHttpServer
from .registry import Registry

__all__ = ["RestServer", "Route", "routes_of"]

_TEXT_TYPES = ("json", "text/", "xml", "x-www-form-urlencoded", "javascript")


@dataclass
class Route:
    version: str  # "1.0" (http, REST API) or "2.0" (httpApi)
    method: str  # upper case; ANY for every method
    path: str  # "/orders/{id}"
    function: str
    stage: str = "local"

    def __post_init__(self) -> None:
        parts = []
        for piece in re.split(r"(\{[^}/]+\})", self.path):
            param = re.fullmatch(r"\{([^}/+]+)(\+?)\}", piece)
            if param:
                greedy = ".+" if param.group(2) else "[^/]+"
                parts.append(f"(?P<{_group(param.group(1))}>{greedy})")
            else:
                parts.append(re.escape(piece))
        self._regex = re.compile(f"^{''.join(parts)}/?$")
        self._names = {_group(n): n for n in re.findall(r"\{([^}/+]+)\+?\}", self.path)}

    @property
    def key(self) -> str:
        return f"{'ANY' if self.method == 'ANY' else self.method} {self.path}"

    def match(self, method: str | None, path: str) -> dict[str, str] | None:
        """Path parameters if ``method`` (None: any) and ``path`` match, else None."""
        if method is not None and self.method not in ("ANY", method):
            return None
        found = self._regex.match(path)
        if found is None:
            return None
        return {self._names[k]: v for k, v in found.groupdict().items()}


def _group(name: str) -> str:
    return "p_" + re.sub(r"\W", "_", name)


def routes_of(registry: Registry) -> list[Route]:
    """Every http/httpApi event of the deployed functions, most specific paths first."""
    routes = []
    for deployment in registry.deployments.values():
        for function in deployment.functions:
            for event in function.get("events") or []:
                for kind, value in event.items():
                    route = _route(kind, value, function["name"], deployment.stage)
                    if route is not None:
                        routes.append(route)
    # Literal segments before parameters, greedy parameters last (API Gateway's precedence).
    return sorted(routes, key=lambda r: (r.path.count("+}"), r.path.count("{"), -len(r.path)))


def _route(kind: str, value: Any, function: str, stage: str) -> Route | None:
    if kind not in ("http", "httpApi") or value is None:
        return None
    version = "1.0" if kind == "http" else "2.0"
    if isinstance(value, str):
        if value.strip() == "*":
            return Route(version, "ANY", "/{proxy+}", function, stage)
        method, _, path = value.strip().partition(" ")
    else:
        method, path = str(value.get("method", "ANY")), str(value.get("path", "/"))
    method = method.upper()
    method = "ANY" if method in ("*", "ANY") else method
    path = "/" + path.strip().lstrip("/")
    if path.endswith("/*"):
        path = path[:-1] + "{proxy+}"
    return Route(version, method, path, function, stage)


class RestServer(LocalHttpServer):
    """A threading HTTP server that turns requests into proxy events for ``runtime``."""

    thread_name = "rest"

    def __init__(
        self, runtime: Any, routes: Iterable[Route], *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__(host=host, port=port)
        self.runtime = runtime
        self.routes = list(routes)

    # ---- one request --------------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        method = request.command.upper()
        length = int(request.headers.get("Content-Length") or 0)
        raw_body = request.rfile.read(length) if length else b""
        if method == "OPTIONS" and any(r.match(None, url.path) is not None for r in self.routes):
            return _send(request, 204, _cors(request), b"")
        for route in self.routes:
            params = route.match(method, url.path)
            if params is None:
                continue
            event = (_event_v1 if route.version == "1.0" else _event_v2)(
                request, route, url.path, url.query, params, raw_body
            )
            result = self.runtime.invoke(route.function, event, source=f"http:{method} {url.path}")
            status, headers, body = _response(route.version, result)
            return _send(request, status, headers, body)
        _send(request, 404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}')


def _body(raw: bytes, content_type: str) -> tuple[str | None, bool]:
    if not raw:
        return None, False
    if any(kind in content_type for kind in _TEXT_TYPES) or not content_type:
        try:
            return raw.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(raw).decode("ascii"), True


def _event_v1(
    request: BaseHTTPRequestHandler,
    route: Route,
    path: str,
    query: str,
    params: Mapping[str, str],
    raw: bytes,
) -> dict[str, Any]:
    pairs = parse_qsl(query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for key, value in pairs:
        multi_query.setdefault(key, []).append(value)
    multi_headers: dict[str, list[str]] = {}
    for key, value in request.headers.items():
        multi_headers.setdefault(key, []).append(value)
    body, encoded = _body(raw, request.headers.get("Content-Type", ""))
    now = time.time()
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": request.command.upper(),
        "headers": {k: v[-1] for k, v in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(params) or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.path,
            "httpMethod": request.command.upper(),
            "path": f"/{route.stage}{path}",
            "stage": route.stage,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(now * 1000),
            "accountId": "123456789012",
            "apiId": "local",
            "protocol": request.request_version,
            "domainName": request.headers.get("Host", "localhost"),
            "identity": {
                "sourceIp": request.client_address[0],
                "userAgent": request.headers.get("User-Agent"),
            },
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


def _event_v2(
    request: BaseHTTPRequestHandler,
    route: Route,
    path: str,
    query: str,
    params: Mapping[str, str],
    raw: bytes,
) -> dict[str, Any]:
    headers: dict[str, str] = {}
    for key, value in request.headers.items():
        key = key.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    queries: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        queries[key] = f"{queries[key]},{value}" if key in queries else value
    body, encoded = _body(raw, headers.get("content-type", ""))
    now = datetime.now(UTC)
    route_key = f"{'ANY' if route.method == 'ANY' else route.method} {route.path}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": headers.get("host", "localhost"),
            "domainPrefix": "local",
            "http": {
                "method": request.command.upper(),
                "path": path,
                "protocol": request.request_version,
                "sourceIp": request.client_address[0],
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if cookies:
        event["cookies"] = cookies
    if queries:
        event["queryStringParameters"] = queries
    if params:
        event["pathParameters"] = dict(params)
    if body is not None:
        event["body"] = body
    return event


def _response(version: str, result: Any) -> tuple[int, dict[str, str], bytes]:
    error = (502, {"Content-Type": "application/json"}, b'{"message":"Internal server error"}')
    if not result.ok:
        return error
    value = result.response
    if not (isinstance(value, dict) and "statusCode" in value):
        if version == "1.0":
            return error  # REST APIs need a proxy response
        text = value if isinstance(value, str) else json.dumps(value)
        return 200, {"Content-Type": "application/json"}, text.encode()
    headers = {str(k): str(v) for k, v in (value.get("headers") or {}).items()}
    for key, values in (value.get("multiValueHeaders") or {}).items():
        headers[str(key)] = ", ".join(str(v) for v in values)
    body = value.get("body") or ""
    data = base64.b64decode(body) if value.get("isBase64Encoded") else str(body).encode()
    if value.get("cookies"):
        headers["Set-Cookie"] = "; ".join(value["cookies"])
    try:
        status = int(value["statusCode"])
    except (TypeError, ValueError):
        return error
    return status, headers, data


def _cors(request: BaseHTTPRequestHandler) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": request.headers.get("Origin") or "*",
        "Access-Control-Allow-Methods": "GET,POST,PUT,PATCH,DELETE,OPTIONS",
        "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers")
        or "*",
    }


def _send(
    request: BaseHTTPRequestHandler, status: int, headers: Mapping[str, str], body: bytes
) -> None:
    request.send_response(status)
    for key, value in headers.items():
        if key.lower() != "content-length":
            request.send_header(key, value)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    if request.command != "HEAD":
        request.wfile.write(body)
