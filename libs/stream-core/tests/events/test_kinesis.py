from __future__ import annotations

import json
from base64 import b64encode

import pytest

from stream_core.errors import ConfigurationError
from stream_core.events.kinesis import from_kinesis, to_kinesis_records


def _data(text: str) -> str:
    return b64encode(text.encode("utf-8")).decode("ascii")


def test_round_trip_keeps_the_event_and_the_record():
    events = [
        {"id": "e1", "type": "thing-created", "timestamp": 1, "partition_key": "t1", "n": 1.5},
        {"id": "e2", "type": "thing-updated", "timestamp": 2, "partition_key": "t2", "x": [1]},
    ]
    trigger = to_kinesis_records(events)

    uows = from_kinesis(trigger)

    assert [uow["event"] for uow in uows] == events
    assert [uow["record"] for uow in uows] == trigger["Records"]
    assert uows[0]["record"] is trigger["Records"][0]
    assert all("malformed" not in uow for uow in uows)


def test_builder_shape():
    trigger = to_kinesis_records([{"type": "a", "id": "x"}, {"type": "b", "partition_key": "p"}])
    first, second = trigger["Records"]
    assert first["eventSource"] == "aws:kinesis"
    assert first["kinesis"]["partitionKey"] == "x"
    assert second["kinesis"]["partitionKey"] == "p"
    assert int(second["kinesis"]["sequenceNumber"]) > int(first["kinesis"]["sequenceNumber"])
    assert first["eventID"].endswith(first["kinesis"]["sequenceNumber"])


def test_defaults_come_from_the_record():
    trigger = to_kinesis_records([{"type": "thing-created"}])
    record = trigger["Records"][0]
    record["kinesis"]["partitionKey"] = "pk-1"
    record["kinesis"]["approximateArrivalTimestamp"] = 1545084650.987

    [uow] = from_kinesis(trigger)

    assert uow["event"]["id"] == record["eventID"]
    assert uow["event"]["timestamp"] == 1545084650987
    assert uow["event"]["partition_key"] == "pk-1"


def test_event_values_win_over_record_defaults():
    trigger = to_kinesis_records(
        [{"type": "thing-created", "id": "mine", "timestamp": 7, "partition_key": "own"}]
    )
    trigger["Records"][0]["kinesis"]["partitionKey"] = "other"

    [uow] = from_kinesis(trigger)

    assert (uow["event"]["id"], uow["event"]["timestamp"]) == ("mine", 7)
    assert uow["event"]["partition_key"] == "own"


def test_orders_by_timestamp_and_is_stable_within_a_partition_key():
    events = [
        {"type": "t", "id": "a3", "partition_key": "a", "timestamp": 3},
        {"type": "t", "id": "b1", "partition_key": "b", "timestamp": 1},
        {"type": "t", "id": "a1", "partition_key": "a", "timestamp": 1},
        {"type": "t", "id": "a1-bis", "partition_key": "a", "timestamp": 1},
        {"type": "t", "id": "b2", "partition_key": "b", "timestamp": 2},
    ]

    uows = from_kinesis(to_kinesis_records(events))

    assert [uow["event"]["id"] for uow in uows] == ["b1", "a1", "a1-bis", "b2", "a3"]


def test_incomparable_timestamps_keep_arrival_order():
    events = [{"type": "t", "id": "1", "timestamp": 5}, {"type": "t", "id": "2", "timestamp": "x"}]

    uows = from_kinesis(to_kinesis_records(events))

    assert [uow["event"]["id"] for uow in uows] == ["1", "2"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("!!not base64!!", "not base64"),
        (_data("{not json"), "not UTF-8 JSON"),
        (_data('["a list"]'), "not an object"),
        (_data('"a string"'), "not an object"),
        (_data('{"id": "no-type"}'), "no 'type'"),
        (_data('{"type": 42}'), "no 'type'"),
        (_data('{"type": ""}'), "no 'type'"),
    ],
)
def test_malformed_data_gives_a_malformed_uow_and_the_batch_goes_on(data, reason, assert_malformed):
    trigger = to_kinesis_records(
        [{"type": "good", "id": "g1", "timestamp": 1}, {"type": "x"}, {"type": "good", "id": "g2"}]
    )
    bad = trigger["Records"][1]
    bad["kinesis"]["data"] = data

    uows = from_kinesis(trigger)

    assert len(uows) == 3
    [malformed] = [uow for uow in uows if uow["event"] is None]
    assert_malformed(malformed, bad, reason)
    assert sorted(uow["event"]["id"] for uow in uows if uow["event"]) == ["g1", "g2"]


def test_bad_base64_keeps_its_cause(assert_malformed):
    trigger = to_kinesis_records([{"type": "x"}])
    trigger["Records"][0]["kinesis"]["data"] = "abc"  # wrong padding

    [uow] = from_kinesis(trigger)

    assert_malformed(uow, trigger["Records"][0])
    assert uow["malformed"].__cause__ is not None


@pytest.mark.parametrize("record", [{}, {"kinesis": {}}, {"kinesis": None}, "a string", None])
def test_records_without_kinesis_data_are_malformed(record, assert_malformed):
    trigger = to_kinesis_records([{"type": "good", "id": "g"}])
    trigger["Records"].insert(0, record)

    uows = from_kinesis(trigger)

    assert_malformed(next(u for u in uows if u["event"] is None), record)
    assert [u["event"]["id"] for u in uows if u["event"]] == ["g"]


def test_payload_is_json_of_one_event():
    trigger = {"Records": [{"kinesis": {"data": _data(json.dumps({"type": "t", "id": "1"}))}}]}

    [uow] = from_kinesis(trigger)

    assert uow["event"] == {"type": "t", "id": "1", "timestamp": None, "partition_key": None}


def test_no_records():
    assert from_kinesis({"Records": []}) == []
    assert from_kinesis(to_kinesis_records([])) == []


@pytest.mark.parametrize("event", [{}, {"Records": None}, {"Records": {"a": 1}}, None, []])
def test_a_trigger_event_without_records_is_a_configuration_error(event):
    with pytest.raises(ConfigurationError, match="from_kinesis"):
        from_kinesis(event)
