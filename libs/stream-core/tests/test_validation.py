"""Rule ``schema`` (pydantic v2): invalid events become faults, valid ones carry ``model``."""

import json
import subprocess
import sys
import textwrap

import pytest
from pydantic import BaseModel, field_validator

from stream_core.errors import EventValidationError, RuleValidationError
from stream_core.events.kinesis import from_kinesis, to_kinesis_records
from stream_core.flavors.task import task
from stream_core.pipelines import StreamPipeline, initialize_from, stream_handler
from stream_core.testing import MemoryPublisher


class Thing(BaseModel):
    id: str
    name: str
    count: int = 0


class ThingCreated(BaseModel):
    id: str
    type: str
    thing: Thing


GOOD = {"id": "good", "type": "thing-created", "timestamp": 1, "thing": {"id": "t1", "name": "x"}}
BAD = {"id": "bad", "type": "thing-created", "timestamp": 2, "thing": {"id": "t2", "count": "many"}}


def run(rules, events, concurrency=False):
    sink = MemoryPublisher()
    out = []
    result = StreamPipeline(initialize_from(rules), sink.options(), concurrency).assemble(
        from_kinesis(to_kinesis_records(events)),
        on_next=lambda pid, uow: out.append((pid, uow)),
    )
    return out, result, sink


def test_valid_events_reach_the_rule_with_the_model_attached():
    seen = []

    def execute(uow, rule):
        seen.append(uow)
        return uow["model"].thing.name

    rules = [{"id": "r", "flavor": task, "event_type": "thing-created", "schema": ThingCreated,
              "execute": execute}]
    out, result, sink = run(rules, [GOOD])

    [uow] = seen
    assert isinstance(uow["model"], ThingCreated)
    assert uow["model"].thing == Thing(id="t1", name="x", count=0)
    assert isinstance(uow["event"], dict)  # the event stays the dict it was
    assert uow["event"]["thing"] == {"id": "t1", "name": "x"}
    assert [u["result"] for _, u in out] == ["x"]
    assert result.faults == [] and sink.faults == []


def test_invalid_events_become_faults_with_the_errors_and_never_reach_the_rule():
    seen = []
    rules = [{"id": "r", "flavor": task, "event_type": "thing-created", "schema": ThingCreated,
              "execute": lambda uow, rule: seen.append(uow["event"]["id"])}]

    out, _, sink = run(rules, [GOOD, BAD])

    assert seen == ["good"]
    assert [u["event"]["id"] for _, u in out] == ["good"]
    [fault] = sink.faults
    assert fault["type"] == "fault"
    assert fault["tags"]["pipeline"] == "r"
    assert fault["uow"]["event"]["id"] == "bad"
    assert fault["uow"]["record"] is not None  # resubmittable
    err = fault["err"]
    assert err["name"] == "EventValidationError"
    assert err["stream_core"] is True and err["retryable"] is False
    assert "'bad'" in err["message"] and "ThingCreated" in err["message"]
    assert err["details"] == [
        {"loc": ["thing", "name"], "msg": "Field required", "type": "missing"},
        {"loc": ["thing", "count"],
         "msg": "Input should be a valid integer, unable to parse string as an integer",
         "type": "int_parsing"},
    ]
    json.dumps(fault)  # the fault event is JSON-ready


def test_other_rules_are_not_affected():
    rules = [
        {"id": "strict", "flavor": task, "event_type": "thing-created", "schema": ThingCreated,
         "execute": lambda uow, rule: "strict"},
        {"id": "lenient", "flavor": task, "event_type": "thing-created",
         "execute": lambda uow, rule: "model" in uow},
        {"id": "other", "flavor": task, "event_type": "thing-updated", "schema": ThingCreated,
         "execute": lambda uow, rule: "other"},
    ]
    updated = {**BAD, "id": "u", "type": "thing-updated"}

    out, result, sink = run(rules, [GOOD, BAD, updated], concurrency=True)

    assert result.outputs == {"strict": 1, "lenient": 2, "other": 0}
    assert sorted((pid, u["event"]["id"]) for pid, u in out) == [
        ("lenient", "bad"), ("lenient", "good"), ("strict", "good")
    ]
    assert all(u["result"] is False for pid, u in out if pid == "lenient")  # no model there
    assert sorted((f["tags"]["pipeline"], f["uow"]["event"]["id"]) for f in sink.faults) == [
        ("other", "u"), ("strict", "bad")
    ]


def test_validation_runs_before_content_filters():
    # Documented: the schema must accept every event of the rule's event_type.
    rules = [{"id": "r", "flavor": task, "event_type": "thing-created", "schema": ThingCreated,
              "filters": [lambda uow, rule: False], "execute": lambda uow, rule: 1}]

    out, _, sink = run(rules, [GOOD, BAD])

    assert out == []
    assert [f["uow"]["event"]["id"] for f in sink.faults] == ["bad"]


