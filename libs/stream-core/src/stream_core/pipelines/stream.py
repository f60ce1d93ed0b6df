"""StreamPipeline: run a batch of UOWs through every rule, then settle the faults.

One ``assemble`` call is one invocation:

1. a ``FaultCollector`` is created and made current (no module-level state);
2. malformed UOWs become faults at once; the others are *routed*: each rule receives only
   the UOWs whose event type it matches (rules are indexed by type, so ten rules cost
   about one lookup per UOW, not ten filters), each as its own shallow copy carrying
   ``pipeline`` (the batch is never deep-copied);
3. a rule with a ``schema`` gets only the UOWs whose event is valid (the others become
   faults; see ``pipelines.validation``);
4. each rule's operator runs over its UOWs; with ``concurrency=True`` rules run on worker
   threads (I/O of one rule overlaps another's), joined before ``assemble`` returns;
5. fault events are published; a fault that cannot be published hands its record back
   for the partial batch response;
6. with ``options["metrics"]`` on, one EMF metrics line per rule is printed (see
   ``pipelines.metrics``).

An error that reaches a rule's ``on_error`` (a configuration error, or an exception outside
``rx_map``/``rx_filter``) is not a record's fault: ``assemble`` re-raises it (after all rules
finished) unless an ``on_error`` callback was given, and no fault is published, since Lambda
will deliver the whole batch again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import reactivex

from ..batch import partial_batch_response
from ..errors import ConfigurationError
from ..faults import FaultCollector, report_fault
from ..utils.claimcheck import claim_check_from
from ..utils.concurrency import map_bounded
from ..utils.eventbridge import EventBridgePublisher
from ..utils.filters import ROUTED
from ..utils.opt import DEFAULT_OPTIONS
from .metrics import emit_metrics, metrics_enabled
from .rules import Pipeline

__all__ = ["BatchResult", "StreamPipeline"]

log = logging.getLogger("stream_core.pipeline")

OnNext = Callable[[str, dict[str, Any]], Any]
OnError = Callable[[str, BaseException], Any]
OnCompleted = Callable[[str], Any]


@dataclass
class BatchResult:
    """What happened to a batch: its faults and the records Lambda must deliver again.

    Per rule id: ``inputs`` (UOWs routed to the rule), ``outputs`` (UOWs it emitted) and
    ``durations`` (milliseconds the rule took over the batch; absent for idle rules).
    """

    uows: int = 0
    inputs: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, int] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)
    unpublished_faults: list[dict[str, Any]] = field(default_factory=list)
    retry_records: list[dict[str, Any]] = field(default_factory=list)

    def response(self, records: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
        """The partial batch response for the invocation's ``records`` (see ``batch``)."""
        return partial_batch_response(records, self.retry_records)


