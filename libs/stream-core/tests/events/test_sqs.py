from __future__ import annotations

import json

import pytest

from stream_core.errors import ConfigurationError
from stream_core.events.sqs import (
    from_sqs,
    from_sqs_sns,
    to_sqs_records,
    to_sqs_sns_records,
)

FIFO_ARN = "arn:aws:sqs:eu-west-1:123456789012:orders.fifo"


# --- from_sqs -------------------------------------------------------------------------------


def test_round_trip_keeps_the_event_and_the_record():
    events = [
        {"id": "e1", "type": "thing-created", "timestamp": 1, "partition_key": "t1", "n": 1.5},
        {"id": "e2", "type": "thing-updated", "timestamp": 2, "partition_key": "t2"},
    ]
    trigger = to_sqs_records(events)

    uows = from_sqs(trigger)

    assert [uow["event"] for uow in uows] == events
    assert [uow["record"] for uow in uows] == trigger["Records"]
    assert uows[1]["record"] is trigger["Records"][1]


def test_builder_shape():
    trigger = to_sqs_records([{"type": "a"}, {"type": "b"}], sent_timestamp=1000)
    first, second = trigger["Records"]

    assert first["eventSource"] == "aws:sqs"
    assert first["eventSourceARN"].startswith("arn:aws:sqs:")
    assert json.loads(first["body"]) == {"type": "a"}
    assert [first["attributes"]["SentTimestamp"], second["attributes"]["SentTimestamp"]] == [
        "1000",
        "1001",
    ]
    assert first["messageId"] != second["messageId"]
    assert "MessageGroupId" not in first["attributes"]


def test_builder_for_a_fifo_queue():
    trigger = to_sqs_records(
        [{"type": "a", "partition_key": "p"}, {"type": "b"}], queue_arn=FIFO_ARN
    )
    first, second = trigger["Records"]

    assert first["awsRegion"] == "eu-west-1"
    assert first["attributes"]["MessageGroupId"] == "p"
    assert second["attributes"]["MessageGroupId"] == "1"
    assert int(second["attributes"]["SequenceNumber"]) > int(first["attributes"]["SequenceNumber"])


def test_builder_takes_events_or_bodies_not_both():
    with pytest.raises(ValueError, match="not both"):
        to_sqs_records([{"type": "a"}], bodies=["{}"])


def test_defaults_come_from_the_message():
    trigger = to_sqs_records([{"type": "thing-created"}], sent_timestamp=1545082649183)

    [uow] = from_sqs(trigger)

    record = trigger["Records"][0]
    assert uow["event"]["id"] == record["messageId"]
    assert uow["event"]["timestamp"] == 1545082649183
    assert "partition_key" not in uow["event"]  # a standard queue has no message group


def test_partition_key_defaults_to_the_message_group_of_a_fifo_queue():
    trigger = to_sqs_records([{"type": "thing-created", "id": "x"}], queue_arn=FIFO_ARN)
    trigger["Records"][0]["attributes"]["MessageGroupId"] = "group-7"

    [uow] = from_sqs(trigger)

    assert uow["event"]["partition_key"] == "group-7"


def test_event_values_win_over_message_defaults():
    event = {"type": "t", "id": "mine", "timestamp": 5, "partition_key": "own"}
    trigger = to_sqs_records([event], queue_arn=FIFO_ARN)
    trigger["Records"][0]["attributes"]["MessageGroupId"] = "group-7"

    [uow] = from_sqs(trigger)

    assert uow["event"] == event


def test_orders_by_timestamp_and_is_stable_within_a_partition_key():
    events = [
        {"type": "t", "id": "a3", "partition_key": "a", "timestamp": 3},
        {"type": "t", "id": "b1", "partition_key": "b", "timestamp": 1},
        {"type": "t", "id": "a1", "partition_key": "a", "timestamp": 1},
        {"type": "t", "id": "a1-bis", "partition_key": "a", "timestamp": 1},
    ]

    uows = from_sqs(to_sqs_records(events))

    assert [uow["event"]["id"] for uow in uows] == ["b1", "a1", "a1-bis", "a3"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "not a JSON event"),
        ("", "not a JSON event"),
        ("[1, 2]", "not an object"),
        ("42", "not an object"),
        ('{"id": "no type"}', "no 'type'"),
        ('{"type": null}', "no 'type'"),
    ],
)
def test_malformed_bodies_give_malformed_uows_and_the_batch_goes_on(body, reason, assert_malformed):
    good = json.dumps({"type": "good", "id": "g1", "timestamp": 1})
    trigger = to_sqs_records(bodies=[good, body, json.dumps({"type": "good", "id": "g2"})])
    bad = trigger["Records"][1]

    uows = from_sqs(trigger)

    assert len(uows) == 3
    [malformed] = [u for u in uows if u["event"] is None]
    assert_malformed(malformed, bad, reason)
    assert sorted(u["event"]["id"] for u in uows if u["event"]) == ["g1", "g2"]


def _no_body(record):
    del record["body"]


def _body_not_text(record):
    record["body"] = None


def _bad_sent_timestamp(record):
    record["attributes"]["SentTimestamp"] = "yesterday"


def _attributes_not_a_map(record):
    record["attributes"] = "x"


@pytest.mark.parametrize(
    "breaks", [_no_body, _body_not_text, _bad_sent_timestamp, _attributes_not_a_map]
)
def test_broken_messages_are_malformed(breaks, assert_malformed):
    trigger = to_sqs_records([{"type": "good", "id": "g"}, {"type": "bad"}])
    bad = trigger["Records"][1]
    breaks(bad)

    uows = from_sqs(trigger)

    assert_malformed(next(u for u in uows if u["event"] is None), bad)
    assert [u["event"]["id"] for u in uows if u["event"]] == ["g"]


