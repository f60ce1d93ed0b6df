"""One boto3 client per (service, region, endpoint, config) per process, created lazily.

Creating a client costs tens of milliseconds; Lambda keeps the process warm between
invocations, so clients are created on first use and reused. boto3 itself honours
``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` (the local runtime points them at
moto). boto3 is imported here, on first use, not when a handler module is imported.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["LazyClient", "default_config", "shared_client"]

_lock = threading.Lock()
_clients: dict[tuple[Any, ...], Any] = {}

#: botocore's names for ``AWS_ENDPOINT_URL_<NAME>`` where they are not the client name's
_ENDPOINT_NAMES = {"events": "EVENTBRIDGE", "secretsmanager": "SECRETS_MANAGER"}


def default_config() -> Any:
    """botocore ``Config`` for connectors: standard retries (throttling and 5xx) and
    timeouts that fail fast enough for a Lambda; pool sized for concurrent batches."""
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=32,
    )


def shared_client(service: str, config: Any = None) -> Any:
    """The process-wide client for ``service`` with ``config`` (default: ``default_config``).

    The cache key includes the region and endpoint taken from the environment now, so a test
    that points ``AWS_ENDPOINT_URL`` elsewhere gets a fresh client.
    """
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    name = _ENDPOINT_NAMES.get(service, service.upper())
    endpoint = os.environ.get(f"AWS_ENDPOINT_URL_{name}") or os.environ.get("AWS_ENDPOINT_URL")
    key = (service, region, endpoint, id(config))
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                import boto3

                client = boto3.session.Session().client(
                    service, region_name=region, config=config or default_config()
                )
                _clients[key] = client
    return client


class LazyClient:
    """A connector's ``client``: the one it was given (its ``_client``), else the shared
    client of ``service`` with its ``_config`` (or ``config()``), made on first use.

    >>> class QueueConnector:
    ...     client = LazyClient("sqs")
    ...     def __init__(self, client=None, config=None):
    ...         self._client, self._config = client, config
    """

    def __init__(self, service: str, config: Callable[[], Any] | None = None) -> None:
        self.service = service
        self.config = config

    def __get__(self, connector: Any, owner: type | None = None) -> Any:
        if connector is None:
            return self
        if connector._client is None:
            config = connector._config
            if config is None and self.config is not None:
                config = self.config()
            connector._client = shared_client(self.service, config)
        return connector._client
