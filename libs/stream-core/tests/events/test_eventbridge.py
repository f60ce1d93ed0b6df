from __future__ import annotations

import copy
import json

import pytest

from stream_core.errors import ConfigurationError
from stream_core.events.eventbridge import (
    from_eventbridge,
    from_sqs_eventbridge,
    to_eventbridge_event,
    to_sqs_eventbridge_records,
)
from stream_core.events.sqs import to_sqs_records

FIFO_ARN = "arn:aws:sqs:eu-west-1:210987654321:orders.fifo"


# --- from_eventbridge (the rule invokes the Lambda) -----------------------------------------


def test_one_uow_whose_record_is_the_envelope_and_event_the_detail():
    event = {"id": "e1", "type": "thing-created", "timestamp": 1, "partition_key": "t1"}
    envelope = to_eventbridge_event(event)

    [uow] = from_eventbridge(envelope)

    assert uow["record"] is envelope
    assert uow["event"] == event
    assert "malformed" not in uow


def test_builder_shape():
    envelope = to_eventbridge_event(
        {"type": "thing-created", "timestamp": 1548967022123, "n": 1.5}, index=3, source="svc"
    )

    assert envelope["detail-type"] == "thing-created"
    assert envelope["source"] == "svc"
    assert envelope["time"] == "2019-01-31T20:37:02Z"  # EventBridge keeps seconds
    assert envelope["id"].endswith("3")
    assert envelope["detail"] == {"type": "thing-created", "timestamp": 1548967022123, "n": 1.5}
    assert {"version", "account", "region", "resources"} <= envelope.keys()


def test_defaults_come_from_the_envelope_and_the_envelope_stays_untouched():
    envelope = to_eventbridge_event({"thing": {"id": "t1"}})
    envelope["detail-type"] = "thing-created"
    envelope["time"] = "2019-01-31T20:37:02Z"
    before = copy.deepcopy(envelope)

    [uow] = from_eventbridge(envelope)

    assert uow["event"] == {
        "thing": {"id": "t1"},
        "type": "thing-created",
        "id": envelope["id"],
        "timestamp": 1548967022000,
    }
    assert envelope == before  # the record kept for resubmission is not modified


def test_event_values_win_over_envelope_defaults():
    event = {"type": "mine", "id": "my-id", "timestamp": 5}
    envelope = to_eventbridge_event(event)
    envelope["detail-type"] = "other"
    envelope["time"] = "not a time"  # never read: the event has a timestamp

    [uow] = from_eventbridge(envelope)

    assert uow["event"] == event


@pytest.mark.parametrize(
    ("breaks", "reason"),
    [
        (lambda e: e.pop("detail"), "not an object"),
        (lambda e: e.update(detail="text"), "not an object"),
        (lambda e: e.update(detail=[1]), "not an object"),
        (lambda e: e.update({"detail-type": None}), "no 'type'"),
        (lambda e: e.update(time="yesterday"), "bad 'time'"),
    ],
)
def test_a_malformed_envelope_gives_a_malformed_uow(breaks, reason, assert_malformed):
    envelope = to_eventbridge_event({"type": "t", "thing": 1})
    del envelope["detail"]["type"]  # the type comes from detail-type, the timestamp from time
    breaks(envelope)

    [uow] = from_eventbridge(envelope)

    assert_malformed(uow, envelope, reason)


@pytest.mark.parametrize(
    "event",
    [
        {"Records": [{"eventSource": "aws:kinesis"}]},
        {},
        None,
        "text",
        {"detail": {"type": "x"}},  # no detail-type: not an EventBridge envelope
    ],
)
def test_a_lambda_event_that_is_not_an_envelope_is_a_configuration_error(event):
    with pytest.raises(ConfigurationError, match="from_eventbridge"):
        from_eventbridge(event)


# --- from_sqs_eventbridge (the rule targets the queue) --------------------------------------


def test_sqs_round_trip_keeps_the_event_and_the_sqs_record():
    events = [
        {"id": "e1", "type": "thing-created", "timestamp": 1, "partition_key": "t1"},
        {"id": "e2", "type": "thing-updated", "timestamp": 2, "partition_key": "t2"},
    ]
    trigger = to_sqs_eventbridge_records(events)

    uows = from_sqs_eventbridge(trigger)

    assert [uow["event"] for uow in uows] == events
    assert [uow["record"] for uow in uows] == trigger["Records"]
    assert uows[0]["record"] is trigger["Records"][0]


