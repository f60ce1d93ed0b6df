import re

import pytest

from stream_core.errors import ConfigurationError, RuleValidationError
from stream_core.flavors.task import task
from stream_core.pipelines import Pipeline, initialize_from


def execute(uow, rule):
    return True


def rule(**fields):
    return {"id": "r1", "flavor": task, "event_type": "thing-created", "execute": execute, **fields}


def test_valid_rules_become_pipelines_in_order():
    pipelines = initialize_from([rule(id="a"), rule(id="b", event_type=["x", "y"])])
    assert list(pipelines) == ["a", "b"]
    assert all(isinstance(p, Pipeline) for p in pipelines.values())
    assert pipelines["b"].matcher.types == frozenset({"x", "y"})


def test_flavor_by_name_resolves_to_the_builtin():
    pipelines = initialize_from([rule(flavor="task")])
    assert pipelines["r1"].flavor is task


@pytest.mark.parametrize(
    ("bad", "field", "fragment"),
    [
        ({"id": ""}, "id", "is required"),
        ({"flavor": "tsak"}, "flavor", "unknown flavor 'tsak'"),
        ({"flavor": 42}, "flavor", "must be a flavor function"),
        ({"event_type": None}, "event_type", "is required by flavor 'task'"),
        ({"event_type": 7}, "event_type", "must be a string"),
        ({"event_type": []}, "event_type", "non-empty list"),
        ({"filters": "nope"}, "filters", "must be a list"),
        ({"filters": [42]}, "filters[0]", "must be a callable"),
        ({"execute": "not-callable"}, "execute", "must be a callable"),
        ({"emit": 3}, "emit", "must be a str or a callable"),
        ({"excute": execute}, "excute", "did you mean 'execute'"),
        ({"execute": None}, "rule", "needs 'execute' or 'emit'"),
    ],
)
def test_invalid_rule_names_rule_and_field(bad, field, fragment):
    with pytest.raises(RuleValidationError) as info:
        initialize_from([rule(**bad)])
    assert info.value.field == field
    assert fragment in str(info.value)
    assert isinstance(info.value, ConfigurationError)


def test_missing_flavor_and_duplicate_ids():
    with pytest.raises(RuleValidationError, match="'flavor' is required"):
        initialize_from([{"id": "x", "event_type": "t"}])
    with pytest.raises(RuleValidationError, match="more than one rule") as info:
        initialize_from([rule(id="same"), rule(id="same")])
    assert info.value.rule_id == "same"


def test_non_dict_rule_is_named_by_position():
    with pytest.raises(RuleValidationError, match="#1"):
        initialize_from([rule(), "oops"])


def test_custom_flavor_without_spec_keeps_its_own_fields():
    def my_flavor(rule):
        return lambda source: source

    pipelines = initialize_from([{"id": "c", "flavor": my_flavor, "anything": 1}])
    assert pipelines["c"].matcher is None  # no event_type: sees every event


def test_event_type_forms_compile():
    pipelines = initialize_from(
        [
            rule(id="regex", event_type=re.compile(r"thing-(created|updated)$")),
            rule(id="call", event_type=lambda uow: uow["event"]["type"].startswith("t")),
        ]
    )
    uow = {"event": {"type": "thing-updated"}}
    assert pipelines["regex"].matcher(uow) is True
    assert pipelines["call"].matcher(uow) is True
    assert pipelines["regex"].matcher({"event": {"type": "thing-deleted"}}) is False
