"""The runtime as a whole: reloading a redeployed service, asynchronous invocations."""

from __future__ import annotations

import pytest

from stream_local.runtime import wait_for

pytestmark = pytest.mark.integration


def test_reload_restarts_the_workers_of_a_redeployed_service_and_its_pollers(
    cloud, aws, journal, journal_function, registry_of, run
):
    first_stream, second_stream = aws.stream(), aws.stream()
    env = {"JOURNAL_ENV": "VERSION"}
    v1 = journal_function("fn-reload", journal, env={**env, "VERSION": "1"})

    def mapping(stream):
        return {
            "function": v1["arn"],
            "source": stream,
            "properties": {"StartingPosition": "TRIM_HORIZON"},
        }

    runtime = run(cloud, registry_of("reload", [v1], mappings=[mapping(first_stream)]))
    aws.put(first_stream, [{"n": 1}])
    assert wait_for(lambda: journal.entries(), timeout=10)
    old_pid = runtime.workers["fn-reload"].pid
    (old_poller,) = runtime.pollers

    v2 = journal_function("fn-reload", journal, env={**env, "VERSION": "2"})
    runtime.reload(registry_of("reload", [v2], mappings=[mapping(second_stream)]))
    assert not old_poller.alive and len(runtime.pollers) == 1
    aws.put(first_stream, [{"n": 2}])  # no longer mapped
    aws.put(second_stream, [{"n": 3}])
    assert wait_for(lambda: len(journal.entries()) >= 2, timeout=10)
    second = journal.entries()[-1]
    assert [p["n"] for p in second["payloads"]] == [3]
    assert second["env"] == {"VERSION": "2"} and second["pid"] != old_pid
    assert len(journal.entries()) == 2


def test_invoking_an_unknown_function_names_it(cloud, registry_of, run):
    runtime = run(cloud, registry_of("nothing", []))
    with pytest.raises(KeyError, match="no deployed function 'ghost'"):
        runtime.invoke("ghost", {}, source="test")


def test_a_poller_outlives_moto_failing_to_answer():
    from botocore.exceptions import EndpointConnectionError

    from stream_local.pollers.base import PollerThread

    poller = PollerThread()
    poller.stopping.set()  # no real waiting in the test
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
        return "page"

    assert poller.attempt(flaky) is None and poller.failures == 1
    assert poller.attempt(flaky) == "page" and poller.failures == 0
