"""Per-rule EMF metrics (Powertools): off by default, one line per rule per invocation."""

import json
import logging
import subprocess
import sys
import textwrap

import pytest
from pydantic import BaseModel

from stream_core.events.kinesis import from_kinesis, to_kinesis_records
from stream_core.flavors.task import task
from stream_core.pipelines import StreamPipeline, initialize_from, stream_handler
from stream_core.testing import MemoryPublisher
from stream_core.utils.opt import DEFAULT_OPTIONS


@pytest.fixture(autouse=True)
def _plain_powertools_env(monkeypatch):
    for name in (
        "STREAM_CORE_METRICS",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_DISABLED",
        "POWERTOOLS_DEV",
    ):
        monkeypatch.delenv(name, raising=False)


def poison(uow, rule):
    if uow["event"].get("poison"):
        raise ValueError("poison")
    return 1


class Named(BaseModel):
    name: str


RULES = [
    {"id": "work", "flavor": task, "event_type": "thing-created", "execute": poison},
    {"id": "typed", "flavor": task, "event_type": "thing-created", "schema": Named,
     "execute": lambda uow, rule: 1},
    {"id": "idle", "flavor": task, "event_type": "thing-deleted", "execute": poison},
]


def batch(n=5, poisoned=(1,), named=(0, 2)):
    events = [
        {"id": f"e{i}", "type": "thing-created", "timestamp": i, "poison": i in poisoned,
         **({"name": "x"} if i in named else {})}
        for i in range(n)
    ]
    return from_kinesis(to_kinesis_records(events))


def assemble(uows, rules=RULES, concurrency=False, **options):
    return StreamPipeline(
        initialize_from(rules), {**MemoryPublisher().options(), **options}, concurrency
    ).assemble(uows)


METRICS = ("UowsIn", "UowsOut", "Faults", "Duration")


def _values(line):
    """Powertools writes each metric as a list of values (one value each here)."""
    for name in METRICS:
        if name in line:
            [line[name]] = line[name]
    return line


def emf_lines(text):
    """The EMF objects printed, by pipeline dimension, and how many there were."""
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    emf = [_values(line) for line in lines if "_aws" in line]
    return {line["pipeline"]: line for line in emf}, len(emf)


def test_off_by_default_prints_nothing(capsys):
    result = assemble(batch())
    assert capsys.readouterr().out == ""
    assert result.inputs == {"work": 5, "typed": 5, "idle": 0}  # measured all the same
    assert set(result.durations) == {"work", "typed"}


def test_on_prints_one_emf_line_per_active_rule(capsys):
    result = assemble(batch(), metrics=True, metrics_namespace="orders")

    lines, count = emf_lines(capsys.readouterr().out)
    assert count == 2 and set(lines) == {"work", "typed"}  # the idle rule emits nothing
    work = lines["work"]
    [directive] = work["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "orders"
    assert directive["Dimensions"] == [["pipeline"]]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "UowsIn": "Count", "UowsOut": "Count", "Faults": "Count", "Duration": "Milliseconds"
    }
    assert (work["UowsIn"], work["UowsOut"], work["Faults"]) == (5, 4, 1)
    assert work["Duration"] == pytest.approx(result.durations["work"])
    assert work["Duration"] >= 0
    typed = lines["typed"]  # three events fail the schema: faults, not outputs
    assert (typed["UowsIn"], typed["UowsOut"], typed["Faults"]) == (5, 2, 3)


def test_once_per_invocation_not_per_record(capsys):
    assemble(batch(200, poisoned=(), named=range(200)), concurrency=True, metrics=True)

    lines, count = emf_lines(capsys.readouterr().out)
    assert count == 2
    assert lines["work"]["UowsIn"] == lines["work"]["UowsOut"] == 200


def test_each_invocation_emits_its_own_counts(capsys):
    pipeline = StreamPipeline(initialize_from(RULES[:1]),
                              {**MemoryPublisher().options(), "metrics": True}, False)
    pipeline.assemble(batch(3))
    pipeline.assemble(batch(2, poisoned=()))

    emf = [_values(json.loads(line)) for line in capsys.readouterr().out.splitlines()]
    assert [(e["UowsIn"], e["UowsOut"], e["Faults"]) for e in emf] == [(3, 2, 1), (2, 2, 0)]


