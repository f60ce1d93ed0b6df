"""Event-stream hygiene filters: out_source_is_self, out_latched, out_skip."""

import reactivex

from stream_core.events.dynamodb import from_dynamodb, to_dynamodb_records
from stream_core.events.kinesis import from_kinesis, to_kinesis_records
from stream_core.filters import (
    latched,
    out_latched,
    out_skip,
    out_source_is_self,
    out_source_is_self_for,
    skip_tag,
    unlatched,
)
from stream_core.flavors.task import task
from stream_core.pipelines import StreamPipeline, initialize_from
from stream_core.testing import MemoryPublisher
from stream_core.utils.dynamodb import update_expression
from stream_core.utils.operators import rx_filter


def uow_from(source=None, **tags):
    event = {"id": "e1", "type": "thing-created"}
    if source is not None:
        tags["source"] = source
    if tags:
        event["tags"] = tags
    return {"event": event}


def run(rules, uows):
    out = []
    StreamPipeline(initialize_from(rules), MemoryPublisher().options(), False).assemble(
        uows, on_next=lambda pid, uow: out.append(uow["event"]["id"])
    )
    return out


def ids(uow, rule):
    return uow["event"]["id"]


# -- out_source_is_self ------------------------------------------------------------------------


def test_out_source_is_self_reads_service_at_call(monkeypatch):
    monkeypatch.setenv("SERVICE", "orders")
    assert out_source_is_self(uow_from("orders")) is False
    assert out_source_is_self(uow_from("billing")) is True
    assert out_source_is_self(uow_from()) is True  # no tags
    assert out_source_is_self(uow_from(region="x")) is True  # tags without source
    monkeypatch.setenv("SERVICE", "billing")
    assert out_source_is_self(uow_from("billing"), {"id": "rule"}) is False


def test_out_source_is_self_falls_back_to_serverless_project(monkeypatch):
    monkeypatch.delenv("SERVICE", raising=False)
    monkeypatch.setenv("SERVERLESS_PROJECT", "orders")
    assert out_source_is_self(uow_from("orders")) is False


def test_out_source_is_self_keeps_everything_when_the_service_is_unknown(monkeypatch):
    monkeypatch.delenv("SERVICE", raising=False)
    monkeypatch.delenv("SERVERLESS_PROJECT", raising=False)
    assert out_source_is_self(uow_from("orders")) is True
    assert out_source_is_self(uow_from("undefined")) is True


def test_out_source_is_self_for_binds_the_service_when_built(monkeypatch):
    monkeypatch.setenv("SERVICE", "orders")
    from_env = out_source_is_self_for()
    explicit = out_source_is_self_for("billing")
    monkeypatch.setenv("SERVICE", "other")
    assert from_env(uow_from("orders")) is False
    assert from_env(uow_from("other"), {}) is True
    assert explicit(uow_from("billing")) is False
    assert explicit(uow_from("orders")) is True


def test_out_source_is_self_in_rule_filters_and_rx_filter(monkeypatch):
    monkeypatch.setenv("SERVICE", "orders")
    events = [
        {"id": "mine", "type": "thing-created", "tags": {"source": "orders"}},
        {"id": "theirs", "type": "thing-created", "tags": {"source": "billing"}},
    ]
    rules = [
        {"id": "r", "flavor": task, "event_type": "thing-created", "execute": ids,
         "filters": [out_source_is_self]},
        {"id": "b", "flavor": task, "event_type": "thing-created", "execute": ids,
         "filters": [out_source_is_self_for("billing")]},
    ]
    assert sorted(run(rules, from_kinesis(to_kinesis_records(events)))) == ["mine", "theirs"]

    kept = []
    reactivex.from_iterable(from_kinesis(to_kinesis_records(events))).pipe(
        rx_filter(out_source_is_self)
    ).subscribe(lambda uow: kept.append(uow["event"]["id"]))
    assert kept == ["theirs"]


# -- latching ----------------------------------------------------------------------------------


THING = {"pk": "t1", "sk": "thing", "name": "x"}


def test_latched_and_unlatched_return_copies():
    item = {"pk": "1"}
    assert latched(item) == {"pk": "1", "latched": True}
    assert unlatched({"pk": "1", "latched": True}) == {"pk": "1", "latched": None}
    assert item == {"pk": "1"}


def test_unlatched_removes_the_attribute_in_an_update_expression():
    request = update_expression(unlatched({"name": "y"}))
    assert request["UpdateExpression"].startswith("SET ")
    assert "REMOVE" in request["UpdateExpression"]
    assert "latched" in request["ExpressionAttributeNames"].values()


def test_out_latched_on_dynamodb_changes():
    trigger = to_dynamodb_records(
        [
            {"newImage": latched(THING)},  # listener insert
            {"newImage": {**THING, "name": "y"}},  # command insert
            {"newImage": latched({**THING, "name": "z"}), "oldImage": THING},  # listener update
            {"newImage": {**THING, "name": "w"}, "oldImage": latched(THING)},  # command update
            {"oldImage": latched(THING)},  # delete of a listener-written item
            {"oldImage": THING},  # delete of a command-written item
            {"newImage": {**THING, "latched": False}},
        ]
    )
    uows = from_dynamodb(trigger, replicas="keep")

    assert [out_latched(uow) for uow in uows] == [False, True, False, True, False, True, True]
    assert [out_latched(uow, {"id": "r"}) for uow in uows][:2] == [False, True]


def test_out_latched_keeps_uows_without_images():
    assert out_latched({"event": {"id": "1", "type": "t"}}) is True
    assert out_latched({"event": {"id": "1", "type": "t", "raw": {"new": None, "old": None}}})


def test_out_latched_in_a_trigger_rule():
    trigger = to_dynamodb_records(
        [
            {"newImage": latched({**THING, "pk": "by-listener"})},
            {"newImage": unlatched({**THING, "pk": "by-command"})},
        ]
    )
    rules = [{"id": "cdc", "flavor": task, "event_type": "thing-created",
              "filters": [out_latched], "execute": ids}]
    out = []
    StreamPipeline(initialize_from(rules), MemoryPublisher().options(), False).assemble(
        from_dynamodb(trigger, replicas="keep"),
        on_next=lambda pid, uow: out.append(uow["event"]["partition_key"]),
    )
    assert out == ["by-command"]


# -- skip --------------------------------------------------------------------------------------


def test_out_skip():
    assert out_skip(uow_from(skip=True)) is False
    assert out_skip(uow_from(skip=False)) is True
    assert out_skip(uow_from()) is True
    assert out_skip({"event": {"id": "1", "type": "t", "tags": None}}, {}) is True


def test_skip_tag_is_true_under_pytest():
    assert skip_tag() == {"skip": True}
    assert skip_tag({}) == {"skip": False}


def test_out_skip_in_rule_filters():
    events = [
        {"id": "test", "type": "thing-created", "tags": {"skip": True}},
        {"id": "real", "type": "thing-created", "tags": {}},
    ]
    rules = [{"id": "r", "flavor": task, "event_type": "thing-created", "execute": ids,
              "filters": [out_skip]}]
    assert run(rules, from_kinesis(to_kinesis_records(events))) == ["real"]
