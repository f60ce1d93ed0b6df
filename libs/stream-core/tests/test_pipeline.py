"""StreamPipeline: routing, per-rule copies, concurrency, faults, errors, sizes."""

import threading

import pytest

from stream_core.errors import ConfigurationError
from stream_core.events.kinesis import from_kinesis, to_kinesis_records
from stream_core.flavors.task import task
from stream_core.pipelines import StreamPipeline, initialize_from
from stream_core.testing import MemoryPublisher
from stream_core.utils.filters import on_event_type
from stream_core.utils.operators import rx_filter, rx_map


def events(n, event_type="thing-created", **extra):
    return [
        {"id": f"e{i}", "type": event_type, "timestamp": 1000 + i, "partition_key": f"p{i % 3}",
         **extra}
        for i in range(n)
    ]


def run(rules, uows, concurrency=False, **options):
    sink = MemoryPublisher()
    out = []
    result = StreamPipeline(
        initialize_from(rules), {"bus_name": "bus", **sink.options(), **options}, concurrency
    ).assemble(uows, on_next=lambda pid, uow: out.append((pid, uow)))
    return out, result, sink


def record(uow, rule):
    return uow["event"]["id"]


def test_each_rule_sees_only_its_event_types():
    uows = from_kinesis(to_kinesis_records(events(2) + events(3, "thing-updated")))
    rules = [
        {"id": "created", "flavor": task, "event_type": "thing-created", "execute": record},
        {"id": "both", "flavor": task, "event_type": ["thing-created", "thing-updated"],
         "execute": record},
        {"id": "none", "flavor": task, "event_type": "other", "execute": record},
    ]
    out, result, _ = run(rules, uows)
    assert result.outputs == {"created": 2, "both": 5, "none": 0}
    assert sorted(pid for pid, _ in out) == ["both"] * 5 + ["created"] * 2
    assert all(uow["pipeline"] == pid for pid, uow in out)


def test_rules_get_shallow_copies_not_the_batch():
    uows = from_kinesis(to_kinesis_records(events(1)))
    rules = [
        {"id": "a", "flavor": task, "event_type": "thing-created", "execute": record},
        {"id": "b", "flavor": task, "event_type": "thing-created", "execute": record},
    ]
    out, _, _ = run(rules, uows)
    (_, a), (_, b) = out
    assert a is not b and a is not uows[0]
    assert a["event"] is b["event"] is uows[0]["event"]  # the event itself is not copied
    assert "pipeline" not in uows[0] and "result" not in uows[0]


def test_regex_and_callable_event_types_are_routed():
    import re

    uows = from_kinesis(to_kinesis_records(events(2) + events(1, "thing-deleted")))
    rules = [
        {"id": "re", "flavor": task, "event_type": re.compile("-(created|deleted)$"),
         "execute": record},
        {"id": "fn", "flavor": task, "event_type": lambda uow: uow["event"]["id"] == "e0",
         "execute": record},
    ]
    _, result, _ = run(rules, uows)
    assert result.outputs == {"re": 3, "fn": 2}  # e0 of each type


def test_failing_event_type_callable_faults_that_uow_for_that_rule():
    uows = from_kinesis(to_kinesis_records(events(3)))

    def picky(uow):
        if uow["event"]["id"] == "e1":
            raise KeyError("boom")
        return True

    rules = [
        {"id": "picky", "flavor": task, "event_type": picky, "execute": record},
        {"id": "plain", "flavor": task, "event_type": "thing-created", "execute": record},
    ]
    _, result, sink = run(rules, uows)
    assert result.outputs == {"picky": 2, "plain": 3}
    assert [f["uow"]["pipeline"] for f in sink.faults] == ["picky"]


def test_malformed_records_become_faults_and_others_go_on():
    event = to_kinesis_records(events(3))
    event["Records"][1]["kinesis"]["data"] = "not base64!"
    uows = from_kinesis(event)
    _out, result, sink = run(
        [{"id": "t", "flavor": task, "event_type": "thing-created", "execute": record}], uows
    )
    assert result.outputs == {"t": 2}
    assert len(sink.faults) == 1
    fault = sink.faults[0]
    assert fault["err"]["name"] == "MalformedRecordError"
    assert fault["uow"]["record"] is event["Records"][1]
    assert fault["uow"]["event"] is None
    assert result.retry_records == []


def test_zero_records():
    out, result, sink = run(
        [{"id": "t", "flavor": task, "event_type": "x", "execute": record}], []
    )
    assert (out, result.uows, result.faults, sink.faults) == ([], 0, [], [])


def test_10000_records_all_processed_once():
    uows = from_kinesis(to_kinesis_records(events(10_000)))
    rules = [{"id": "t", "flavor": task, "event_type": "thing-created", "execute": record}]
    rules += [
        {"id": f"other-{i}", "flavor": task, "event_type": f"other-{i}", "execute": record}
        for i in range(9)
    ]
    out, result, _ = run(rules, uows, concurrency=True)
    assert result.uows == 10_000
    assert sorted(uow["result"] for _, uow in out) == sorted(f"e{i}" for i in range(10_000))


