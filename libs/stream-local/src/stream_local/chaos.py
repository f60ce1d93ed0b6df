"""Chaos: the failures AWS produces now and then, injected on purpose into a local run.

Off by default. A ``Chaos`` passed as ``RuntimeOptions(chaos=...)`` (or ``stream-local up
--chaos ...``, or the ``local_chaos`` fixture of ``stream_local.testing``) turns on:

* **handler errors** (``handler_error_rate``): an invocation of a function fails with a
  ``ChaosError``, either *before* its handler runs (nothing was done) or *after* it ran
  (the work was done, its events published, but the invocation failed all the same: a
  crash or timeout at the very end). The share of the latter is ``after_share``. Event
  sources then retry as Lambda does; a REST client gets a 502.
* **throttling** (``throttle_rate``): an AWS call made by handler code answers a
  throttling error, as AWS does after botocore's own retries gave up: DynamoDB and Kinesis
  ``ProvisionedThroughputExceededException``, S3 ``SlowDown`` (503), every other service
  ``ThrottlingException``. It is a botocore ``before-call`` hook in the worker process, so
  the request never reaches moto and botocore does not retry it: stream-core's connectors
  see it and retry it.
* **throttling bursts** (``burst_rate``): a call starts a burst, and it and the next
  ``burst_calls - 1`` calls of the same operation in the same thread are throttled. The
  default of 4 is as many attempts as stream-core's connectors make, so the call outlives
  their retries: ``RetryableError``, and the record goes back to Lambda in a partial batch
  response. Kept apart from ``throttle_rate`` because its rate must be far lower: a batch
  whose every invocation hits one fails ``MaximumRetryAttempts`` times and is given up.
* **AWS errors** (``error_rate``): an AWS call made by handler code answers a non-retryable
  ``AccessDeniedException`` (S3: ``AccessDenied``, 403), as a missing permission or a
  revoked key would. Retrying cannot help, so stream-core turns the record into a fault:
  it is published, stored by the fault monitor and waits to be resubmitted.
* **partial failures** (``partial_rate``): a batch write made by handler code (PutEvents,
  PutRecords, PutRecordBatch, SendMessageBatch, PublishBatch, BatchWriteItem, BatchGetItem)
  of two or more entries comes back with some of them failed, as AWS answers when a few
  entries are throttled: the others land (``chaos_batches.py``). stream-core's connectors
  retry the failed entries alone.
* **duplicate deliveries** (``duplicate_rate``): after a stream batch was delivered, the
  shard poller delivers a tail of it again (what Lambda does when a checkpoint is lost);
  the SQS poller delivers some messages of a batch a second time (at-least-once
  delivery); an EventBridge rule delivers some events of a batch to its targets twice
  (rule targets are at least once too: a copy has the same event id).

Every injection is counted: ``chaos.counts()``. Runs are reproducible with ``seed``: each
poller and each worker process draws from its own generator seeded from ``seed`` and its
name, so one stream's decisions do not depend on how threads interleave elsewhere (a
worker's concurrent AWS calls still draw in the order they happen). Without a seed, one is
chosen and kept in ``chaos.seed``, so a failing run can be replayed.

``functions`` (fnmatch patterns, default every function) limits handler errors,
throttling and the pollers' duplicates to some functions. ``InlineWorker`` (``--inline``)
gets no handler errors and no throttling.

The worker half (``WorkerChaos``) runs inside the function's process: ``_bootstrap``
installs it when ``STREAM_LOCAL_CHAOS`` is set, and reports its counts with each response.
This module imports nothing heavy: the worker imports it at cold start.
"""

from __future__ import annotations

import fnmatch
import json
import os
import random
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from .chaos_batches import OPERATIONS, Dropped, drop, restore

__all__ = ["ENV", "Chaos", "ChaosError", "WorkerChaos"]

ENV = "STREAM_LOCAL_CHAOS"
T = TypeVar("T")

