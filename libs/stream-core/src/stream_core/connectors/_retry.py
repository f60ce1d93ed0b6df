"""Retry policy shared by connectors: which errors are transient, and jittered backoff."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RETRYABLE_CODES", "RetryPolicy", "is_retryable"]

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


def is_retryable(err: BaseException) -> bool:
    """Whether a boto3 call that raised ``err`` may succeed if tried again."""
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
        return code in RETRYABLE_CODES or status >= 500 or status == 429
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

    def backoff(self, retry: int) -> None:
        """Wait before retry number ``retry`` (0 for the first retry)."""
        ceiling = min(self.max_delay, self.base_delay * (2**retry))
        if ceiling > 0:
            self.sleep(random.uniform(0, ceiling))
