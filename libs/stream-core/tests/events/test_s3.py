from __future__ import annotations

import json

import pytest

from stream_core.errors import ConfigurationError
from stream_core.events.s3 import (
    from_s3,
    from_sns_s3,
    from_sqs_s3,
    from_sqs_sns_s3,
    to_s3_records,
    to_sns_s3_records,
    to_sqs_s3_records,
    to_sqs_sns_s3_records,
)
from stream_core.events.sns import to_sns_records
from stream_core.events.sqs import to_sqs_records, to_sqs_sns_records

BUCKET = {"name": "lake", "arn": "arn:aws:s3:::lake"}


def _object(key, **extra):
    return {"bucket": BUCKET, "object": {"key": key, "size": 10, **extra}}


TEST_EVENT = {
    "Service": "Amazon S3",
    "Event": "s3:TestEvent",
    "Time": "2019-01-31T20:37:02.123Z",
    "Bucket": "lake",
    "RequestId": "5582815E1AEA5ADF",
    "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
}


# --- from_s3 --------------------------------------------------------------------------------


def test_round_trip_one_uow_per_record():
    trigger = to_s3_records(
        [_object("a.json", sequencer="0A1B"), _object("b.json")], event_time=1548967022123
    )

    uows = from_s3(trigger)

    records = trigger["Records"]
    assert [uow["record"] for uow in uows] == records
    assert uows[0]["record"] is records[0]
    first, second = (uow["event"] for uow in uows)
    assert first == {
        "id": "s3://lake/a.json#0A1B",
        "type": "object-created",
        "timestamp": 1548967022123,
        "partition_key": "a.json",
        "s3": records[0]["s3"],
    }
    assert first["s3"] is records[0]["s3"]
    assert second["timestamp"] == 1548967022124
    request_id = records[1]["responseElements"]["x-amz-request-id"]
    assert second["id"] == f"s3://lake/b.json#{request_id}"  # no sequencer: the request id


def test_builder_shape_is_the_old_librarys():
    trigger = to_s3_records(
        [_object("k"), {**_object("gone"), "eventName": "ObjectRemoved:Delete"}]
    )
    first, second = trigger["Records"]

    assert first["eventSource"] == "aws:s3"
    assert first["eventName"] == "ObjectCreated:Put"
    assert second["eventName"] == "ObjectRemoved:Delete"
    assert first["s3"]["bucket"] == BUCKET
    assert first["s3"]["object"] == {"key": "k", "size": 10}
    assert first["eventTime"].endswith("Z")
    ids = {r["responseElements"]["x-amz-request-id"] for r in trigger["Records"]}
    assert len(ids) == 2


@pytest.mark.parametrize(
    ("event_name", "event_type"),
    [
        ("ObjectCreated:Put", "object-created"),
        ("ObjectCreated:CompleteMultipartUpload", "object-created"),
        ("ObjectRemoved:Delete", "object-removed"),
        ("ObjectRemoved:DeleteMarkerCreated", "object-removed"),
        ("ObjectRestore:Completed", "object-restore"),
        ("LifecycleExpiration:Delete", "lifecycle-expiration"),
        ("IntelligentTiering", "intelligent-tiering"),
        ("ObjectAcl:Put", "object-acl"),
        ("Replication:OperationFailedReplication", "replication"),
    ],
)
def test_type_is_the_lower_kebab_event_name_prefix(event_name, event_type):
    trigger = to_s3_records([{**_object("k"), "eventName": event_name}])

    [uow] = from_s3(trigger)

    assert uow["event"]["type"] == event_type


def test_objects_of_one_multi_object_delete_get_distinct_ids():
    trigger = to_s3_records(
        [
            {**_object("a", sequencer="01"), "eventName": "ObjectRemoved:Delete"},
            {**_object("b", sequencer="01"), "eventName": "ObjectRemoved:Delete"},
        ]
    )
    for record in trigger["Records"]:  # DeleteObjects: one request for every object
        record["responseElements"]["x-amz-request-id"] = "SAME"

    uows = from_s3(trigger)

    assert len({uow["event"]["id"] for uow in uows}) == 2