def test_sqs_builder_puts_one_envelope_per_body():
    trigger = to_sqs_eventbridge_records([{"type": "a"}, {"type": "b"}], queue_arn=FIFO_ARN)

    envelopes = [json.loads(r["body"]) for r in trigger["Records"]]

    assert [e["detail-type"] for e in envelopes] == ["a", "b"]
    assert envelopes[0]["id"] != envelopes[1]["id"]
    assert envelopes[0]["account"] == "210987654321"
    assert envelopes[0]["region"] == "eu-west-1"


def test_sqs_defaults_come_from_the_envelope_then_the_message():
    trigger = to_sqs_eventbridge_records([{"type": "thing-created"}], queue_arn=FIFO_ARN)
    record = trigger["Records"][0]
    envelope = json.loads(record["body"])
    del envelope["detail"]["type"]
    envelope["time"] = "2019-01-31T20:37:02Z"
    record["body"] = json.dumps(envelope)
    record["attributes"]["MessageGroupId"] = "group-1"

    [uow] = from_sqs_eventbridge(trigger)

    assert uow["event"] == {
        "type": "thing-created",
        "id": envelope["id"],
        "timestamp": 1548967022000,
        "partition_key": "group-1",
    }


def test_sqs_without_time_or_id_in_the_envelope_uses_the_message():
    body = json.dumps({"detail-type": "t", "detail": {}})
    trigger = to_sqs_records(bodies=[body], sent_timestamp=42)

    [uow] = from_sqs_eventbridge(trigger)

    assert uow["event"]["timestamp"] == 42
    assert uow["event"]["id"] == trigger["Records"][0]["messageId"]


def test_sqs_orders_by_timestamp_and_is_stable_within_a_partition_key():
    events = [
        {"type": "t", "id": "a3", "partition_key": "a", "timestamp": 3},
        {"type": "t", "id": "b1", "partition_key": "b", "timestamp": 1},
        {"type": "t", "id": "a1", "partition_key": "a", "timestamp": 1},
        {"type": "t", "id": "a1-bis", "partition_key": "a", "timestamp": 1},
    ]

    uows = from_sqs_eventbridge(to_sqs_eventbridge_records(events))

    assert [uow["event"]["id"] for uow in uows] == ["b1", "a1", "a1-bis", "a3"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "not an EventBridge event"),
        ('{"type": "an event, not an envelope"}', "no 'detail-type'"),
        ("[1]", "no 'detail-type'"),
        ('{"detail-type": "t"}', "not an object"),
        ('{"detail-type": "t", "detail": "text"}', "not an object"),
        ('{"detail-type": null, "detail": {}}', "no 'type'"),
        ('{"detail-type": "t", "detail": {}, "time": "yesterday"}', "not an EventBridge"),
    ],
)
def test_malformed_sqs_bodies_give_malformed_uows_and_the_batch_goes_on(
    body, reason, assert_malformed
):
    trigger = to_sqs_eventbridge_records(
        [{"type": "good", "id": "g1"}, {"type": "x"}, {"type": "good", "id": "g2"}]
    )
    bad = trigger["Records"][1]
    bad["body"] = body

    uows = from_sqs_eventbridge(trigger)

    assert len(uows) == 3
    [malformed] = [u for u in uows if u["event"] is None]
    assert_malformed(malformed, bad, reason)
    assert sorted(u["event"]["id"] for u in uows if u["event"]) == ["g1", "g2"]


def test_sqs_no_records():
    assert from_sqs_eventbridge({"Records": []}) == []
    assert from_sqs_eventbridge(to_sqs_eventbridge_records([])) == []


@pytest.mark.parametrize("event", [{}, {"Records": None}, None, {"detail-type": "x"}])
def test_sqs_trigger_event_without_records_is_a_configuration_error(event):
    with pytest.raises(ConfigurationError, match="from_sqs"):
        from_sqs_eventbridge(event)
