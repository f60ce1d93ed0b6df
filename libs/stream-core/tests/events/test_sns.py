from __future__ import annotations

import json

import pytest

from stream_core.errors import ConfigurationError
from stream_core.events.sns import from_sns, to_sns_records


def test_round_trip_keeps_the_event_and_the_record():
    events = [
        {"id": "e1", "type": "thing-created", "timestamp": 1, "partition_key": "t1", "n": 1.5},
        {"id": "e2", "type": "thing-updated", "timestamp": 2},
    ]
    trigger = to_sns_records(events)

    uows = from_sns(trigger)

    assert [uow["event"] for uow in uows] == events
    assert [uow["record"] for uow in uows] == trigger["Records"]
    assert uows[0]["record"] is trigger["Records"][0]


def test_builder_shape():
    trigger = to_sns_records(
        [{"type": "a"}, {"type": "b"}],
        topic_arn="arn:aws:sns:eu-west-1:123456789012:things",
        subject="hello",
    )
    first, second = trigger["Records"]

    assert first["EventSource"] == "aws:sns"
    sns = first["Sns"]
    assert sns["Type"] == "Notification"
    assert sns["TopicArn"] == "arn:aws:sns:eu-west-1:123456789012:things"
    assert sns["Subject"] == "hello"
    assert json.loads(sns["Message"]) == {"type": "a"}
    assert "SigningCertUrl" in sns  # Lambda's spelling, not the SQS envelope's
    assert sns["MessageId"] != second["Sns"]["MessageId"]


def test_defaults_come_from_the_notification():
    trigger = to_sns_records([{"type": "thing-created"}], published=1548967022123)

    [uow] = from_sns(trigger)

    sns = trigger["Records"][0]["Sns"]
    assert sns["Timestamp"] == "2019-01-31T20:37:02.123Z"
    assert uow["event"]["id"] == sns["MessageId"]
    assert uow["event"]["timestamp"] == 1548967022123
    assert "partition_key" not in uow["event"]


@pytest.mark.parametrize(
    ("timestamp", "ms"),
    [
        ("1970-01-01T00:00:00.001Z", 1),
        ("2019-01-31T20:37:02.999Z", 1548967022999),
        ("2019-01-31T20:37:02Z", 1548967022000),
        ("2019-01-31T20:37:02.123", 1548967022123),  # no offset: UTC
        ("2019-01-31T21:37:02.123+01:00", 1548967022123),
    ],
)
def test_timestamps_are_exact_milliseconds(timestamp, ms):
    trigger = to_sns_records([{"type": "t"}])
    trigger["Records"][0]["Sns"]["Timestamp"] = timestamp

    [uow] = from_sns(trigger)

    assert uow["event"]["timestamp"] == ms


def test_event_values_win_over_notification_defaults():
    event = {"type": "t", "id": "mine", "timestamp": 5}
    trigger = to_sns_records([event])
    trigger["Records"][0]["Sns"]["Timestamp"] = "not a time"  # never read: the event has one

    [uow] = from_sns(trigger)

    assert uow["event"] == event


def test_orders_by_timestamp_and_is_stable_within_a_partition_key():
    events = [
        {"type": "t", "id": "a3", "partition_key": "a", "timestamp": 3},
        {"type": "t", "id": "b1", "partition_key": "b", "timestamp": 1},
        {"type": "t", "id": "a1", "partition_key": "a", "timestamp": 1},
        {"type": "t", "id": "a1-bis", "partition_key": "a", "timestamp": 1},
    ]

    uows = from_sns(to_sns_records(events))

    assert [uow["event"]["id"] for uow in uows] == ["b1", "a1", "a1-bis", "a3"]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("{not json", "not a JSON event"),
        ("[1, 2]", "not an object"),
        ("null", "not an object"),
        ('{"id": "no type"}', "no 'type'"),
        ('{"type": ["a"]}', "no 'type'"),
    ],
)
def test_malformed_messages_give_malformed_uows_and_the_batch_goes_on(
    message, reason, assert_malformed
):
    good = json.dumps({"type": "good", "id": "g1", "timestamp": 1})
    trigger = to_sns_records(messages=[good, message, json.dumps({"type": "good", "id": "g2"})])
    bad = trigger["Records"][1]

    uows = from_sns(trigger)

    assert len(uows) == 3
    [malformed] = [u for u in uows if u["event"] is None]
    assert_malformed(malformed, bad, reason)
    assert sorted(u["event"]["id"] for u in uows if u["event"]) == ["g1", "g2"]


def _no_sns(record):
    del record["Sns"]


def _no_message(record):
    del record["Sns"]["Message"]


def _message_not_text(record):
    record["Sns"]["Message"] = {"type": "t"}


def _bad_timestamp(record):
    record["Sns"]["Timestamp"] = "yesterday"


@pytest.mark.parametrize("breaks", [_no_sns, _no_message, _message_not_text, _bad_timestamp])
def test_broken_records_are_malformed(breaks, assert_malformed):
    trigger = to_sns_records([{"type": "good", "id": "g"}, {"type": "bad"}])
    bad = trigger["Records"][1]
    breaks(bad)

    uows = from_sns(trigger)

    assert_malformed(next(u for u in uows if u["event"] is None), bad)
    assert [u["event"]["id"] for u in uows if u["event"]] == ["g"]


def test_builder_takes_events_or_messages_not_both():
    with pytest.raises(ValueError, match="not both"):
        to_sns_records([{"type": "a"}], messages=["{}"])


def test_no_records():
    assert from_sns({"Records": []}) == []
    assert from_sns(to_sns_records([])) == []


@pytest.mark.parametrize("event", [{}, {"Records": 1}, None])
def test_a_trigger_event_without_records_is_a_configuration_error(event):
    with pytest.raises(ConfigurationError, match="from_sns"):
        from_sns(event)
