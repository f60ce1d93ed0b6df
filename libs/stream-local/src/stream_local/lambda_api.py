"""Lambda's Invoke API on localhost, so that boto3 and the AWS CLI can invoke local functions.

>>> api = LambdaApiServer(runtime, port=3001).start()                 # doctest: +SKIP
>>> # AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:3001 python -m event_fault_monitor.faults ...

moto creates and describes Lambda functions but runs them only in Docker, so an ``Invoke``
sent to moto fails. This server answers ``Invoke`` (``POST /2015-03-31/functions/{name}/
invocations``) with the runtime's warm workers and forwards every other request
(GetFunction, ListFunctions ...) to moto unchanged. botocore's ``AWS_ENDPOINT_URL_LAMBDA``
sends a client's Lambda calls here while ``AWS_ENDPOINT_URL`` keeps the rest on moto.

How it answers ``Invoke``:

* ``FunctionName`` is a name, ``name:qualifier``, a full ARN or a partial ARN
  (``123456789012:function:name``); the ARN's region and account are not checked. Only
  ``$LATEST`` exists locally (the code on disk), so any other qualifier is not found.
* ``RequestResponse`` (the default): 200 and the function's JSON response. A function error
  is a 200 too, with ``X-Amz-Function-Error: Unhandled`` and the error object as the body.
  ``Event``: 202 at once, then ``Runtime.invoke_async`` (2 retries, then the on-failure
  destination). ``DryRun``: 204, nothing runs.
* Errors come as botocore parses them for Lambda (``x-amzn-ErrorType``, a JSON body with
  ``Type`` and ``message``): an unknown function 404 ResourceNotFoundException, a body that
  is not JSON 400 InvalidRequestContentException, a payload over 6 MB (``Event``: 1 MB) 413
  RequestTooLargeException. An empty body is taken as the event ``{}``. A response over 6 MB
  is a function error (``Function.ResponseSizeTooLarge``), as Lambda makes it.
* ``X-Amz-Log-Type: Tail`` gets no ``LogResult``: a worker's output is read by another
  thread, so it cannot be cut per invocation; it goes to the live log. ``ClientContext`` is
  not passed to the handler.
"""

from __future__ import annotations

import http.client
import json
import re
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from .http_server import LocalHttpServer

if TYPE_CHECKING:
    from .runtime import Runtime

__all__ = ["ASYNC_PAYLOAD_LIMIT", "SYNC_PAYLOAD_LIMIT", "LambdaApiServer", "parse_function_name"]

SYNC_PAYLOAD_LIMIT = 6_291_456  # bytes, request and response of a synchronous invocation
ASYNC_PAYLOAD_LIMIT = 1_048_576  # bytes, the request of an asynchronous one
SOURCE = "lambda:Invoke"  # the source of these invocations in the live log

_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
_FUNCTION_NAME = re.compile(
    r"(?:(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:)?\d{12}:function:)?"  # a full or partial ARN
    r"(?P<name>[A-Za-z0-9_-]{1,64})"
    r"(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?"
)
# Not copied either way: they belong to one connection, or are written anew for each message.
_NOT_COPIED = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "date",
    "server",
}


class ApiError(Exception):
    """An error answer of the Lambda API."""

    def __init__(self, status: int, code: str, message: str, kind: str = "User") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.kind = kind  # Lambda's ``Type``: User or Service


def parse_function_name(text: str) -> tuple[str, str | None]:
    """``(name, qualifier)`` of an Invoke ``FunctionName``; ValueError if it is none."""
    found = _FUNCTION_NAME.fullmatch(text)
    if found is None:
        raise ValueError(f"not a function name or ARN: {text!r}")
    return found["name"], found["qualifier"]


