import pytest
import reactivex
from reactivex import operators as ops

from stream_core.errors import ConfigurationError
from stream_core.faults import FaultCollector
from stream_core.utils.faults import faulty
from stream_core.utils.operators import rx_filter, rx_map, split_buffer, tap


def run(source, *operators):
    out, errors = [], []
    source.pipe(*operators).subscribe(out.append, errors.append)
    return out, errors


def boom_on(bad):
    def mapper(uow):
        if uow["n"] == bad:
            raise ValueError(f"bad {bad}")
        return {**uow, "ok": True}

    return mapper


def test_rx_map_faults_one_item_and_continues():
    collector = FaultCollector(tags={})
    items = [{"n": i, "event": {"id": str(i)}} for i in range(5)]
    with collector.activate():
        out, errors = run(reactivex.from_iterable(items), rx_map(boom_on(2)))
    assert [u["n"] for u in out] == [0, 1, 3, 4]
    assert errors == []
    assert len(collector.faults) == 1
    fault = collector.faults[0]
    assert fault["err"]["name"] == "ValueError"
    assert fault["err"]["message"] == "bad 2"
    assert fault["uow"]["event"] == {"id": "2"}


def test_rx_filter_faults_failing_predicate():
    collector = FaultCollector(tags={})
    items = [{"n": i} for i in range(4)]
    with collector.activate():
        out, _ = run(reactivex.from_iterable(items), rx_filter(lambda u: 1 / (u["n"] - 1) > 0))
    assert [u["n"] for u in out] == [2, 3]  # 0 filtered out, 1 faulted
    assert collector.faults[0]["err"]["name"] == "ZeroDivisionError"


def test_configuration_error_ends_the_stream():
    def bad(_):
        raise ConfigurationError("no table")

    collector = FaultCollector(tags={})
    with collector.activate():
        out, errors = run(reactivex.from_iterable([{"n": 1}, {"n": 2}]), rx_map(bad))
    assert out == []
    assert isinstance(errors[0], ConfigurationError)
    assert collector.faults == []


def test_without_collector_errors_are_not_swallowed():
    out, errors = run(reactivex.from_iterable([{"n": 1}]), rx_map(boom_on(1)))
    assert out == []
    assert isinstance(errors[0], ValueError)


def test_faulty_tags_the_uow_for_plain_operators():
    wrapped = faulty(boom_on(1))
    with pytest.raises(ValueError) as info:
        wrapped({"n": 1})
    assert info.value.uow == {"n": 1}
    # and in a plain map the error still ends the stream, carrying the uow
    _out, errors = run(reactivex.from_iterable([{"n": 1}]), ops.map(wrapped))
    assert errors[0].uow == {"n": 1}


def test_faulty_fault_names_the_original_uow():
    collector = FaultCollector(tags={})
    original = {"n": 1, "event": {"id": "orig"}}

    def later(derived):
        return faulty(lambda u: 1 / 0)(original)

    with collector.activate():
        run(reactivex.from_iterable([{"n": 9, "event": {"id": "derived"}}]), rx_map(later))
    assert collector.faults[0]["uow"]["event"]["id"] == "orig"


def test_split_buffer_and_tap():
    seen = []
    out, _ = run(reactivex.from_iterable([[1, 2], [], [3]]), split_buffer(), tap(seen.append))
    assert out == [1, 2, 3]
    assert seen == [1, 2, 3]


def test_rx_map_io_runs_concurrently_keeps_order_and_faults_per_item():
    import threading
    import time

    from stream_core.utils.operators import rx_map_io

    active, peak, lock = [0], [0], threading.Lock()

    def slow(uow):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.02)
        with lock:
            active[0] -= 1
        if uow["n"] == 3:
            raise OSError("io failed")
        return {**uow, "done": True}

    collector = FaultCollector(tags={})
    items = [{"n": i, "event": {"id": str(i)}} for i in range(12)]
    before = threading.active_count()
    started = time.perf_counter()
    with collector.activate():
        out, errors = run(reactivex.from_iterable(items), rx_map_io(slow, max_in_flight=4))
    elapsed = time.perf_counter() - started
    assert [u["n"] for u in out] == [i for i in range(12) if i != 3]
    assert errors == []
    assert [f["err"]["message"] for f in collector.faults] == ["io failed"]
    assert peak[0] == 4
    assert elapsed < 12 * 0.02  # concurrent, not sequential
    assert threading.active_count() == before