def test_orders_by_event_time_and_is_stable_within_a_key():
    trigger = to_s3_records(
        [_object("a", sequencer="3"), _object("b", sequencer="1"), _object("a", sequencer="1")]
    )
    times = ["2019-01-31T20:37:03Z", "2019-01-31T20:37:01Z", "2019-01-31T20:37:01Z"]
    for record, time in zip(trigger["Records"], times, strict=True):
        record["eventTime"] = time

    uows = from_s3(trigger)

    assert [uow["event"]["id"] for uow in uows] == [
        "s3://lake/b#1",
        "s3://lake/a#1",
        "s3://lake/a#3",
    ]


def _no_s3(record):
    del record["s3"]


def _no_key(record):
    del record["s3"]["object"]["key"]


def _empty_key(record):
    record["s3"]["object"]["key"] = ""


def _no_bucket(record):
    del record["s3"]["bucket"]


def _no_event_name(record):
    del record["eventName"]


def _event_name_not_text(record):
    record["eventName"] = 5


def _bad_event_time(record):
    record["eventTime"] = "yesterday"


BREAKS = [
    _no_s3,
    _no_key,
    _empty_key,
    _no_bucket,
    _no_event_name,
    _event_name_not_text,
    _bad_event_time,
]


@pytest.mark.parametrize("breaks", BREAKS)
def test_malformed_records_give_malformed_uows_and_the_batch_goes_on(breaks, assert_malformed):
    trigger = to_s3_records([_object("g1"), _object("bad"), _object("g2")])
    bad = trigger["Records"][1]
    breaks(bad)

    uows = from_s3(trigger)

    assert len(uows) == 3
    [malformed] = [u for u in uows if u["event"] is None]
    assert_malformed(malformed, bad, "s3 record cannot be decoded")
    assert sorted(u["event"]["partition_key"] for u in uows if u["event"]) == ["g1", "g2"]


@pytest.mark.parametrize("record", [None, "text", {}])
def test_records_that_are_not_s3_records_are_malformed(record, assert_malformed):
    trigger = to_s3_records([_object("g")])
    trigger["Records"].append(record)

    uows = from_s3(trigger)

    assert len(uows) == 2
    assert_malformed(next(u for u in uows if u["event"] is None), record)


# --- wrapped: S3 -> SNS -> SQS, S3 -> SQS, S3 -> SNS ----------------------------------------

WRAPPED = [
    (from_sqs_sns_s3, to_sqs_sns_s3_records),
    (from_sqs_s3, to_sqs_s3_records),
    (from_sns_s3, to_sns_s3_records),
]


@pytest.mark.parametrize(("source", "builder"), WRAPPED)
def test_wrapped_round_trip_keeps_the_top_level_record(source, builder):
    trigger = builder([_object("a", sequencer="01"), _object("b", sequencer="02")])

    uows = source(trigger)

    assert [uow["record"] for uow in uows] == trigger["Records"]
    assert all(
        uow["record"] is record for uow, record in zip(uows, trigger["Records"], strict=True)
    )
    assert [uow["event"]["id"] for uow in uows] == ["s3://lake/a#01", "s3://lake/b#02"]
    assert [uow["event"]["type"] for uow in uows] == ["object-created"] * 2
    assert uows[0]["event"]["s3"]["object"] == {"key": "a", "size": 10, "sequencer": "01"}
    assert uows[1]["event"]["timestamp"] == uows[0]["event"]["timestamp"] + 1


def test_sqs_sns_s3_builder_nests_three_envelopes():
    trigger = to_sqs_sns_s3_records([_object("a")])

    record = trigger["Records"][0]
    envelope = json.loads(record["body"])
    notification = json.loads(envelope["Message"])

    assert record["eventSource"] == "aws:sqs"
    assert envelope["Type"] == "Notification"
    assert notification["Records"][0]["s3"]["object"]["key"] == "a"


def test_one_message_with_several_s3_records_gives_several_uows_sharing_the_record():
    notification = to_s3_records([_object("a"), _object("b"), _object("c")])
    trigger = to_sqs_sns_records(
        messages=[json.dumps(notification), json.dumps(to_s3_records([_object("d")]))]
    )

    uows = from_sqs_sns_s3(trigger)

    first, second = trigger["Records"]
    assert [u["event"]["partition_key"] for u in uows] == ["a", "d", "b", "c"]
    assert [u["record"] for u in uows] == [first, second, first, first]
    assert all(u["record"] is first for u in uows if u["event"]["partition_key"] != "d")