#: What a throttled call answers, by botocore service name: (error code, HTTP status).
_THROTTLE = {
    "dynamodb": ("ProvisionedThroughputExceededException", 400),
    "kinesis": ("ProvisionedThroughputExceededException", 400),
    "s3": ("SlowDown", 503),
}
_DEFAULT_THROTTLE = ("ThrottlingException", 400)
_DENIED = {"s3": ("AccessDenied", 403)}
_DEFAULT_DENIED = ("AccessDeniedException", 400)

#: ``Chaos.parse`` accepts these short names too.
_ALIASES = {
    "handler": "handler_error_rate",
    "handler_error": "handler_error_rate",
    "errors": "handler_error_rate",
    "throttle": "throttle_rate",
    "throttling": "throttle_rate",
    "duplicate": "duplicate_rate",
    "duplicates": "duplicate_rate",
    "after": "after_share",
    "burst": "burst_rate",
    "bursts": "burst_rate",
    "error": "error_rate",
    "denied": "error_rate",
    "partial": "partial_rate",
}


#: ``Chaos.config`` keys the worker process has no use for (pollers' draws, the patterns).
_RUNTIME_ONLY = ("duplicate_rate", "functions")
#: The worker's injections: with all of them at 0 it gets no ``WorkerChaos``.
_WORKER_RATES = ("handler_error_rate", "throttle_rate", "burst_rate", "error_rate", "partial_rate")


class ChaosError(RuntimeError):
    """The error a chaos-failed invocation raises (the name shows in the live log)."""


