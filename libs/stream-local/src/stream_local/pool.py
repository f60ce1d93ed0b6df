"""A function's warm workers: one per concurrent invocation, as Lambda runs its containers.

Lambda gives each concurrent invocation its own execution environment: two shards of a
stream, two REST requests or an event source and a ``lambda.invoke`` run side by side, and
a handler may invoke its own function. ``FunctionPool`` does the same with ``Worker``
processes: an invocation takes an idle worker (the one used last: it is the warmest), or
starts a new one (a cold start) while fewer than ``limit`` exist, or waits for one to be
free, as a throttled invocation would be retried. Workers stay warm until ``stop``.

``limit`` is the function's ``reservedConcurrency`` when it has one, else the runtime's
``concurrency`` option (4: enough for the races a test should see, few enough processes for
a laptop). An ``interactive`` function (the terminal is shared) and an ``InlineWorker`` (one
process, one import of the handler) run one invocation at a time.

>>> pool = FunctionPool(lambda instance: Worker(spec, env, instance=instance), limit=4)
>>> pool.invoke({"Records": [...]})                                  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .worker import FunctionSpec, InlineWorker, Invocation, Worker

__all__ = ["FunctionPool"]

AnyWorker = Worker | InlineWorker


class FunctionPool:
    """Up to ``limit`` workers of one function, made by ``make(instance)`` on demand."""

    def __init__(self, make: Callable[[int], AnyWorker], *, limit: int = 1) -> None:
        if limit < 1:
            raise ValueError(f"a function runs at least one invocation at a time, not {limit}")
        self.limit = limit
        self._make = make
        self._workers: list[AnyWorker] = []
        self._idle: list[AnyWorker] = []
        self._free = threading.Condition()
        self._stopped = False
        self.first = self._take()  # made now: its spec and env describe the function
        self._give_back(self.first)

    @property
    def spec(self) -> FunctionSpec:
        return self.first.spec

    @property
    def env(self) -> dict[str, str]:
        return self.first.env

    @property
    def pid(self) -> int | None:
        """The process of the first worker (the one a sequential caller always gets)."""
        return self.first.pid

    @property
    def size(self) -> int:
        """Workers made so far (at most ``limit``)."""
        with self._free:
            return len(self._workers)

    def invoke(self, event: Any, *, timeout: float | None = None) -> Invocation:
        """Run the handler on ``event`` in a free worker (see the module doc)."""
        worker = self._take()
        try:
            return worker.invoke(event, timeout=timeout)
        finally:
            self._give_back(worker)

    def stop(self) -> None:
        """Stop every worker; an invocation waiting for one fails."""
        with self._free:
            self._stopped = True
            workers, self._workers, self._idle = self._workers, [], []
            self._free.notify_all()
        for worker in workers:
            worker.stop()

    def _take(self) -> AnyWorker:
        with self._free:
            while True:
                if self._stopped:
                    raise RuntimeError(f"the workers of {self._name()} are stopped")
                if self._idle:
                    return self._idle.pop()  # the last one given back: the warmest
                if len(self._workers) < self.limit:
                    worker = self._make(len(self._workers))
                    self._workers.append(worker)
                    return worker
                self._free.wait()

    def _give_back(self, worker: AnyWorker) -> None:
        with self._free:
            if not self._stopped:
                self._idle.append(worker)
                self._free.notify()

    def _name(self) -> str:
        return self._workers[0].spec.name if self._workers else "a function"