@pytest.mark.parametrize(
    ("source", "wrap"),
    [
        (from_sqs_sns_s3, lambda texts: to_sqs_sns_records(messages=texts)),
        (from_sqs_s3, lambda texts: to_sqs_records(bodies=texts)),
        (from_sns_s3, lambda texts: to_sns_records(messages=texts)),
    ],
)
def test_the_s3_test_event_gives_no_uow(source, wrap):
    trigger = wrap([json.dumps(TEST_EVENT), json.dumps(to_s3_records([_object("a")]))])

    uows = source(trigger)

    assert [u["event"]["partition_key"] for u in uows] == ["a"]
    assert uows[0]["record"] is trigger["Records"][1]


def _sqs_sns_body(text):
    return json.dumps({"Type": "Notification", "Message": text})


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "not an S3 notification"),
        (json.dumps(to_s3_records([_object("x")])), "not an SNS notification"),  # not via SNS
        (_sqs_sns_body("{not json"), "not an S3 notification"),
        (_sqs_sns_body('{"type": "an event"}'), "no 'Records' list"),
        (_sqs_sns_body('{"Records": {}}'), "no 'Records' list"),
        (_sqs_sns_body("[1]"), "not an S3 notification"),
        (json.dumps({"Type": "Notification"}), "no 'Message'"),
    ],
)
def test_malformed_sqs_sns_s3_messages_give_malformed_uows_and_the_batch_goes_on(
    body, reason, assert_malformed
):
    trigger = to_sqs_sns_s3_records([_object("g1"), _object("bad"), _object("g2")])
    bad = trigger["Records"][1]
    bad["body"] = body

    uows = from_sqs_sns_s3(trigger)

    assert len(uows) == 3
    [malformed] = [u for u in uows if u["event"] is None]
    assert_malformed(malformed, bad, reason)
    assert sorted(u["event"]["partition_key"] for u in uows if u["event"]) == ["g1", "g2"]


@pytest.mark.parametrize("breaks", BREAKS)
def test_a_bad_s3_record_inside_a_message_is_malformed_the_others_are_decoded(
    breaks, assert_malformed
):
    notification = to_s3_records([_object("a"), _object("bad"), _object("c")])
    breaks(notification["Records"][1])
    trigger = to_sqs_sns_records(messages=[json.dumps(notification)])

    uows = from_sqs_sns_s3(trigger)

    record = trigger["Records"][0]
    assert len(uows) == 3
    [malformed] = [u for u in uows if u["event"] is None]
    assert_malformed(malformed, record, "S3 record 1 of the sqs message")
    assert sorted(u["event"]["partition_key"] for u in uows if u["event"]) == ["a", "c"]
    assert all(u["record"] is record for u in uows)


def test_malformed_sqs_s3_and_sns_s3_messages(assert_malformed):
    sqs = to_sqs_s3_records([_object("a")])
    sqs["Records"][0]["body"] = '{"Records": "nope"}'
    sns = to_sns_s3_records([_object("a")])
    sns["Records"][0]["Sns"]["Message"] = "{not json"

    [sqs_uow] = from_sqs_s3(sqs)
    [sns_uow] = from_sns_s3(sns)

    assert_malformed(sqs_uow, sqs["Records"][0], "sqs message is not an S3 notification")
    assert_malformed(sns_uow, sns["Records"][0], "sns message is not an S3 notification")


@pytest.mark.parametrize(("source", "builder"), [(from_s3, to_s3_records), *WRAPPED])
def test_no_records(source, builder):
    assert source({"Records": []}) == []
    assert source(builder([])) == []


@pytest.mark.parametrize("source", [from_s3, from_sqs_s3, from_sqs_sns_s3, from_sns_s3])
@pytest.mark.parametrize("event", [{}, {"Records": None}, None, TEST_EVENT])
def test_a_trigger_event_without_records_is_a_configuration_error(source, event):
    with pytest.raises(ConfigurationError, match="Records"):
        source(event)