def test_faults_of_no_rule_are_counted_under_undefined(capsys):
    uows = batch(2, poisoned=())
    uows.append({"record": {"kinesis": {"partitionKey": "p"}}, "event": None,
                 "malformed": ValueError("bad record")})

    assemble(uows, rules=RULES[:1], metrics=True)

    lines, count = emf_lines(capsys.readouterr().out)
    assert count == 2
    undefined = lines["undefined"]
    assert undefined["Faults"] == 1
    assert "UowsIn" not in undefined
    assert lines["work"]["Faults"] == 0


def test_namespace_from_powertools_env_then_default(capsys, monkeypatch):
    assemble(batch(1), rules=RULES[:1], metrics=True)
    lines, _ = emf_lines(capsys.readouterr().out)
    assert lines["work"]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "stream-core"

    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "from-env")
    assemble(batch(1), rules=RULES[:1], metrics=True)
    lines, _ = emf_lines(capsys.readouterr().out)
    assert lines["work"]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "from-env"


def test_service_dimension_when_powertools_service_is_set(capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "orders")
    assemble(batch(1), rules=RULES[:1], metrics=True)

    lines, _ = emf_lines(capsys.readouterr().out)
    work = lines["work"]
    assert work["service"] == "orders"
    assert sorted(work["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) == [
        "pipeline", "service"
    ]


@pytest.mark.parametrize("value", ["1", "true", "ON"])
def test_env_turns_metrics_on_through_default_options(value, capsys, monkeypatch):
    monkeypatch.setenv("STREAM_CORE_METRICS", value)
    options = {**DEFAULT_OPTIONS, **MemoryPublisher().options()}
    assert options["metrics"] is True
    StreamPipeline(initialize_from(RULES[:1]), options, False).assemble(batch(1))

    _, count = emf_lines(capsys.readouterr().out)
    assert count == 1


def test_env_off_values(monkeypatch):
    for value in ("0", "false", "", "no"):
        monkeypatch.setenv("STREAM_CORE_METRICS", value)
        assert DEFAULT_OPTIONS["metrics"] is False


def test_powertools_metrics_disabled_is_honoured(capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    assemble(batch(), metrics=True)
    assert capsys.readouterr().out == ""


def test_a_metrics_failure_never_fails_the_batch(capsys, caplog, monkeypatch):
    from stream_core.pipelines import metrics

    def broken(result, options):
        raise RuntimeError("emf broke")

    monkeypatch.setattr(metrics, "_emit", broken)
    with caplog.at_level(logging.WARNING):
        result = assemble(batch(), metrics=True, logger=logging.getLogger("t"))

    assert result.outputs["work"] == 4
    assert "metrics not emitted: RuntimeError: emf broke" in caplog.text
    assert capsys.readouterr().out == ""


def test_stream_handler_emits_metrics(capsys):
    handler = stream_handler(
        RULES[:1], from_kinesis, {**MemoryPublisher().options(), "metrics": True}
    )
    handler(to_kinesis_records([{"id": "a", "type": "thing-created", "timestamp": 1}]))

    lines, count = emf_lines(capsys.readouterr().out)  # the Powertools log lines are skipped
    assert count == 1
    assert lines["work"]["UowsIn"] == 1


def test_off_does_not_import_powertools_metrics(tmp_path):
    script = textwrap.dedent(
        """
        import logging, sys
        from stream_core.events.kinesis import from_kinesis, to_kinesis_records
        from stream_core.flavors.task import task
        from stream_core.pipelines import StreamPipeline, initialize_from
        from stream_core.testing import MemoryPublisher

        on = sys.argv[1:] == ["on"]
        rules = [{"id": "r", "flavor": task, "event_type": "t", "execute": lambda u, r: 1}]
        options = {**MemoryPublisher().options(), "logger": logging.getLogger("x"),
                   "metrics": on}
        StreamPipeline(initialize_from(rules), options).assemble(
            from_kinesis(to_kinesis_records([{"id": "1", "type": "t"}])))
        print("imported" if "aws_lambda_powertools.metrics" in sys.modules else "not imported")
        """
    )
    path = tmp_path / "metrics_off.py"
    path.write_text(script)

    def run(*args):
        done = subprocess.run(
            [sys.executable, str(path), *args], capture_output=True, text=True, timeout=60,
            env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()

    assert run() == ["not imported"]
    on = run("on")
    assert on[-1] == "imported"
    lines, count = emf_lines(on[0])
    assert count == 1 and lines["r"]["UowsIn"] == 1