class StreamPipeline:
    """Runs rules (from ``initialize_from``) over UOWs.

    >>> StreamPipeline(initialize_from(rules), DEFAULT_OPTIONS).assemble(from_kinesis(event))
    ... # doctest: +SKIP

    ``options`` are merged under each rule's own fields when its operator is built.
    ``options["fault_publisher"]``, if set, replaces EventBridge for faults: a callable
    ``(fault_events) -> {position: error}`` returning the faults it could not publish.
    """

    def __init__(
        self,
        pipelines: Mapping[str, Any],
        options: Mapping[str, Any] = DEFAULT_OPTIONS,
        concurrency: bool = True,
        *,
        max_workers: int = 8,
    ) -> None:
        self.pipelines = dict(pipelines)
        self.options = options
        self.concurrency = concurrency
        self.max_workers = max_workers
        self._by_type: dict[str, list[str]] = {}
        self._dynamic: list[tuple[str, Callable[[Any], Any]]] = []
        self._everything: list[str] = []
        for pipeline_id, pipeline in self.pipelines.items():
            # a rule without event_type, or a hand-made factory, sees (and filters) everything
            matcher = pipeline.matcher if isinstance(pipeline, Pipeline) else None
            if matcher is None:
                self._everything.append(pipeline_id)
            elif matcher.types is not None:
                for event_type in matcher.types:
                    self._by_type.setdefault(event_type, []).append(pipeline_id)
            else:
                self._dynamic.append((pipeline_id, matcher))

    def assemble(
        self,
        uows: Iterable[dict[str, Any]],
        on_next: OnNext | None = None,
        on_error: OnError | None = None,
        on_completed: OnCompleted | None = None,
    ) -> BatchResult:
        """Process ``uows``; call ``on_next(pipeline_id, uow)`` for each UOW a rule outputs."""
        options = dict(self.options)  # environment-backed defaults are read now
        collector = FaultCollector(redact=options.get("redact") or ())
        result = BatchResult()
        with collector.activate():
            routes = self._route(uows, collector, result)
            errors = self._run(routes, options, on_next, on_completed, result)
        if errors:
            if on_error is None:
                raise errors[0][1]
            for pipeline_id, err in errors:
                on_error(pipeline_id, err)
        result.faults = collector.faults
        result.retry_records = collector.retry_records
        logger = options.get("logger") or log
        for pipeline_id, event_id, err in collector.retry_reasons:
            logger.warning(
                "record to retry in %s: %s: %s",
                pipeline_id,
                type(err).__name__,
                err,
                extra={"pipeline": pipeline_id, "event_id": event_id},
            )
        self._publish_faults(options, result, logger)
        if metrics_enabled(options):
            emit_metrics(result, options, logger)
        return result

    def _route(
        self, uows: Iterable[dict[str, Any]], collector: FaultCollector, result: BatchResult
    ) -> dict[str, list[dict[str, Any]]]:
        routes: dict[str, list[dict[str, Any]]] = {pid: [] for pid in self.pipelines}
        dynamic = self._dynamic
        everything = [routes[pid] for pid in self._everything]
        indexed = {
            event_type: [routes[pid] for pid in pids] for event_type, pids in self._by_type.items()
        }
        count = 0
        for uow in uows:
            count += 1
            event = uow.get("event")
            if event is None:
                collector.report(uow, uow.get("malformed") or ValueError("UOW without event"))
                continue
            for route in indexed.get(event.get("type"), ()):
                route.append(uow)
            for route in everything:
                route.append(uow)
            for pid, matcher in dynamic:
                try:
                    if matcher(uow):
                        routes[pid].append(uow)
                except ConfigurationError:
                    raise
                except Exception as err:
                    collector.report({**uow, "pipeline": pid}, err)
        result.uows = count
        return routes

    def _run(
        self,
        routes: dict[str, list[dict[str, Any]]],
        options: Mapping[str, Any],
        on_next: OnNext | None,
        on_completed: OnCompleted | None,
        result: BatchResult,
    ) -> list[tuple[str, BaseException]]:
        lock = threading.Lock()
        errors: list[tuple[str, BaseException]] = []

        def run(pipeline_id: str) -> None:
            started = time.perf_counter()
            outputs = 0
            done = threading.Event()

            def emit(uow: dict[str, Any]) -> None:
                nonlocal outputs
                outputs += 1
                if on_next is not None:
                    with lock:
                        on_next(pipeline_id, uow)

            def fail(err: BaseException) -> None:
                with lock:
                    errors.append((pipeline_id, err))
                done.set()

            items = routes[pipeline_id]
            try:
                pipeline = self.pipelines[pipeline_id]
                routed = isinstance(pipeline, Pipeline) and pipeline.matcher is not None
                operator = pipeline({**options, "id": pipeline_id, ROUTED: routed})
                copies = _copies(items, pipeline_id)
                validator = getattr(pipeline, "validator", None)
                if validator is not None:
                    copies = validator.valid(copies, report_fault)
                source = reactivex.from_iterable(copies)
                source.pipe(operator).subscribe(emit, fail, done.set)
            except Exception as err:  # raised while building or subscribing the rule
                fail(err)
            done.wait()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                result.outputs[pipeline_id] = outputs
                result.durations[pipeline_id] = elapsed
            if on_completed is not None:
                on_completed(pipeline_id)

        result.inputs = {pid: len(items) for pid, items in routes.items()}
        result.outputs = dict.fromkeys(routes, 0)
        active = [pid for pid, items in routes.items() if items]
        for pid in routes:
            if pid not in active and on_completed is not None:
                on_completed(pid)
        if self.concurrency and len(active) > 1:
            map_bounded(run, active, self.max_workers)
        else:
            for pid in active:
                run(pid)
        return errors

    def _publish_faults(self, options: Mapping[str, Any], result: BatchResult, logger: Any) -> None:
        faults = result.faults
        if not faults:
            return
        for fault in faults:
            logger.error(
                "fault in %s: %s: %s",
                fault["tags"].get("pipeline"),
                fault["err"]["name"],
                fault["err"]["message"],
                extra={
                    "pipeline": fault["uow"].get("pipeline"),
                    "event_id": (fault["uow"].get("event") or {}).get("id"),
                },
            )
        publish = options.get("fault_publisher")
        if publish is None:
            publish = EventBridgePublisher(
                options.get("bus_name"),
                source=options.get("source"),
                claim_check=claim_check_from(options),
            ).publish
        try:
            failed = publish(faults)
        except ConfigurationError:
            raise
        except Exception as err:  # the publisher itself broke: every fault is unpublished
            failed = dict.fromkeys(range(len(faults)), err)
        for position in sorted(failed):
            fault = faults[position]
            result.unpublished_faults.append(fault)
            record = fault["uow"].get("record")
            if record is not None:
                result.retry_records.append(record)


def _copies(uows: list[dict[str, Any]], pipeline_id: str) -> Iterable[dict[str, Any]]:
    """Each rule gets its own shallow copy of a UOW, tagged with the rule id."""
    for uow in uows:
        copy = uow.copy()
        copy["pipeline"] = pipeline_id
        yield copy
