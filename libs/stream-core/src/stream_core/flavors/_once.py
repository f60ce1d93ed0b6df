"""Emit once per trigger: the events table's ``EMITTED`` markers (evaluate, expired).

Lambda redelivers a stream batch after an error or a partial batch response, so a flavor
that derives events from stream records sees the same record again. ``emit_once`` makes
that harmless: before publishing, the emitted ids already marked in the table are skipped
(one ``BatchGetItem`` per batch); after publishing, each published id is marked
(``{pk: id, sk: "EMITTED"}``, one ``BatchWriteItem``). Only a crash between the publish
and the marker can repeat an event, with the same id, so consumers can still deduplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from reactivex import Observable, abc, from_iterable

from ._events_table import EMITTED
from ._steps import Operator

__all__ = ["emit_once"]

log = logging.getLogger("stream_core.once")

#: ``(uow) -> epoch seconds`` for the marker's ``ttl`` (``None``: kept until deleted)
MarkerTtl = Callable[[Mapping[str, Any]], "int | None"]


def emit_once(table: Any, publish_op: Operator, marker_ttl: MarkerTtl) -> Operator:
    """``publish_op`` for the UOWs whose ``emit`` id is not marked yet; then mark them.

    The UOWs of the batch are gathered first (the check is one request for all of them).
    A failed check fails the batch, so Lambda redelivers it rather than risk a repeat.
    """

    def operator(source: Observable[Any]) -> Observable[Any]:
        def subscribe(observer: abc.ObserverBase[Any], scheduler: Any = None) -> Any:
            pending: list[dict[str, Any]] = []

            def on_completed() -> None:
                try:
                    fresh = _not_yet_emitted(table, pending)
                except Exception as err:  # cannot tell: let Lambda redeliver the batch
                    observer.on_error(err)
                    return
                published: list[dict[str, Any]] = []

                def mark_and_complete() -> None:
                    _mark(table, published, marker_ttl)
                    observer.on_completed()

                def passed(uow: dict[str, Any]) -> None:
                    published.append(uow)
                    observer.on_next(uow)

                from_iterable(fresh).pipe(publish_op).subscribe(
                    passed, observer.on_error, mark_and_complete
                )

            return source.subscribe(pending.append, observer.on_error, on_completed)

        return Observable(subscribe)

    return operator


def _marker_key(uow: Mapping[str, Any]) -> dict[str, str]:
    return {"pk": str(uow["emit"]["id"]), "sk": EMITTED}


def _not_yet_emitted(table: Any, uows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not uows:
        return []
    found = table.batch_get([_marker_key(uow) for uow in uows], ConsistentRead=True)
    done = {item["pk"] for item in found}
    return [uow for uow in uows if str(uow["emit"]["id"]) not in done]


def _mark(table: Any, uows: list[dict[str, Any]], marker_ttl: MarkerTtl) -> None:
    if not uows:
        return
    markers: dict[str, dict[str, Any]] = {}
    for uow in uows:
        key = _marker_key(uow)
        ttl = marker_ttl(uow)
        markers[key["pk"]] = {**key, "discriminator": EMITTED, **({"ttl": ttl} if ttl else {})}
    failed = table.batch_write(puts=list(markers.values()))
    if failed:  # the events went out; only a redelivery could now repeat them (same ids)
        log.warning("%d emitted-markers not written: %s", len(failed), failed[0].message)
