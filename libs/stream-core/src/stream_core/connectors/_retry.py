"""Retry policy shared by connectors: which errors are transient, and jittered backoff.

``Caller`` applies a policy to single requests (GetItem, PutObject, Invoke ...) and counts
them; ``BatchWriter`` applies it to the entries of batched writes.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..errors import ConfigurationError, RetryableError

__all__ = ["RETRYABLE_CODES", "Caller", "RetryPolicy", "is_retryable"]

T = TypeVar("T")

#: Error codes (request-level or per entry) that a later attempt can fix.
RETRYABLE_CODES = frozenset(
    {
        "InternalFailure",
        "InternalError",
        "InternalException",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "KMSThrottlingException",
        "LimitExceededException",
    }
)


def is_retryable(err: BaseException, codes: frozenset[str] = RETRYABLE_CODES) -> bool:
    """Whether a boto3 call that raised ``err`` may succeed if tried again.

    ``codes`` are the error codes taken as transient (besides any 5xx and 429).
    """
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    if isinstance(err, ClientError):
        code = err.response.get("Error", {}).get("Code", "")
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in codes or status >= 500 or status == 429
    return isinstance(
        err, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)
    )


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry the entries of a batch that failed transiently.

    ``max_attempts`` counts the first try. Delays use "full jitter": a uniform random wait
    in ``[0, min(max_delay, base_delay * 2**retry)]`` so concurrent Lambdas spread out.
    """

    max_attempts: int = 4
    base_delay: float = 0.05
    max_delay: float = 2.0
    sleep: Callable[[float], Any] = field(default=time.sleep, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigurationError(f"max_attempts must be at least 1, not {self.max_attempts}")

    def backoff(self, retry: int) -> None:
        """Wait before retry number ``retry`` (0 for the first retry)."""
        ceiling = min(self.max_delay, self.base_delay * (2**retry))
        if ceiling > 0:
            self.sleep(random.uniform(0, ceiling))


class Caller:
    """Makes single AWS requests under a ``RetryPolicy`` and counts them (thread-safe).

    A transient error (``is_retryable``) is retried with the policy's backoff; when it
    outlives the policy's attempts it is raised as ``RetryableError`` (its ``__cause__`` is
    the last error), so the record is redelivered. Any other error is raised at once.

    >>> caller = Caller(RetryPolicy())
    >>> caller(client.get_item, TableName="t", Key=key)   # doctest: +SKIP
    >>> caller.calls                                      # doctest: +SKIP
    1
    """

    def __init__(self, retry: RetryPolicy, codes: frozenset[str] = RETRYABLE_CODES) -> None:
        self.retry = retry
        self.codes = codes
        self.calls = 0
        self._lock = threading.Lock()

    def count(self) -> None:
        """Count one request made outside ``__call__``."""
        with self._lock:
            self.calls += 1

    def __call__(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        attempts = self.retry.max_attempts
        for attempt in range(attempts):
            if attempt:
                self.retry.backoff(attempt - 1)
            self.count()
            try:
                return function(*args, **kwargs)
            except Exception as err:
                if not is_retryable(err, self.codes):
                    raise
                if attempt == attempts - 1:
                    name = getattr(function, "__name__", "request")
                    raise RetryableError(f"{name} failed after {attempts} attempts: {err}") from err
        raise AssertionError("unreachable: RetryPolicy.max_attempts must be >= 1")