@pytest.mark.parametrize("record", [None, "text", {}])
def test_records_that_are_not_messages_are_malformed(record, assert_malformed):
    trigger = to_sqs_records([{"type": "good", "id": "g"}])
    trigger["Records"].append(record)

    uows = from_sqs(trigger)

    assert len(uows) == 2
    assert_malformed(next(u for u in uows if u["event"] is None), record)


def test_no_records():
    assert from_sqs({"Records": []}) == []
    assert from_sqs_sns(to_sqs_sns_records([])) == []


@pytest.mark.parametrize("source", [from_sqs, from_sqs_sns])
@pytest.mark.parametrize("event", [{}, {"Records": None}, None, {"detail-type": "x"}])
def test_a_trigger_event_without_records_is_a_configuration_error(source, event):
    with pytest.raises(ConfigurationError, match="from_sqs"):
        source(event)


# --- from_sqs_sns ---------------------------------------------------------------------------


def test_sns_round_trip_keeps_the_event_and_the_sqs_record():
    events = [
        {"id": "e1", "type": "thing-created", "timestamp": 1, "partition_key": "t1"},
        {"id": "e2", "type": "thing-updated", "timestamp": 2, "partition_key": "t2"},
    ]
    trigger = to_sqs_sns_records(events)

    uows = from_sqs_sns(trigger)

    assert [uow["event"] for uow in uows] == events
    assert [uow["record"] for uow in uows] == trigger["Records"]
    assert uows[0]["record"] is trigger["Records"][0]


def test_sns_builder_wraps_each_event_in_an_sns_envelope():
    trigger = to_sqs_sns_records([{"type": "a"}], topic_arn="arn:aws:sns:us-west-2:1:t")

    envelope = json.loads(trigger["Records"][0]["body"])

    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == "arn:aws:sns:us-west-2:1:t"
    assert json.loads(envelope["Message"]) == {"type": "a"}
    assert "SigningCertURL" in envelope


def test_sns_defaults_come_from_the_notification():
    trigger = to_sqs_sns_records([{"type": "thing-created"}], sent_timestamp=1548967022123)
    envelope = json.loads(trigger["Records"][0]["body"])

    [uow] = from_sqs_sns(trigger)

    assert uow["event"]["id"] == envelope["MessageId"]
    assert uow["event"]["id"] != trigger["Records"][0]["messageId"]
    assert envelope["Timestamp"] == "2019-01-31T20:37:02.123Z"
    assert uow["event"]["timestamp"] == 1548967022123


def test_sns_timestamp_default_falls_back_to_the_sent_timestamp():
    trigger = to_sqs_records(
        bodies=[json.dumps({"Type": "Notification", "Message": '{"type": "t"}'})],
        sent_timestamp=77,
    )

    [uow] = from_sqs_sns(trigger)

    assert uow["event"]["timestamp"] == 77
    assert uow["event"]["id"] == trigger["Records"][0]["messageId"]


def test_sns_envelope_timestamp_is_read_only_when_the_event_has_none():
    body = {"Type": "Notification", "Message": '{"type": "t", "timestamp": 3}', "Timestamp": "?"}
    trigger = to_sqs_records(
        bodies=[json.dumps(body), json.dumps({**body, "Message": '{"type": "t"}'})]
    )

    uows = from_sqs_sns(trigger)

    assert [u["event"]["timestamp"] for u in uows if u["event"]] == [3]
    assert [u["record"] for u in uows if u["event"] is None] == [trigger["Records"][1]]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (json.dumps({"type": "an event, not an SNS envelope"}), "not an SNS notification"),
        (json.dumps({"Type": "SubscriptionConfirmation", "Message": "{}"}), "not an SNS"),
        (json.dumps({"Type": "Notification"}), "no 'Message'"),
        (json.dumps({"Type": "Notification", "Message": {"type": "t"}}), "no 'Message'"),
        (json.dumps({"Type": "Notification", "Message": "{not json"}), "JSON event"),
        (json.dumps({"Type": "Notification", "Message": "[1]"}), "not an object"),
        (json.dumps({"Type": "Notification", "Message": '{"id": "1"}'}), "no 'type'"),
        ("{not json", "not an SNS notification"),
        ('"text"', "not an SNS notification"),
    ],
)
def test_malformed_sns_bodies_give_malformed_uows_and_the_batch_goes_on(
    body, reason, assert_malformed
):
    trigger = to_sqs_sns_records(
        [{"type": "good", "id": "g1"}, {"type": "x"}, {"type": "good", "id": "g2"}]
    )
    bad = trigger["Records"][1]
    bad["body"] = body

    uows = from_sqs_sns(trigger)

    assert len(uows) == 3
    [malformed] = [u for u in uows if u["event"] is None]
    assert_malformed(malformed, bad, reason)
    assert sorted(u["event"]["id"] for u in uows if u["event"]) == ["g1", "g2"]


def test_sns_builder_takes_raw_messages_for_malformed_cases(assert_malformed):
    trigger = to_sqs_sns_records(messages=['{"type": "ok"}', "not json"])

    uows = from_sqs_sns(trigger)

    assert [u["event"]["type"] for u in uows if u["event"]] == ["ok"]
    assert_malformed(next(u for u in uows if u["event"] is None), trigger["Records"][1])
    with pytest.raises(ValueError, match="not both"):
        to_sqs_sns_records([{"type": "a"}], messages=["{}"])


def test_sns_partition_key_defaults_to_the_message_group():
    trigger = to_sqs_sns_records([{"type": "t"}], queue_arn=FIFO_ARN)
    trigger["Records"][0]["attributes"]["MessageGroupId"] = "g"

    [uow] = from_sqs_sns(trigger)

    assert uow["event"]["partition_key"] == "g"
