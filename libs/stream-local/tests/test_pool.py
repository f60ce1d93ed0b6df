"""A function's concurrent workers (``pool.py``): one per concurrent invocation, up to the
function's concurrency; the warmest reused first; waiting when all are busy."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from stream_local.pool import FunctionPool
from stream_local.worker import Invocation


class FakeWorker:
    """Records how many invocations run at once across its pool."""

    running = 0
    most = 0
    lock = threading.Lock()

    def __init__(self, instance: int, hold: threading.Event | None = None) -> None:
        self.instance = instance
        self.spec = SimpleNamespace(name="fn")
        self.env = {"INSTANCE": str(instance)}
        self.pid = 1000 + instance
        self.hold = hold
        self.stopped = False

    def invoke(self, event, *, timeout=None):
        cls = type(self)
        with cls.lock:
            cls.running += 1
            cls.most = max(cls.most, cls.running)
        try:
            if self.hold is not None:
                self.hold.wait(5)
            else:
                time.sleep(0.05)
            return Invocation("fn", "r", response={"instance": self.instance, **event})
        finally:
            with cls.lock:
                cls.running -= 1

    def stop(self):
        self.stopped = True


@pytest.fixture(autouse=True)
def _reset():
    FakeWorker.running = FakeWorker.most = 0


def test_concurrent_invocations_get_their_own_workers_up_to_the_limit():
    made: list[FakeWorker] = []
    pool = FunctionPool(lambda i: made.append(FakeWorker(i)) or made[-1], limit=3)
    assert pool.size == 1 and pool.env == {"INSTANCE": "0"}  # made, not started
    with ThreadPoolExecutor(8) as threads:
        results = list(threads.map(lambda n: pool.invoke({"n": n}), range(24)))
    assert [r.response["n"] for r in results] == list(range(24))
    assert pool.size == 3 and FakeWorker.most == 3  # never more than the limit at once
    assert {r.response["instance"] for r in results} == {0, 1, 2}


def test_a_sequential_caller_keeps_getting_the_warmest_worker():
    pool = FunctionPool(FakeWorker, limit=4)
    results = [pool.invoke({"n": n}) for n in range(5)]
    assert {r.response["instance"] for r in results} == {0} and pool.size == 1
    assert pool.pid == 1000


def test_an_invocation_waits_for_a_free_worker_and_stop_releases_the_waiters():
    hold = threading.Event()
    pool = FunctionPool(lambda i: FakeWorker(i, hold), limit=1)
    with ThreadPoolExecutor(2) as threads:
        first = threads.submit(pool.invoke, {"n": 1})
        time.sleep(0.1)
        second = threads.submit(pool.invoke, {"n": 2})
        time.sleep(0.1)
        assert not second.done()  # the only worker is busy
        hold.set()
        assert first.result(5).response["n"] == 1 and second.result(5).response["n"] == 2
    hold.clear()
    with ThreadPoolExecutor(2) as threads:
        busy = threads.submit(pool.invoke, {"n": 3})
        time.sleep(0.1)
        waiting = threads.submit(pool.invoke, {"n": 4})
        time.sleep(0.1)
        pool.stop()
        hold.set()
        with pytest.raises(RuntimeError, match="stopped"):
            waiting.result(5)
        busy.result(5)
    assert pool.first.stopped
    with pytest.raises(ValueError, match="at least one"):
        FunctionPool(FakeWorker, limit=0)


@pytest.mark.integration
def test_a_function_runs_concurrent_invocations_in_separate_processes(
    cloud, journal, journal_function, registry_of, run
):
    fn = journal_function("fn-pool", journal)
    runtime = run(cloud, registry_of("pool", [fn]), concurrency=2)
    started = time.monotonic()
    with ThreadPoolExecutor(4) as threads:
        results = list(
            threads.map(
                lambda n: runtime.invoke("fn-pool", {"n": n, "sleep": 1}, source="t"), range(4)
            )
        )
    took = time.monotonic() - started
    assert all(r.ok for r in results), [r.error for r in results]
    pids = {entry["pid"] for entry in journal.entries()}
    assert len(pids) == 2 and runtime.workers["fn-pool"].size == 2
    assert took >= 2.0  # no more than two at a time: two rounds of one-second invocations


@pytest.mark.integration
def test_reserved_concurrency_and_interactive_functions_limit_the_pool(
    cloud, journal, journal_function, registry_of, run
):
    one = {**journal_function("fn-reserved", journal), "reserved_concurrency": 1}
    runtime = run(cloud, registry_of("pool-limits", [one]), concurrency=4)
    assert runtime.worker("fn-reserved").limit == 1
    assert runtime.worker("fn-reserved").spec.reserved_concurrency == 1
    other = run(
        cloud,
        registry_of("pool-limits-2", [journal_function("fn-inline", journal)]),
        concurrency=4,
        inline=frozenset({"fn-inline"}),
    )
    assert other.worker("fn-inline").limit == 1