class Chaos:
    """The runtime's half: configuration, the pollers' draws and every count.

    >>> chaos = Chaos(handler_error_rate=0.05, throttle_rate=0.05, duplicate_rate=0.05, seed=7)
    >>> chaos.counts()["handler_errors"]
    0
    """

    def __init__(
        self,
        *,
        handler_error_rate: float = 0.0,
        throttle_rate: float = 0.0,
        duplicate_rate: float = 0.0,
        seed: int | None = None,
        after_share: float = 0.5,
        burst_rate: float = 0.0,
        burst_calls: int = 4,
        error_rate: float = 0.0,
        partial_rate: float = 0.0,
        functions: Sequence[str] = ("*",),
    ) -> None:
        for name, rate in (
            ("handler_error_rate", handler_error_rate),
            ("throttle_rate", throttle_rate),
            ("duplicate_rate", duplicate_rate),
            ("after_share", after_share),
            ("burst_rate", burst_rate),
            ("error_rate", error_rate),
            ("partial_rate", partial_rate),
        ):
            if not 0.0 <= float(rate) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {rate!r}")
        if float(throttle_rate) + float(burst_rate) + float(error_rate) > 1.0:
            raise ValueError("throttle_rate + burst_rate + error_rate must be at most 1")
        if int(burst_calls) < 1:
            raise ValueError(f"burst_calls must be at least 1, not {burst_calls!r}")
        self.handler_error_rate = float(handler_error_rate)
        self.throttle_rate = float(throttle_rate)
        self.duplicate_rate = float(duplicate_rate)
        self.after_share = float(after_share)
        self.burst_rate = float(burst_rate)
        self.burst_calls = int(burst_calls)
        self.error_rate = float(error_rate)
        self.partial_rate = float(partial_rate)
        self.functions = tuple(functions)
        self.seed = random.SystemRandom().randrange(2**32) if seed is None else int(seed)
        self._lock = threading.Lock()
        self._rngs: dict[str, random.Random] = {}
        self._counts: Counter[str] = Counter()
        self._by_function: dict[str, Counter[str]] = {}

    # ---- configuration ------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> Chaos:
        """``"0.05"`` (handler errors, throttling and duplicates at 5 %) or ``"handler=0.05,
        throttle=0.02,duplicate=0.05,burst=0.001,error=0.001,partial=0.05,seed=7,after=0.5"``
        (the keyword
        names of ``Chaos`` work too)."""
        text = text.strip()
        try:
            rate = float(text)
        except ValueError:
            pass
        else:
            return cls(handler_error_rate=rate, throttle_rate=rate, duplicate_rate=rate)
        kwargs: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = part.partition("=")
            key = _ALIASES.get(key.strip(), key.strip())
            if not sep or key not in _FIELDS:
                raise ValueError(
                    f"chaos: {part!r} is not NAME=VALUE with NAME one of "
                    f"{', '.join(sorted({*_ALIASES, *_FIELDS}))}"
                )
            kwargs[key] = _FIELDS[key](value.strip())
        return cls(**kwargs)

    def config(self) -> dict[str, Any]:
        return {
            "handler_error_rate": self.handler_error_rate,
            "throttle_rate": self.throttle_rate,
            "duplicate_rate": self.duplicate_rate,
            "seed": self.seed,
            "after_share": self.after_share,
            "burst_rate": self.burst_rate,
            "burst_calls": self.burst_calls,
            "error_rate": self.error_rate,
            "partial_rate": self.partial_rate,
            "functions": list(self.functions),
        }

    def __repr__(self) -> str:
        return "Chaos(" + ", ".join(f"{k}={v!r}" for k, v in self.config().items()) + ")"

    def applies_to(self, function: str) -> bool:
        return any(fnmatch.fnmatchcase(function, p) for p in self.functions)

    def worker_env(self, function: str, start: int, instance: int = 0) -> dict[str, str]:
        """The environment that turns on ``WorkerChaos`` in ``function``'s worker process
        (the ``start``-th process of its ``instance``-th concurrent worker: each gets its own
        generator)."""
        # the worker's half: everything but what the pollers and the runtime decide
        settings = {k: v for k, v in self.config().items() if k not in _RUNTIME_ONLY}
        if not self.applies_to(function) or not any(settings[k] for k in _WORKER_RATES):
            return {}
        name = function if not instance else f"{function}#{instance}"
        return {ENV: json.dumps({**settings, "seed": f"{self.seed}:{name}:{start}"})}

    # ---- the pollers' draws ---------------------------------------------------------------

    def _rng(self, key: str) -> random.Random:
        rng = self._rngs.get(key)
        if rng is None:
            rng = self._rngs[key] = random.Random(f"{self.seed}:{key}")
        return rng

    def redeliver(
        self, key: str, function: str | None, records: Sequence[T], *, tail: bool
    ) -> list[T]:
        """The records of a delivered batch to deliver again: none (most of the time), a
        tail of them (``tail``: a stream redelivers from a position) or some of them (a
        queue), drawn with the generator of ``key`` (the poller)."""
        if not records or not self.duplicate_rate:
            return []
        if function is not None and not self.applies_to(function):
            return []
        with self._lock:
            rng = self._rng(key)
            if rng.random() >= self.duplicate_rate:
                return []
            if tail:
                again = list(records[rng.randrange(len(records)) :])
            else:
                again = [r for r in records if rng.random() < 0.5] or [rng.choice(records)]
            self._count(function or key, duplicate_deliveries=1, duplicate_records=len(again))
        return again

    # ---- counts ----------------------------------------------------------------------------

    def _count(self, function: str, **counts: int) -> None:
        self._counts.update(counts)
        self._by_function.setdefault(function, Counter()).update(counts)

    def record(self, function: str, counts: Mapping[str, int]) -> None:
        """Add what ``function``'s worker process reported."""
        clean = {k: int(v) for k, v in counts.items() if isinstance(v, int) and v}
        if clean:
            with self._lock:
                self._count(function, **clean)

    def counts(self) -> dict[str, int]:
        """Injections so far: ``handler_errors`` (``_before``/``_after`` the handler ran),
        ``throttles`` (every throttled call), ``throttle_bursts`` (bursts started),
        ``aws_errors`` (calls denied), ``partial_failures`` (batch requests with failed
        entries) and ``partial_entries`` (the entries), ``duplicate_deliveries`` and
        ``duplicate_records``."""
        with self._lock:
            counts = Counter(self._counts)
        result = {
            "handler_errors_before": counts["handler_errors_before"],
            "handler_errors_after": counts["handler_errors_after"],
            "throttles": counts["throttles"],
            "throttle_bursts": counts["throttle_bursts"],
            "aws_errors": counts["aws_errors"],
            "partial_failures": counts["partial_failures"],
            "partial_entries": counts["partial_entries"],
            "duplicate_deliveries": counts["duplicate_deliveries"],
            "duplicate_records": counts["duplicate_records"],
        }
        result["handler_errors"] = result["handler_errors_before"] + result["handler_errors_after"]
        return result

    def counts_by_function(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {name: dict(counter) for name, counter in sorted(self._by_function.items())}

    def summary(self) -> str:
        c = self.counts()
        return (
            f"chaos (seed {self.seed}): {c['handler_errors']} handler errors "
            f"({c['handler_errors_before']} before, {c['handler_errors_after']} after the "
            f"handler ran), {c['throttles']} throttled AWS calls ({c['throttle_bursts']} bursts), "
            f"{c['aws_errors']} denied AWS calls, "
            f"{c['partial_failures']} partial batch failures ({c['partial_entries']} entries), "
            f"{c['duplicate_deliveries']} duplicate deliveries ({c['duplicate_records']} records)"
        )


_FIELDS: dict[str, Callable[[str], Any]] = {
    "handler_error_rate": float,
    "throttle_rate": float,
    "duplicate_rate": float,
    "after_share": float,
    "burst_rate": float,
    "burst_calls": int,
    "error_rate": float,
    "partial_rate": float,
    "seed": int,
    "functions": lambda text: tuple(p for p in text.split("|") if p),
}


class WorkerChaos:
    """The worker process's half: handler errors, throttled and denied AWS calls, partial
    failures of batch writes (thread-safe)."""

    def __init__(
        self,
        *,
        handler_error_rate: float = 0.0,
        throttle_rate: float = 0.0,
        after_share: float = 0.5,
        burst_rate: float = 0.0,
        burst_calls: int = 4,
        error_rate: float = 0.0,
        partial_rate: float = 0.0,
        seed: Any = None,
    ) -> None:
        self.handler_error_rate = handler_error_rate
        self.error_rate = error_rate
        self.partial_rate = partial_rate
        self.throttle_rate = throttle_rate
        self.after_share = after_share
        self.burst_rate = burst_rate
        self.burst_calls = burst_calls
        self.rng = random.Random(seed)
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        # .bursts: operation -> calls still to throttle; .dropped: operation -> Dropped
        self._local = threading.local()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> WorkerChaos | None:
        text = (os.environ if environ is None else environ).get(ENV)
        return cls(**json.loads(text)) if text else None

    def _draw(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    # ---- handler errors ---------------------------------------------------------------------

    def wrap(self, handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """``handler`` failing at ``handler_error_rate``, before or after it ran."""
        if not self.handler_error_rate:
            return handler

        def chaotic(event: Any, context: Any) -> Any:
            with self._lock:
                fail = self._draw(self.handler_error_rate)
                after = fail and self.rng.random() < self.after_share
            if fail and not after:
                self._add("handler_errors_before")
                raise ChaosError("stream-local chaos: invocation failed before the handler ran")
            result = handler(event, context)
            if fail:
                self._add("handler_errors_after")
                raise ChaosError(
                    "stream-local chaos: invocation failed after the handler ran (its work is done)"
                )
            return result

        return chaotic

    # ---- throttling and AWS errors -----------------------------------------------------------

    def install(self) -> None:
        """Throttle and deny AWS calls, and fail entries of batch calls, of every botocore
        session created from now on (call it before the handler creates its first client)."""
        from botocore import handlers

        if self.throttle_rate or self.burst_rate or self.error_rate:
            handlers.BUILTIN_HANDLERS.append(("before-call", self.before_call))
        if self.partial_rate:
            handlers.BUILTIN_HANDLERS.append(
                ("before-parameter-build", self.before_parameter_build)
            )
            handlers.BUILTIN_HANDLERS.append(("after-call", self.after_call))

    def uninstall(self) -> None:
        """Undo ``install`` for sessions created from now on (tests)."""
        from botocore import handlers

        ours = (self.before_call, self.before_parameter_build, self.after_call)
        handlers.BUILTIN_HANDLERS[:] = [
            spec for spec in handlers.BUILTIN_HANDLERS if spec[1] not in ours
        ]

    def call(self, operation: str) -> str | None:
        """What happens to this call of ``operation`` (``service.Operation``): ``None`` (it
        goes through), ``"throttle"`` (the rest of a burst of this thread, a new burst or a
        single throttle) or ``"error"`` (denied)."""
        bursts: dict[str, int] = self._local.__dict__.setdefault("bursts", {})
        if bursts.get(operation, 0):
            bursts[operation] -= 1
        else:
            with self._lock:
                draw = self.rng.random()
            if draw < self.burst_rate:
                bursts[operation] = self.burst_calls - 1
                self._add("throttle_bursts")
            elif draw < self.burst_rate + self.throttle_rate:
                pass
            elif draw < self.burst_rate + self.throttle_rate + self.error_rate:
                self._add("aws_errors")
                return "error"
            else:
                return None
        self._add("throttles")
        return "throttle"

    def throttled(self, operation: str) -> bool:
        return self.call(operation) == "throttle"

    def before_call(self, model: Any = None, **_: Any) -> Any:
        """botocore ``before-call`` hook: a throttling or access-denied answer instead of
        the request."""
        if model is None:
            return None
        service = model.service_model.service_name
        outcome = self.call(f"{service}.{model.name}")
        if outcome is None:
            return None
        from botocore.awsrequest import AWSResponse

        if outcome == "throttle":
            code, status = _THROTTLE.get(service, _DEFAULT_THROTTLE)
            message = "Rate exceeded (stream-local chaos)"
        else:
            code, status = _DENIED.get(service, _DEFAULT_DENIED)
            message = "Access denied (stream-local chaos)"
        parsed = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0},
        }
        return AWSResponse("", status, {}, _NoBody()), parsed

    # ---- partial failures of batch calls ----------------------------------------------------

    def before_parameter_build(
        self, params: dict[str, Any] | None = None, model: Any = None, **_: Any
    ) -> None:
        """botocore hook: at ``partial_rate``, take some entries out of a batch request."""
        if model is None or params is None:
            return
        operation = f"{model.service_model.service_name}.{model.name}"
        if operation not in OPERATIONS:
            return
        dropped: dict[str, Dropped] = self._local.__dict__.setdefault("dropped", {})
        dropped.pop(operation, None)  # a call that raised before its answer left one
        with self._lock:
            hit = self._draw(self.partial_rate)
        if hit:
            taken = drop(operation, params, self._pick)
            if taken is not None:
                dropped[operation] = taken

    def after_call(
        self, http_response: Any = None, parsed: Any = None, model: Any = None, **_: Any
    ) -> None:
        """botocore hook: the entries taken out answer as failed. A call that failed as a
        whole (a throttle, say) is retried whole by its caller, so nothing is written."""
        if model is None:
            return
        operation = f"{model.service_model.service_name}.{model.name}"
        taken = self._local.__dict__.get("dropped", {}).pop(operation, None)
        status = getattr(http_response, "status_code", 500)
        if taken is None or not isinstance(parsed, dict) or status >= 300:
            return
        entries = restore(taken, parsed)
        with self._lock:
            self._counts["partial_failures"] += 1
            self._counts["partial_entries"] += entries

    def _pick(self, count: int) -> list[int]:
        """About a third of ``count`` entries, at least one, never all."""
        with self._lock:
            failing = [i for i in range(count) if self.rng.random() < 1 / 3]
            if not failing:
                failing = [self.rng.randrange(count)]
            elif len(failing) == count:
                failing.pop(self.rng.randrange(count))
        return failing

    # ---- counts ----------------------------------------------------------------------------

    def _add(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def take_counts(self) -> dict[str, int]:
        """The counts since the last call (sent with each response)."""
        with self._lock:
            counts, self._counts = dict(self._counts), Counter()
        return counts

    def with_counts(self, message: dict[str, Any], dumps: Callable[[Any], str]) -> str:
        """``dumps(message)`` with the counts since the last response under ``chaos`` (kept
        for the next response if ``dumps`` fails: the result was not serializable)."""
        counts = self.take_counts()
        try:
            return dumps({**message, "chaos": counts})
        except (TypeError, ValueError):
            with self._lock:
                self._counts.update(counts)
            raise


class _NoBody:
    def stream(self, **_: Any) -> Any:
        return iter(())
