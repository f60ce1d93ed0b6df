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

from ..connectors._retry import is_retryable
from ..connectors.eventbridge import (
    MAX_REQUEST_BYTES,
    EventBridgeConnector,
    FailedEntry,
    entry_size,
)
from ..errors import ConfigurationError, PublishError, RecordError, RetryableError
from ..faults import current_collector
from .claimcheck import (
    DEFAULT_COMPRESS_THRESHOLD,
    ClaimCheck,
    claim_check_from,
    compress_fields,
)
from .concurrency import DEFAULT_MAX_IN_FLIGHT, map_bounded
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
        claim_check: ClaimCheck | None = None,
        compress_threshold: int | None = DEFAULT_COMPRESS_THRESHOLD,
    ) -> None:
        self.bus_name = bus_name
        self.source = source or DEFAULT_SOURCE
        self.connector = connector or EventBridgeConnector()
        #: where events too large for PutEvents go (None: they fail as too large)
        self.claim_check = claim_check
        #: fields over this many bytes of JSON are gzipped (None: never)
        self.compress_threshold = compress_threshold

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
        too_large: list[tuple[int, Mapping[str, Any]]] = []
        for position, event in enumerate(events):
            try:
                if self.compress_threshold is not None:
                    event = compress_fields(event, self.compress_threshold)
                entry = self.entry(event)
            except (TypeError, ValueError, KeyError) as err:
                errors[position] = RecordError(f"event cannot be published: {err!r}")
                continue
            if self.claim_check is not None and entry_size(entry) > MAX_REQUEST_BYTES:
                too_large.append((len(entries), event))
            entries.append(entry)
            positions.append(position)
        if too_large:
            self._check_in(too_large, entries, positions, errors)
        for failure in self.connector.put_events(entries):
            errors[positions[failure.index]] = _as_error(failure)
        return errors

    def _check_in(
        self,
        too_large: list[tuple[int, Mapping[str, Any]]],
        entries: list[dict[str, Any]],
        positions: list[int],
        errors: dict[int, Exception],
    ) -> None:
        """Store the events too large for PutEvents in S3 (concurrently) and put their
        stubs in their entries' place."""
        claim_check = self.claim_check
        assert claim_check is not None

        def store(item: tuple[int, Mapping[str, Any]]) -> dict[str, Any] | Exception:
            try:
                return claim_check.store(item[1])
            except Exception as err:
                return err

        for (index, _), stub in zip(
            too_large, map_bounded(store, too_large, DEFAULT_MAX_IN_FLIGHT), strict=True
        ):
            if isinstance(stub, Exception):
                retryable = isinstance(stub, RetryableError) or is_retryable(stub)
                message = f"claim check failed: {stub}"
                errors[positions[index]] = (
                    PublishError(message) if retryable else RecordError(message)
                )
                entries[index] = {}  # placeholder, skipped below
            else:
                entries[index] = self.entry(stub)
        kept = [i for i, entry in enumerate(entries) if entry]
        entries[:] = [entries[i] for i in kept]
        positions[:] = [positions[i] for i in kept]


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
    claim_check_bucket: str | None = None,
    compress_threshold: int | None = DEFAULT_COMPRESS_THRESHOLD,
    **_: Any,
) -> Callable[[Observable[dict[str, Any]]], Observable[dict[str, Any]]]:
    """Operator that publishes ``uow[event_field]`` of each UOW to the bus.

    Large fields are compressed and events too large for PutEvents go through the claim
    check (``claim_check_bucket``, else ``CLAIM_CHECK_BUCKET_NAME``): see
    ``stream_core.utils.claimcheck``. Extra keyword arguments (rule fields passed along by
    flavors) are ignored.
    """
    publisher = publisher or EventBridgePublisher(
        bus_name,
        source=source,
        connector=connector,
        claim_check=claim_check_from({"claim_check_bucket": claim_check_bucket}),
        compress_threshold=compress_threshold,
    )
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
