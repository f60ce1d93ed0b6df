"""``DEFAULT_OPTIONS``: what a pipeline uses unless the handler overrides it.

=====================  ======================================================================
key                    default
=====================  ======================================================================
``logger``             the standard root logger (``stream_handler`` uses Powertools')
``bus_name``           ``BUS_NAME`` from the environment
``source``             ``BUS_SRC`` from the environment, else ``"custom"`` (PutEvents Source)
``publish``            ``publish(params) -> operator`` putting events on EventBridge
``redact``             dot paths of event fields replaced by ``[REDACTED]`` in faults
``max_in_flight``      concurrent AWS requests per batch (16)
``metrics``            per-rule EMF metrics: on when ``STREAM_CORE_METRICS`` is ``1``, ``true``,
                       ``yes`` or ``on`` (see ``stream_core.pipelines.metrics``), else off
``metrics_namespace``  ``POWERTOOLS_METRICS_NAMESPACE`` (unset: ``"stream-core"``)
=====================  ======================================================================

The environment is read when an option is looked up (``{**DEFAULT_OPTIONS}`` reads it
then), not frozen when this module is imported, so a test or a warm container that sets
``BUS_NAME`` later is honoured.

>>> options = {**DEFAULT_OPTIONS, "bus_name": "my-event-bus"}
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .eventbridge import publish_to_event_bridge

__all__ = ["DEFAULT_OPTIONS", "publish"]


def publish(params: Mapping[str, Any]) -> Callable[[Any], Any]:
    """The default publisher: ``publish({"bus_name": ..., "event_field": "emit"})``."""
    return publish_to_event_bridge(**params)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


class _DefaultOptions(Mapping[str, Any]):
    """Read-only options whose environment-backed values are read on lookup."""

    _static: Mapping[str, Any] = {
        "publish": publish,
        "redact": (),
        "max_in_flight": 16,
    }
    _from_env: Mapping[str, Callable[[], Any]] = {
        "logger": lambda: logging.getLogger(),
        "bus_name": lambda: os.environ.get("BUS_NAME"),
        "source": lambda: os.environ.get("BUS_SRC") or "custom",
        "claim_check_bucket": lambda: os.environ.get("CLAIM_CHECK_BUCKET_NAME"),
        "metrics": lambda: _flag(os.environ.get("STREAM_CORE_METRICS")),
        "metrics_namespace": lambda: os.environ.get("POWERTOOLS_METRICS_NAMESPACE"),
    }

    def __getitem__(self, key: str) -> Any:
        if key in self._from_env:
            return self._from_env[key]()
        return self._static[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._from_env
        yield from self._static

    def __len__(self) -> int:
        return len(self._from_env) + len(self._static)

    def __repr__(self) -> str:
        return f"DEFAULT_OPTIONS({dict(self)!r})"


DEFAULT_OPTIONS: Mapping[str, Any] = _DefaultOptions()