def test_concurrent_rules_run_on_threads_and_leave_none_behind():
    uows = from_kinesis(to_kinesis_records(events(20)))
    seen_threads = set()
    barrier = threading.Barrier(2, timeout=5)

    def meet(uow, rule):
        seen_threads.add(threading.get_ident())
        if uow["event"]["id"] == "e0":
            barrier.wait()  # both rules must be running at the same time
        return True

    rules = [
        {"id": "a", "flavor": task, "event_type": "thing-created", "execute": meet},
        {"id": "b", "flavor": task, "event_type": "thing-created", "execute": meet},
    ]
    before = threading.active_count()
    _, result, _ = run(rules, uows, concurrency=True)
    assert result.outputs == {"a": 20, "b": 20}
    assert len(seen_threads) == 2
    assert threading.active_count() == before


def test_sequential_mode_runs_in_the_calling_thread():
    uows = from_kinesis(to_kinesis_records(events(3)))
    threads = set()
    rules = [
        {"id": x, "flavor": task, "event_type": "thing-created",
         "execute": lambda uow, rule: threads.add(threading.get_ident())}
        for x in "ab"
    ]
    run(rules, uows, concurrency=False)
    assert threads == {threading.get_ident()}


def test_configuration_error_fails_the_invocation_without_publishing_faults():
    uows = from_kinesis(to_kinesis_records(events(3)))

    def misconfigured(uow, rule):
        raise ConfigurationError("TABLE_NAME is not set")

    rules = [
        {"id": "bad", "flavor": task, "event_type": "thing-created", "execute": misconfigured},
        {"id": "poison", "flavor": task, "event_type": "thing-created",
         "execute": lambda uow, rule: 1 / 0},
    ]
    sink = MemoryPublisher()
    with pytest.raises(ConfigurationError, match="TABLE_NAME"):
        StreamPipeline(initialize_from(rules), sink.options(), False).assemble(uows)
    assert sink.faults == []  # the whole batch will be retried


def test_on_error_callback_receives_rule_errors_instead():
    uows = from_kinesis(to_kinesis_records(events(1)))

    def hand_made(opt):
        # a 1.4.0-style factory whose operator breaks the stream
        from reactivex import operators as ops

        return lambda source: source.pipe(ops.map(lambda uow: uow["nope"]))

    errors = []
    StreamPipeline({"raw": hand_made}, MemoryPublisher().options(), False).assemble(
        uows, on_error=lambda pid, err: errors.append((pid, type(err)))
    )
    assert errors == [("raw", KeyError)]


def test_custom_flavor_from_the_seed_shape_works():
    from reactivex import Observable

    def my_flavor(rule):
        def wrapper(source: Observable):
            return source.pipe(
                rx_filter(on_event_type(rule)),
                rx_map(lambda uow: {**uow, "custom": True}),
            )

        return wrapper

    uows = from_kinesis(to_kinesis_records(events(2) + events(1, "other")))
    out, _, _ = run([{"id": "c", "flavor": my_flavor, "event_type": "thing-created"}], uows)
    assert [uow["custom"] for _, uow in out] == [True, True]


def test_completed_callback_for_every_rule():
    uows = from_kinesis(to_kinesis_records(events(1)))
    done = []
    rules = [
        {"id": "hit", "flavor": task, "event_type": "thing-created", "execute": record},
        {"id": "miss", "flavor": task, "event_type": "nothing", "execute": record},
    ]
    StreamPipeline(initialize_from(rules), MemoryPublisher().options(), True).assemble(
        uows, on_completed=done.append
    )
    assert sorted(done) == ["hit", "miss"]


def test_unrouted_flavor_sees_every_uow_and_matches_its_derived_type():
    from stream_core.flavors import flavor

    @flavor("unwrap", routed=False)
    def unwrap(rule):
        def wrapper(source):
            return source.pipe(
                rx_map(lambda uow: {**uow, "event": uow["event"]["inner"]}),
                rx_filter(on_event_type(rule)),
            )

        return wrapper

    uows = from_kinesis(to_kinesis_records(
        [{"id": "w1", "type": "EVENT-created", "timestamp": 1,
          "inner": {"id": "i1", "type": "order-submitted"}},
         {"id": "w2", "type": "EVENT-created", "timestamp": 2,
          "inner": {"id": "i2", "type": "other"}}]
    ))
    out, result, _ = run([{"id": "u", "flavor": unwrap, "event_type": "order-submitted"}], uows)
    assert result.inputs == {"u": 2}
    assert [uow["event"]["id"] for _, uow in out] == ["i1"]
