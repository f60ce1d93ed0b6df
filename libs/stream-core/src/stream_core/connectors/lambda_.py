"""Lambda connector: ``Invoke`` with a JSON payload, retries and a clear function error.

* the payload is encoded with ``stream_core.utils.json.dumps`` (Decimal, sets, datetimes
  and bytes are handled); ``bytes`` are sent as they are;
* throttling, 5xx and functions not ready yet are retried with jittered backoff, then raised
  as ``RetryableError``; other errors (missing function, payload too large ...) at once;
* a function that fails (``FunctionError``) raises ``LambdaFunctionError``, a
  ``RecordError`` carrying the function's error payload: the record becomes a fault.

An invocation is at least once: a retried request may run the function again. The default
client waits up to 15 minutes for an answer (Lambda's longest run), so a slow function is
not taken for a timeout and invoked twice.

>>> functions = LambdaConnector()                       # client created on first call
>>> functions.invoke("resize-image", {"key": "a.png"})  # doctest: +SKIP
{'ok': True}
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any, Literal

from ..errors import RecordError
from ..utils.concurrency import DEFAULT_MAX_IN_FLIGHT
from ..utils.json import dumps
from ._client import LazyClient
from ._retry import RETRYABLE_CODES, Caller, RetryPolicy

__all__ = ["RETRYABLE_LAMBDA_CODES", "LambdaConnector", "LambdaFunctionError"]

#: Lambda's own transient codes on top of the shared ones.
RETRYABLE_LAMBDA_CODES = RETRYABLE_CODES | {
    "ServiceException",
    "ResourceNotReadyException",
    "EC2ThrottledException",
    "ENILimitReachedException",
}

InvocationType = Literal["RequestResponse", "Event", "DryRun"]


class LambdaFunctionError(RecordError):
    """The invoked function failed: ``kind`` is Lambda's ``FunctionError`` (``Handled`` or
    ``Unhandled``) and ``error`` the function's error payload (``errorMessage``,
    ``errorType``, ``stackTrace`` ...)."""

    def __init__(self, function_name: str, kind: str, error: Any) -> None:
        self.function_name = function_name
        self.kind = kind
        self.error = error
        if isinstance(error, dict):
            detail = f"{error.get('errorType', 'Error')}: {error.get('errorMessage', '')}"
        else:
            detail = str(error)
        super().__init__(f"function {function_name} failed ({kind}): {detail}")


@cache
def _default_config() -> Any:
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=5,
        read_timeout=905,
        max_pool_connections=32,
    )


class LambdaConnector:
    """Invokes Lambda functions.

    ``client`` defaults to the process-wide ``lambda`` client (created on first use, with a
    read timeout longer than any function's run); ``retry`` sets the retry of transient
    errors. ``calls`` counts the Invoke requests made by this connector.
    ``max_in_flight`` is kept for the common connector signature (one call per ``invoke``).
    """

    client = LazyClient("lambda", _default_config)

    def __init__(
        self,
        *,
        client: Any = None,
        config: Any = None,
        retry: RetryPolicy | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    ) -> None:
        self.max_in_flight = max_in_flight
        self._client = client
        self._config = config
        self._caller = Caller(retry or RetryPolicy(), RETRYABLE_LAMBDA_CODES)

    @property
    def calls(self) -> int:
        """Invoke requests made so far (retries included)."""
        return self._caller.calls

    def invoke(
        self,
        function_name: str,
        payload: Any = None,
        invocation_type: InvocationType = "RequestResponse",
        **kwargs: Any,
    ) -> Any:
        """Invoke ``function_name`` with ``payload``; the function's result decoded from
        JSON for ``RequestResponse``, ``{}`` for ``Event`` and ``DryRun`` (no result).

        ``kwargs`` are Invoke's (Qualifier, ClientContext, LogType).
        """
        body = payload if isinstance(payload, (bytes, bytearray)) else dumps(payload).encode()

        def invoke() -> dict[str, Any]:  # the read is retried with the request
            response = self.client.invoke(
                FunctionName=function_name,
                InvocationType=invocation_type,
                Payload=body,
                **kwargs,
            )
            stream = response.get("Payload")
            return {**response, "Payload": stream.read() if stream is not None else b""}

        response = self._caller(invoke)
        result = _decode(response["Payload"])
        if response.get("FunctionError"):
            raise LambdaFunctionError(function_name, response["FunctionError"], result)
        if invocation_type != "RequestResponse":
            return {}
        return result


def _decode(data: bytes) -> Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace")
