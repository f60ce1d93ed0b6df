"""stream-local: run stream-core services on a local moto server, with Lambda's semantics.

Dev-only, never deployed. ``stream-local up`` starts ``moto_server``, packages and deploys
every service from its own ``serverless.yml`` and delivers events the way AWS would.

>>> from stream_local import LocalSystem                       # doctest: +SKIP
>>> with LocalSystem(["services/event-hub"]) as local:         # doctest: +SKIP
...     local.send({"type": "thing-created", "id": "t-1"})

Public names are imported lazily: the worker processes import this package too, and a
handler's cold start must not pay for boto3 and moto.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Cloud": "cloud",
    "MotoServer": "cloud",
    "package_service": "package",
    "deploy": "deploy",
    "order_services": "deploy",
    "Registry": "registry",
    "Runtime": "runtime",
    "RuntimeOptions": "runtime",
    "Clock": "runtime",
    "wait_for": "runtime",
    "LocalSystem": "local",
    "DeliveryLog": "log",
    "Pattern": "patterns",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'stream_local' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


def __dir__() -> list[str]:
    return [*globals(), *__all__]