def test_a_model_validator_that_breaks_faults_the_event_without_details():
    class Picky(BaseModel):
        id: str

        @field_validator("id")
        @classmethod
        def boom(cls, value):
            if value == "bad":
                raise KeyError("boom")
            return value

    rules = [{"id": "r", "flavor": task, "event_type": "thing-created", "schema": Picky,
              "execute": lambda uow, rule: 1}]

    out, _, sink = run(rules, [GOOD, BAD])

    assert [u["event"]["id"] for _, u in out] == ["good"]
    [fault] = sink.faults
    assert fault["err"]["name"] == "KeyError"
    assert "details" not in fault["err"]


def test_the_message_lists_the_first_errors_and_counts_the_rest():
    class Wide(BaseModel):
        a: int
        b: int
        c: int
        d: int
        e: int

    rules = [{"id": "r", "flavor": task, "event_type": "thing-created", "schema": Wide,
              "execute": lambda uow, rule: 1}]

    _, _, sink = run(rules, [GOOD])

    err = sink.faults[0]["err"]
    assert len(err["details"]) == 5
    assert "a: Field required; b: Field required; c: Field required (+2 more)" in err["message"]


def test_event_validation_error_carries_errors_and_details():
    err = EventValidationError("nope", [{"loc": ["x"], "msg": "m", "type": "t"}])
    assert err.errors == err.details == [{"loc": ["x"], "msg": "m", "type": "t"}]


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"id": str}, r"must be a pydantic BaseModel subclass, not a dict$"),
        (dict, r"must be a pydantic BaseModel subclass, not the class dict$"),
        (Thing(id="1", name="x"), r"must be .*, not a Thing instance \(give the class\)"),
        (BaseModel, None),  # the base class itself is accepted (it validates nothing)
    ],
)
def test_schema_must_be_a_base_model_subclass(schema, problem):
    rule = {"id": "r", "flavor": task, "event_type": "t", "schema": schema,
            "execute": lambda uow, rule: 1}
    if problem is None:
        initialize_from([rule])
        return
    with pytest.raises(RuleValidationError, match=r"rule 'r': field 'schema' " + problem):
        initialize_from([rule])


def test_schema_needs_an_event_type():
    def custom(rule):
        return lambda source: source

    with pytest.raises(RuleValidationError, match="'schema' needs an 'event_type'"):
        initialize_from([{"id": "r", "flavor": custom, "schema": Thing}])


def test_schema_is_a_known_field_and_typos_are_caught():
    with pytest.raises(RuleValidationError, match="did you mean 'schema'"):
        initialize_from([{"id": "r", "flavor": task, "event_type": "t", "schemma": Thing,
                          "execute": lambda uow, rule: 1}])


def test_a_handler_module_without_schemas_does_not_import_pydantic(tmp_path):
    script = textwrap.dedent(
        """
        import sys
        from stream_core.events.kinesis import from_kinesis, to_kinesis_records
        from stream_core.flavors.task import task
        from stream_core.pipelines import stream_handler
        from stream_core.testing import MemoryPublisher

        sink = MemoryPublisher()
        rules = [{"id": "r", "flavor": task, "event_type": "thing-created",
                  "execute": lambda uow, rule: 1}]
        handler = stream_handler(rules, from_kinesis, sink.options(), concurrency=False)
        handler(to_kinesis_records([{"id": "1", "type": "thing-created"}]))
        assert "pydantic" not in sys.modules, "pydantic imported without a schema"
        if sys.argv[1:] == ["with-schema"]:
            from pydantic import BaseModel  # noqa: F401  (sanity: the check can fail)
            assert "pydantic" in sys.modules
        print("ok")
        """
    )
    path = tmp_path / "handler_module.py"
    path.write_text(script)
    for args in ([], ["with-schema"]):
        done = subprocess.run(
            [sys.executable, str(path), *args], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "ok"


def test_faults_with_details_reach_the_bus(event_bus):
    handler = stream_handler(
        [{"id": "r", "flavor": task, "event_type": "thing-created", "schema": ThingCreated,
          "execute": lambda uow, rule: 1}],
        from_kinesis,
    )

    assert handler(to_kinesis_records([GOOD, BAD])) == {"batchItemFailures": []}

    [fault] = [e for e in event_bus.events() if e["type"] == "fault"]
    assert fault["err"]["name"] == "EventValidationError"
    assert [d["loc"] for d in fault["err"]["details"]] == [["thing", "name"], ["thing", "count"]]
