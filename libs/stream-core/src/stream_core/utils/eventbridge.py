"""Publishing events to the EventBridge bus: the operator flavors use, and fault publishing.

``publish_to_event_bridge(bus_name=..., event_field="emit")`` is an operator: it collects
the UOWs of a rule, puts their ``uow[event_field]`` events on the bus in batched, concurrent
``PutEvents`` requests (see ``EventBridgeConnector``), then passes on the UOWs whose events
were published. A UOW whose event could not be published:

* non-retryable (entry too large, malformed detail, not serializable) -> a fault event;
* retryable (throttling, 5xx, outage) after the connector's retries -> its record goes to
  the partial batch response so Lambda delivers it again.

UOWs without ``uow[event_field]`` pass through untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reactivex import Observable, abc

from ..connectors.eventbridge import EventBridgeConnector, FailedEntry
from ..errors import ConfigurationError, PublishError, RecordError
from ..faults import current_collector
from .json import dumps

__all__ = ["EventBridgePublisher", "publish_to_event_bridge"]

DEFAULT_SOURCE = "custom"


class EventBridgePublisher:
    """Turns events into PutEvents entries for one bus and puts them."""

    def __init__(
        self,
        bus_name: str | None,
        *,
        source: str | None = None,
        connector: EventBridgeConnector | None = None,
    ) -> None:
        self.bus_name = bus_name
        self.source = source or DEFAULT_SOURCE
        self.connector = connector or EventBridgeConnector()

    def entry(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The PutEvents entry of ``event`` (raises ``TypeError`` if it is not JSON-able)."""
        return {
            "EventBusName": self.bus_name,
            "Source": self.source,
            "DetailType": event["type"],
            "Detail": dumps(event),
        }

    def publish(self, events: Sequence[Mapping[str, Any]]) -> dict[int, Exception]:
        """Publish ``events``; return the errors of those that failed, by position."""
        if not events:
            return {}
        if not self.bus_name:
            raise ConfigurationError(
                "no event bus: set BUS_NAME in the function's environment or pass "
                "options['bus_name']"
            )
        errors: dict[int, Exception] = {}
        entries: list[dict[str, Any]] = []
        positions: list[int] = []
        for position, event in enumerate(events):
            try:
                entries.append(self.entry(event))
            except (TypeError, ValueError, KeyError) as err:
                errors[position] = RecordError(f"event cannot be published: {err!r}")
                continue
            positions.append(position)
        for failure in self.connector.put_events(entries):
            errors[positions[failure.index]] = _as_error(failure)
        return errors


def _as_error(failure: FailedEntry) -> Exception:
    message = f"PutEvents failed: {failure.code}: {failure.message}"
    return PublishError(message) if failure.retryable else RecordError(message)


def publish_to_event_bridge(
    bus_name: str | None = None,
    source: str | None = None,
    event_field: str = "event",
    connector: EventBridgeConnector | None = None,
    logger: logging.Logger | Any = None,
    publisher: EventBridgePublisher | None = None,
    **_: Any,
) -> Callable[[Observable[dict[str, Any]]], Observable[dict[str, Any]]]:
    """Operator that publishes ``uow[event_field]`` of each UOW to the bus.

    Extra keyword arguments (rule fields passed along by flavors) are ignored.
    """
    publisher = publisher or EventBridgePublisher(bus_name, source=source, connector=connector)
    log = logger or logging.getLogger("stream_core.publish")

    def operator(source_: Observable[dict[str, Any]]) -> Observable[dict[str, Any]]:
        def subscribe(
            observer: abc.ObserverBase[dict[str, Any]], scheduler: Any = None
        ) -> abc.DisposableBase:
            pending: list[dict[str, Any]] = []

            def on_next(uow: dict[str, Any]) -> None:
                if uow.get(event_field) is None:
                    observer.on_next(uow)
                else:
                    pending.append(uow)

            def on_completed() -> None:
                try:
                    errors = publisher.publish([uow[event_field] for uow in pending])
                except Exception as err:  # configuration errors: fail the invocation
                    observer.on_error(err)
                    return
                collector = current_collector()
                for position, uow in enumerate(pending):
                    failure = errors.get(position)
                    if failure is None:
                        observer.on_next(uow)
                    elif collector is None:
                        observer.on_error(failure)
                        return
                    else:
                        collector.report(uow, failure)
                if errors and log.isEnabledFor(logging.WARNING):
                    log.warning("%d of %d events not published", len(errors), len(pending))
                observer.on_completed()

            return source_.subscribe(on_next, observer.on_error, on_completed, scheduler=scheduler)

        return Observable(subscribe)

    return operator
