"""Secrets Manager connector: ``GetSecretValue`` cached on the connector for a TTL.

A Lambda reads the same secrets on every invocation; keeping one connector per process
(e.g. made when the handler module is imported) means Secrets Manager is asked once per
``ttl`` (default 5 minutes) per secret, and a rotated secret is seen within that time.

* a JSON object secret comes back as a ``dict``, any other text as ``str``, a binary
  secret as ``bytes``;
* throttling and 5xx are retried with jittered backoff, then raised as ``RetryableError``;
  other errors (missing secret, access denied) at once, and nothing is cached.

>>> secrets = SecretsConnector()                        # client created on first call
>>> secrets.get_secret("prod/orders/api")["token"]      # doctest: +SKIP
's3cr3t'
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from ..utils.concurrency import DEFAULT_MAX_IN_FLIGHT
from ._client import LazyClient
from ._retry import Caller, RetryPolicy

__all__ = ["DEFAULT_TTL", "SecretsConnector"]

DEFAULT_TTL = 300.0

Secret = str | dict[str, Any] | bytes


class SecretsConnector:
    """Reads secrets from Secrets Manager, each cached for ``ttl`` seconds.

    ``clock`` (seconds, monotonic) is injectable for tests. ``client`` defaults to the
    process-wide ``secretsmanager`` client (created on first use); ``retry`` sets the retry
    of transient errors. ``calls`` counts the GetSecretValue requests made.
    ``max_in_flight`` is kept for the common connector signature.
    """

    client = LazyClient("secretsmanager")

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
        client: Any = None,
        config: Any = None,
        retry: RetryPolicy | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    ) -> None:
        self.ttl = ttl
        self.max_in_flight = max_in_flight
        self._clock = clock
        self._client = client
        self._config = config
        self._caller = Caller(retry or RetryPolicy())
        self._cache: dict[tuple[str, str | None], tuple[float, Secret]] = {}
        self._lock = threading.Lock()

    @property
    def calls(self) -> int:
        """GetSecretValue requests made so far (retries included)."""
        return self._caller.calls

    def get_secret(
        self, secret_id: str, *, version_stage: str | None = None, refresh: bool = False
    ) -> Secret:
        """The value of ``secret_id`` (name or ARN), from the cache while it is fresh.

        ``refresh=True`` asks Secrets Manager again (e.g. after the secret was refused).
        """
        key = (secret_id, version_stage)
        now = self._clock()
        if not refresh:
            with self._lock:
                cached = self._cache.get(key)
            if cached is not None and cached[0] > now:
                return cached[1]
        params = {"SecretId": secret_id}
        if version_stage:
            params["VersionStage"] = version_stage
        response = self._caller(self.client.get_secret_value, **params)
        value = _value(response)
        with self._lock:
            self._cache[key] = (now + self.ttl, value)
        return value

    def invalidate(self, secret_id: str | None = None) -> None:
        """Forget ``secret_id`` (every stage of it), or every secret."""
        with self._lock:
            if secret_id is None:
                self._cache.clear()
            else:
                for key in [key for key in self._cache if key[0] == secret_id]:
                    del self._cache[key]


def _value(response: dict[str, Any]) -> Secret:
    if "SecretString" not in response:
        return bytes(response["SecretBinary"])
    text: str = response["SecretString"]
    if text.lstrip().startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            return text
        if isinstance(parsed, dict):
            return parsed
    return text
