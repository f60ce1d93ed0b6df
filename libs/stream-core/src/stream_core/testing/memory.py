"""In-memory stand-ins for unit tests that need no AWS at all.

``MemoryPublisher`` records what a pipeline publishes; pass it in the options:

>>> bus = MemoryPublisher()
>>> options = {**DEFAULT_OPTIONS, **bus.options()}          # doctest: +SKIP
>>> ... assemble ...
>>> bus.events, bus.faults                                  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from ..utils.eventbridge import publish_to_event_bridge

__all__ = ["MemoryPublisher"]


class _MemoryEventBridge:
    """Quacks like ``EventBridgePublisher``: keeps events instead of putting them."""

    def __init__(self, sink: MemoryPublisher) -> None:
        self._sink = sink

    def publish(self, events: Sequence[Mapping[str, Any]]) -> dict[int, Exception]:
        with self._sink._lock:
            self._sink.events.extend(dict(e) for e in events)
        return {}


class MemoryPublisher:
    """Collects published events and fault events in lists."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.faults: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def publish(self, params: Mapping[str, Any]) -> Any:
        """Drop-in for ``options["publish"]``."""
        return publish_to_event_bridge(**{**params, "publisher": _MemoryEventBridge(self)})

    def publish_faults(self, faults: Sequence[Mapping[str, Any]]) -> dict[int, Exception]:
        """Drop-in for ``options["fault_publisher"]``."""
        with self._lock:
            self.faults.extend(dict(f) for f in faults)
        return {}

    def options(self) -> dict[str, Any]:
        """The options that route publishing and faults here."""
        return {"publish": self.publish, "fault_publisher": self.publish_faults}

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        """Published events of ``event_type``."""
        return [e for e in self.events if e.get("type") == event_type]
