"""Fault-tolerant ReactiveX operators: one bad record never ends the stream.

``rx_map`` and ``rx_filter`` behave like ``reactivex.operators.map``/``filter`` except
that an exception raised by the callback for one item is reported as a fault for that
item (see ``stream_core.faults``) and the stream goes on with the next item. A
``ConfigurationError`` is not a record's fault: it goes to ``on_error`` and fails the
invocation. Outside ``StreamPipeline.assemble`` (no fault collector) errors also go to
``on_error``, so nothing is silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from reactivex import Observable, abc

from ..errors import ConfigurationError
from ..faults import current_collector
from .concurrency import DEFAULT_MAX_IN_FLIGHT, map_bounded

__all__ = ["identity", "rx_filter", "rx_map", "rx_map_io", "split_buffer", "tap"]

T = TypeVar("T")
R = TypeVar("R")
Operator = Callable[[Observable[Any]], Observable[Any]]


def _fault(observer: abc.ObserverBase[Any], item: Any, err: Exception) -> None:
    collector = current_collector()
    if collector is None or isinstance(err, ConfigurationError):
        observer.on_error(err)
        return
    uow = getattr(err, "uow", None)
    collector.report(uow if isinstance(uow, dict) else item, err)


def rx_map(mapper: Callable[[T], R]) -> Callable[[Observable[T]], Observable[R]]:
    """Map each item with ``mapper``; a failing item becomes a fault and is skipped."""

    def operator(source: Observable[T]) -> Observable[R]:
        def subscribe(observer: abc.ObserverBase[R], scheduler: Any = None) -> abc.DisposableBase:
            def on_next(item: T) -> None:
                try:
                    result = mapper(item)
                except Exception as err:
                    _fault(observer, item, err)
                else:
                    observer.on_next(result)

            return source.subscribe(
                on_next, observer.on_error, observer.on_completed, scheduler=scheduler
            )

        return Observable(subscribe)

    return operator


def rx_filter(predicate: Callable[[T], Any]) -> Callable[[Observable[T]], Observable[T]]:
    """Keep the items for which ``predicate`` is truthy; a failing item becomes a fault."""

    def operator(source: Observable[T]) -> Observable[T]:
        def subscribe(observer: abc.ObserverBase[T], scheduler: Any = None) -> abc.DisposableBase:
            def on_next(item: T) -> None:
                try:
                    keep = predicate(item)
                except Exception as err:
                    _fault(observer, item, err)
                    return
                if keep:
                    observer.on_next(item)

            return source.subscribe(
                on_next, observer.on_error, observer.on_completed, scheduler=scheduler
            )

        return Observable(subscribe)

    return operator


def rx_map_io(
    mapper: Callable[[T], R], max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
) -> Callable[[Observable[T]], Observable[R]]:
    """Like ``rx_map`` for I/O-bound mappers: calls run concurrently, ``max_in_flight`` at a
    time, once the upstream completes (a Lambda batch is finite); results keep input order.

    Each item's exception is that item's fault; a ``ConfigurationError`` fails the stream.
    Worker threads are joined before the operator completes.
    """

    def operator(source: Observable[T]) -> Observable[R]:
        def subscribe(observer: abc.ObserverBase[R], scheduler: Any = None) -> abc.DisposableBase:
            pending: list[T] = []

            def attempt(item: T) -> tuple[bool, Any]:
                try:
                    return True, mapper(item)
                except Exception as err:
                    return False, err

            def on_completed() -> None:
                outcomes = map_bounded(attempt, pending, max_in_flight)
                for item, (ok, value) in zip(pending, outcomes, strict=True):
                    if ok:
                        observer.on_next(value)
                    else:
                        _fault(observer, item, value)
                        if isinstance(value, ConfigurationError) or current_collector() is None:
                            return
                observer.on_completed()

            return source.subscribe(
                pending.append, observer.on_error, on_completed, scheduler=scheduler
            )

        return Observable(subscribe)

    return operator


def split_buffer() -> Callable[[Observable[Iterable[T]]], Observable[T]]:
    """Flatten a stream of lists into a stream of their items."""

    def operator(source: Observable[Iterable[T]]) -> Observable[T]:
        def subscribe(observer: abc.ObserverBase[T], scheduler: Any = None) -> abc.DisposableBase:
            def on_next(items: Iterable[T]) -> None:
                for item in items:
                    observer.on_next(item)

            return source.subscribe(
                on_next, observer.on_error, observer.on_completed, scheduler=scheduler
            )

        return Observable(subscribe)

    return operator


def tap(action: Callable[[T], Any]) -> Callable[[Observable[T]], Observable[T]]:
    """Call ``action`` for each item and pass the item on; a failing item becomes a fault."""

    def check(item: T) -> bool:
        action(item)
        return True

    return rx_filter(check)


def identity(source: Observable[T]) -> Observable[T]:
    """The do-nothing operator, for steps a rule does not use."""
    return source
