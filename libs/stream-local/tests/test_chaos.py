"""Chaos: each kind of injected failure fires at about its rate, is counted, and is
reproducible with a seed; in a worker (handler errors before and after the handler ran,
throttled AWS calls reported back) and in the pollers (duplicate deliveries)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from stream_local.chaos import Chaos, ChaosError, WorkerChaos
from stream_local.runtime import wait_for
from stream_local.worker import FunctionSpec, Worker

HANDLERS = Path(__file__).parent / "fixtures" / "handlers"


def _close(count: int, n: int, rate: float) -> bool:
    """``count`` of ``n`` draws is within four standard deviations of ``rate``."""
    sd = (n * rate * (1 - rate)) ** 0.5
    return abs(count - n * rate) <= 4 * sd + 1


# ---- configuration --------------------------------------------------------------------------


def test_parse_takes_one_rate_for_every_kind_or_named_settings():
    every = Chaos.parse("0.05")
    assert (every.handler_error_rate, every.throttle_rate, every.duplicate_rate) == (0.05,) * 3
    chaos = Chaos.parse(
        "handler=0.1, throttle=0.2,duplicate=0.3,seed=7,burst=0.01,burst_calls=3,after=0.25,"
        "functions=a-*|b"
    )
    assert chaos.config() == {
        "handler_error_rate": 0.1,
        "throttle_rate": 0.2,
        "duplicate_rate": 0.3,
        "seed": 7,
        "after_share": 0.25,
        "burst_rate": 0.01,
        "burst_calls": 3,
        "error_rate": 0.0,
        "partial_rate": 0.0,
        "functions": ["a-*", "b"],
    }
    assert Chaos.parse("partial=0.05").partial_rate == 0.05
    assert chaos.applies_to("a-listener") and chaos.applies_to("b")
    assert not chaos.applies_to("c-trigger")
    for bad in (
        "handler=2",
        "nonsense=1",
        "handler",
        "burst_calls=0",
        "throttle=0.8,burst=0.5",
        "partial=1.5",
    ):
        with pytest.raises(ValueError):
            Chaos.parse(bad)


def test_without_a_seed_one_is_chosen_and_kept():
    assert isinstance(Chaos().seed, int)
    assert Chaos(seed=3).seed == 3


def test_worker_env_only_for_the_functions_it_applies_to():
    chaos = Chaos(handler_error_rate=0.1, seed=5, functions=["svc-*"])
    (text,) = chaos.worker_env("svc-listener", 2).values()
    assert json.loads(text)["seed"] == "5:svc-listener:2"
    assert chaos.worker_env("other", 1) == {}
    assert Chaos(duplicate_rate=0.5).worker_env("svc-listener", 1) == {}  # nothing to do there


# ---- duplicates (the pollers' draws) --------------------------------------------------------


def test_redeliveries_come_at_about_their_rate_are_tails_and_are_counted():
    chaos = Chaos(duplicate_rate=0.1, seed=11)
    batch = list(range(10))
    again = [chaos.redeliver("poller", "fn", batch, tail=True) for _ in range(5000)]
    chosen = [a for a in again if a]
    assert _close(len(chosen), 5000, 0.1)
    assert all(a == batch[-len(a) :] for a in chosen)  # a stream redelivers from a position
    counts = chaos.counts()
    assert counts["duplicate_deliveries"] == len(chosen)
    assert counts["duplicate_records"] == sum(len(a) for a in chosen)
    assert chaos.counts_by_function()["fn"]["duplicate_deliveries"] == len(chosen)


def test_queue_redeliveries_are_some_of_the_messages():
    chaos = Chaos(duplicate_rate=1.0, seed=2)
    batch = list(range(10))
    for _ in range(50):
        again = chaos.redeliver("queue", "fn", batch, tail=False)
        assert again and set(again) <= set(batch)


def test_the_same_seed_draws_the_same_redeliveries_per_poller():
    def draws(chaos, key):
        return [chaos.redeliver(key, None, list(range(8)), tail=True) for _ in range(200)]

    first, second = Chaos(duplicate_rate=0.2, seed=9), Chaos(duplicate_rate=0.2, seed=9)
    assert draws(first, "a") == draws(second, "a")
    draws(first, "b")  # another poller's draws do not move poller "a"'s generator
    assert draws(first, "a") == draws(second, "a")
    assert draws(Chaos(duplicate_rate=0.2, seed=10), "a") != draws(second, "a")


def test_functions_outside_the_patterns_get_no_duplicates():
    chaos = Chaos(duplicate_rate=1.0, functions=["only-this"])
    assert chaos.redeliver("p", "another", [1, 2], tail=True) == []
    assert chaos.counts()["duplicate_deliveries"] == 0


# ---- the worker's half ----------------------------------------------------------------------


def test_handler_errors_come_before_or_after_the_handler_at_their_rates():
    chaos = WorkerChaos(handler_error_rate=0.2, after_share=0.5, seed="s")
    ran = []
    handler = chaos.wrap(lambda event, context: ran.append(event) or "done")
    errors = Counter()
    for n in range(2000):
        try:
            assert handler(n, None) == "done"
        except ChaosError as err:
            errors["after" if "after the handler ran" in str(err) else "before"] += 1
    failed = errors["before"] + errors["after"]
    assert _close(failed, 2000, 0.2)
    assert _close(errors["after"], failed, 0.5)
    assert len(ran) == 2000 - errors["before"]  # after: the work was done
    counts = chaos.take_counts()
    assert counts == {
        "handler_errors_before": errors["before"],
        "handler_errors_after": errors["after"],
    }
    assert chaos.take_counts() == {}  # reported once


def test_throttled_calls_answer_throttling_errors_that_stream_core_retries_or_gives_up():
    from botocore.exceptions import ClientError

    from stream_core.connectors import is_retryable
    from stream_core.connectors._retry import Caller, RetryPolicy
    from stream_core.errors import RetryableError

    chaos = WorkerChaos(throttle_rate=1.0)
    chaos.install()
    try:
        import boto3

        session = boto3.session.Session(
            aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
        )
        # nothing listens on port 9: a call that got through would fail differently
        dynamodb = session.client("dynamodb", endpoint_url="http://127.0.0.1:9")
        events = session.client("events", endpoint_url="http://127.0.0.1:9")
        with pytest.raises(ClientError) as raised:
            dynamodb.get_item(TableName="t", Key={"pk": {"S": "1"}})
        assert raised.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
        assert is_retryable(raised.value)
        with pytest.raises(dynamodb.exceptions.ProvisionedThroughputExceededException):
            dynamodb.put_item(TableName="t", Item={"pk": {"S": "1"}})
        with pytest.raises(ClientError) as raised:
            events.put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}"}])
        assert raised.value.response["Error"]["Code"] == "ThrottlingException"
        caller = Caller(RetryPolicy(max_attempts=4, base_delay=0))
        with pytest.raises(RetryableError):
            caller(dynamodb.get_item, TableName="t", Key={"pk": {"S": "1"}})
        assert caller.calls == 4
        assert chaos.take_counts() == {"throttles": 7}
    finally:
        chaos.uninstall()


def test_denied_calls_are_errors_no_retry_can_fix():
    import boto3
    from botocore.exceptions import ClientError

    from stream_core.connectors import is_retryable

    chaos = WorkerChaos(error_rate=1.0)
    chaos.install()
    try:
        session = boto3.session.Session(
            aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
        )
        for service, call, code in (
            ("dynamodb", lambda c: c.put_item(TableName="t", Item={}), "AccessDeniedException"),
            ("s3", lambda c: c.put_object(Bucket="b", Key="k", Body=b""), "AccessDenied"),
        ):
            client = session.client(service, endpoint_url="http://127.0.0.1:9")
            with pytest.raises(ClientError) as raised:
                call(client)
            assert raised.value.response["Error"]["Code"] == code
            assert "stream-local chaos" in str(raised.value)
            assert not is_retryable(raised.value)
        assert chaos.take_counts() == {"aws_errors": 2}
    finally:
        chaos.uninstall()


def test_calls_are_throttled_denied_or_let_through_at_their_rates():
    chaos = WorkerChaos(throttle_rate=0.05, error_rate=0.02, seed=4)
    outcomes = Counter(chaos.call("events.PutEvents") for _ in range(20_000))
    assert _close(outcomes["throttle"], 20_000, 0.05)
    assert _close(outcomes["error"], 20_000, 0.02)
    assert chaos.take_counts() == {
        "throttles": outcomes["throttle"],
        "aws_errors": outcomes["error"],
    }


def test_single_throttles_come_at_their_rate():
    chaos = WorkerChaos(throttle_rate=0.05, seed=1)
    calls = [chaos.throttled("dynamodb.PutItem") for _ in range(20_000)]
    assert _close(sum(calls), len(calls), 0.05)
    assert chaos.take_counts() == {"throttles": sum(calls)}


def test_a_burst_throttles_the_next_calls_of_its_operation_in_its_thread_only():
    import threading

    chaos = WorkerChaos(burst_rate=0.01, burst_calls=4, seed=2)
    calls = [chaos.throttled("dynamodb.PutItem") for _ in range(20_000)]
    runs, length = [], 0
    for throttled in [*calls, False]:
        if throttled:
            length += 1
        elif length:
            runs.append(length)
            length = 0
    assert runs and all(r % 4 == 0 for r in runs)  # four calls in a row (or back to back)
    bursts = sum(calls) // 4
    assert _close(bursts, len(calls) - 3 * bursts, 0.01)  # the rest of a burst draws nothing
    assert chaos.take_counts() == {"throttles": sum(calls), "throttle_bursts": bursts}

    always = WorkerChaos(burst_rate=1.0, burst_calls=3, seed=3)
    assert always.throttled("sqs.SendMessage")  # starts a burst in this thread
    other: list[bool] = []
    worker = threading.Thread(target=lambda: other.append(always.throttled("sqs.SendMessage")))
    worker.start()
    worker.join()
    assert other == [True] and always.take_counts()["throttle_bursts"] == 2  # its own burst
    assert always.throttled("sqs.SendMessage") and always.throttled("sqs.SendMessage")
    assert always.take_counts() == {"throttles": 2}  # the rest of this thread's burst


# ---- in a worker process --------------------------------------------------------------------


def _spec(name, handler, **env):
    return FunctionSpec(
        name=name,
        handler=handler,
        service_dir=str(HANDLERS),
        environment=dict(env),
        timeout=10,
    )


@pytest.mark.integration
def test_a_worker_fails_invocations_before_and_after_its_handler(journal):
    chaos = Chaos(handler_error_rate=0.3, seed=4)
    worker = Worker(
        _spec("fn-chaos", "journal.handler", JOURNAL_FILE=str(journal.path)),
        {"AWS_REGION": "us-east-1"},
        chaos=chaos,
    )
    try:
        results = [worker.invoke({"n": n}) for n in range(80)]
    finally:
        worker.stop()
    failed = [r for r in results if not r.ok]
    assert failed and all(r.error["errorType"] == "ChaosError" for r in failed)
    counts = chaos.counts()
    assert counts["handler_errors"] == len(failed)
    assert _close(len(failed), 80, 0.3)
    # the handler ran for every invocation but those failed before it
    assert len(journal.entries()) == 80 - counts["handler_errors_before"]
    assert counts["handler_errors_after"] > 0 and counts["handler_errors_before"] > 0
    assert worker.starts == 1  # a chaos error is a handler error: the worker stays warm


@pytest.mark.integration
def test_a_worker_throttles_the_handlers_aws_calls_and_reports_them(cloud):
    chaos = Chaos(throttle_rate=0.2, seed=8)
    worker = Worker(_spec("fn-calls", "aws_calls.handler"), cloud.process_env(), chaos=chaos)
    try:
        result = worker.invoke({"calls": 300})
    finally:
        worker.stop()
    assert result.ok, result.error
    throttled = result.response["codes"].get("ThrottlingException", 0)
    assert result.response["ok"] + throttled == 300 and set(result.response["codes"]) <= {
        "ThrottlingException"
    }
    assert _close(throttled, 300, 0.2)
    assert chaos.counts()["throttles"] == throttled
    assert chaos.counts_by_function() == {"fn-calls": {"throttles": throttled}}


# ---- in the pollers -------------------------------------------------------------------------


@pytest.mark.integration
def test_a_shard_poller_delivers_tails_of_batches_again(
    cloud, aws, journal, journal_function, registry_of, run
):
    stream = aws.stream()
    aws.put(stream, [{"n": i} for i in range(60)])
    function = journal_function("fn-dup-kinesis", journal)
    mapping = {
        "function": function["arn"],
        "source": stream,
        "properties": {"StartingPosition": "TRIM_HORIZON", "BatchSize": 5},
    }
    chaos = Chaos(duplicate_rate=0.4, seed=21)
    run(cloud, registry_of("chaos-kinesis", [function], mappings=[mapping]), chaos=chaos)
    extra = lambda: chaos.counts()["duplicate_records"]  # noqa: E731
    assert wait_for(lambda: sum(map(len, journal.batches())) >= 60 + extra(), timeout=20)
    batches = journal.batches()
    seen = [n for batch in batches for n in batch]
    assert sorted(set(seen)) == list(range(60))
    assert len(seen) == 60 + extra() and chaos.counts()["duplicate_deliveries"] > 0
    firsts = [b for i, b in enumerate(batches) if i == 0 or b[0] > batches[i - 1][-1]]
    assert [n for b in firsts for n in b] == list(range(60))  # the rest are repeats
    for i, batch in enumerate(batches):
        if batch not in firsts:  # a redelivery: the tail of the batch just delivered
            assert batch == batches[i - 1][-len(batch) :]


@pytest.mark.integration
def test_an_sqs_poller_delivers_some_messages_twice_and_deletes_them_all(
    cloud, aws, journal, journal_function, registry_of, run
):
    url, arn = aws.queue(VisibilityTimeout="30")
    sqs = cloud.client("sqs")
    for i in range(30):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": i}))
    function = journal_function("fn-dup-sqs", journal)
    mapping = {"function": function["arn"], "source": arn, "properties": {"BatchSize": 5}}
    chaos = Chaos(duplicate_rate=0.5, seed=5)
    run(cloud, registry_of("chaos-sqs", [function], mappings=[mapping]), chaos=chaos)
    extra = lambda: chaos.counts()["duplicate_records"]  # noqa: E731
    assert wait_for(lambda: sum(map(len, journal.batches())) >= 30 + extra(), timeout=20)
    seen = Counter(n for batch in journal.batches() for n in batch)
    assert set(seen) == set(range(30)) and sum(seen.values()) == 30 + extra()
    assert chaos.counts()["duplicate_deliveries"] > 0
    assert aws.drain(url) == []


@pytest.mark.integration
def test_a_rule_delivers_some_events_to_its_targets_twice(cloud, aws, registry_of, run):
    events = cloud.client("events")
    bus = aws.name("bus")
    events.create_event_bus(Name=bus)
    tap_url, tap_arn = aws.queue()
    target_url, target_arn = aws.queue()
    name = aws.name("rule")
    arn = events.put_rule(Name=name, EventBusName=bus, EventPattern='{"source": ["t"]}')["RuleArn"]
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "tap", "Arn": tap_arn}])
    rule = {
        "logical_id": name,
        "arn": arn,
        "bus": bus,
        "state": "ENABLED",
        "tap_queue_url": tap_url,
        "targets": [{"Id": "q", "Arn": target_arn, "InputPath": "$.detail"}],
    }
    # every receive repeats some of its events: at 0.5 the few receives of 20 events could
    # all draw none (how the tap's receives split them depends on timing)
    chaos = Chaos(duplicate_rate=1.0, seed=3)
    run(cloud, registry_of("chaos-rule", [], rules=[rule]), chaos=chaos)
    for i in range(0, 20, 10):
        events.put_events(
            Entries=[
                {"EventBusName": bus, "Source": "t", "DetailType": "d", "Detail": f'{{"n": {n}}}'}
                for n in range(i, i + 10)
            ]
        )
    received: list[int] = []
    extra = lambda: chaos.counts()["duplicate_records"]  # noqa: E731
    assert wait_for(
        lambda: (
            received.extend(m["n"] for m in aws.drain(target_url)) or len(received) >= 20 + extra()
        ),
        timeout=20,
    )
    assert sorted(set(received)) == list(range(20))
    assert len(received) == 20 + extra() and extra() > 0