class LambdaApiServer(LocalHttpServer):
    """A threading HTTP server: Invoke through ``runtime``, the rest to moto."""

    thread_name = "lambda-api"

    def __init__(self, runtime: Runtime, *, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host=host, port=port)
        self.runtime = runtime

    # ---- one request --------------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        url = urlsplit(request.path)
        found = _INVOKE_PATH.match(url.path)
        if request.command != "POST" or found is None:
            return self._forward(request, body)
        try:
            status, headers, answer = self._invoke(request, unquote(found["name"]), url.query, body)
        except ApiError as err:
            status, headers, answer = _error(err)
        _send(request, status, headers, answer)

    def _invoke(
        self, request: BaseHTTPRequestHandler, function_name: str, query: str, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        kind = request.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        if kind not in ("RequestResponse", "Event", "DryRun"):
            raise ApiError(400, "InvalidParameterValueException", f"invalid InvocationType {kind}")
        name = self._function(function_name, parse_qs(query).get("Qualifier", [None])[-1])
        limit = ASYNC_PAYLOAD_LIMIT if kind == "Event" else SYNC_PAYLOAD_LIMIT
        if len(body) > limit:
            raise ApiError(
                413,
                "RequestTooLargeException",
                f"Request must be smaller than {limit} bytes for the Invoke operation ({kind})",
            )
        event = _event(body)
        request_id = str(uuid.uuid4())
        if kind == "DryRun":
            return 204, {"x-amzn-RequestId": request_id}, b""
        try:
            if kind == "Event":
                self.runtime.invoke_async(name, event, source=f"{SOURCE} Event")
                return 202, {"x-amzn-RequestId": request_id}, b""
            result = self.runtime.invoke(name, event, source=SOURCE)
        except RuntimeError as err:  # the runtime is stopping
            raise ApiError(500, "ServiceException", str(err), kind="Service") from None
        headers = {
            "Content-Type": "application/json",
            "X-Amz-Executed-Version": "$LATEST",
            "x-amzn-RequestId": result.request_id,
        }
        if not result.ok:
            headers["X-Amz-Function-Error"] = "Unhandled"
            return 200, headers, json.dumps(result.error).encode()
        answer = json.dumps(result.response).encode()
        if len(answer) > SYNC_PAYLOAD_LIMIT:  # Lambda fails the invocation, not the request
            headers["X-Amz-Function-Error"] = "Unhandled"
            error = {
                "errorType": "Function.ResponseSizeTooLarge",
                "errorMessage": "Response payload size exceeded maximum allowed payload size "
                f"({SYNC_PAYLOAD_LIMIT} bytes).",
            }
            return 200, headers, json.dumps(error).encode()
        return 200, headers, answer

    def _function(self, function_name: str, qualifier: str | None) -> str:
        """The deployed function that ``function_name`` (and ``?Qualifier=``) names."""
        try:
            name, named_qualifier = parse_function_name(function_name)
        except ValueError as err:
            raise ApiError(400, "ValidationException", str(err)) from None
        if qualifier and named_qualifier and qualifier != named_qualifier:
            raise ApiError(
                400,
                "InvalidParameterValueException",
                "The derived qualifier from the function name does not match the specified "
                "qualifier.",
            )
        qualifier = qualifier or named_qualifier
        cloud = self.runtime.cloud
        arn = cloud.arn("lambda", f"function:{name}" + (f":{qualifier}" if qualifier else ""))
        if name not in self.runtime.registry.functions():
            raise ApiError(404, "ResourceNotFoundException", f"Function not found: {arn}")
        if qualifier not in (None, "$LATEST"):
            raise ApiError(
                404,
                "ResourceNotFoundException",
                f"Function not found: {arn} (stream-local runs $LATEST only: the code on disk)",
            )
        return name

    def _forward(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        """Send the request to moto as it came and answer with moto's answer."""
        moto = urlsplit(self.runtime.cloud.endpoint)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _NOT_COPIED}
        connection = http.client.HTTPConnection(moto.hostname or "", moto.port, timeout=120)
        try:
            connection.request(request.command, request.path, body=body or None, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            status, reply = response.status, response.getheaders()
        except OSError as err:
            status, headers, answer = _error(
                ApiError(502, "ServiceException", f"moto did not answer: {err}", kind="Service")
            )
            return _send(request, status, headers, answer)
        finally:
            connection.close()
        kept = [(k, v) for k, v in reply if k.lower() not in _NOT_COPIED]
        _send(request, status, kept, answer)


def _event(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body.decode("utf-8"))
    except ValueError as err:  # UnicodeDecodeError is a ValueError too
        raise ApiError(
            400,
            "InvalidRequestContentException",
            f"Could not parse request body into json: {err}",
        ) from None


def _error(err: ApiError) -> tuple[int, dict[str, str], bytes]:
    headers = {
        "Content-Type": "application/json",
        "x-amzn-ErrorType": err.code,
        "x-amzn-RequestId": str(uuid.uuid4()),
    }
    return err.status, headers, json.dumps({"Type": err.kind, "message": err.message}).encode()


def _send(
    request: BaseHTTPRequestHandler,
    status: int,
    headers: Mapping[str, str] | list[tuple[str, str]],
    body: bytes,
) -> None:
    request.send_response(status)
    for key, value in headers.items() if isinstance(headers, Mapping) else headers:
        request.send_header(key, value)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    if request.command != "HEAD":
        request.wfile.write(body)
