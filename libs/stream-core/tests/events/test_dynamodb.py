from __future__ import annotations

from decimal import Decimal

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer

from stream_core.errors import ConfigurationError
from stream_core.events.dynamodb import (
    TTL_USER_IDENTITY,
    ImageDeserializer,
    from_dynamodb,
    to_dynamodb_records,
)

THING = {"pk": "t1", "sk": "thing", "name": "Thing One", "count": 2, "price": 12.5}


def _change(new=None, old=None, **extra):
    image = new or old
    return {
        "keys": {"pk": image["pk"], "sk": image["sk"]},
        "newImage": new,
        "oldImage": old,
        **extra,
    }


def test_round_trip_insert_modify_remove():
    renamed = {**THING, "name": "Thing 1"}
    trigger = to_dynamodb_records(
        [
            _change(new=THING, timestamp=1548967022),
            _change(new=renamed, old=THING, timestamp=1548967023),
            _change(old=renamed, timestamp=1548967024),
        ]
    )

    uows = from_dynamodb(trigger)

    assert [uow["record"] for uow in uows] == trigger["Records"]
    assert [uow["event"]["type"] for uow in uows] == [
        "thing-created",
        "thing-updated",
        "thing-deleted",
    ]
    assert [uow["event"]["raw"] for uow in uows] == [
        {"new": THING, "old": None},
        {"new": renamed, "old": THING},
        {"new": None, "old": renamed},
    ]
    first = uows[0]["event"]
    assert first["id"] == trigger["Records"][0]["eventID"]
    assert first["timestamp"] == 1548967022000
    assert first["partition_key"] == "t1"
    assert first["tags"] == {"region": "us-west-2"}


def test_builder_shape_is_a_table_stream_record():
    trigger = to_dynamodb_records(
        [_change(new=THING), _change(new=THING, old=THING), _change(old=THING)]
    )
    records = trigger["Records"]

    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert all(r["eventSource"] == "aws:dynamodb" for r in records)
    assert all("/stream/" in r["eventSourceARN"] for r in records)
    assert all(r["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES" for r in records)
    sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert all(len(s) == 21 and s.isdigit() for s in sequences)
    assert [int(s) for s in sequences] == sorted(int(s) for s in sequences)
    assert len(set(sequences)) == 3
    insert = records[0]["dynamodb"]
    assert insert["Keys"] == {"pk": {"S": "t1"}, "sk": {"S": "thing"}}
    assert insert["NewImage"]["price"] == {"N": "12.5"}  # floats are marshalled as numbers
    assert insert["NewImage"]["count"] == {"N": "2"}
    assert "OldImage" not in insert
    assert "NewImage" not in records[2]["dynamodb"]


def test_builder_keys_default_to_the_pk_and_sk_of_the_image():
    trigger = to_dynamodb_records([{"newImage": {"pk": "a", "sk": "b", "x": 1}}])

    assert trigger["Records"][0]["dynamodb"]["Keys"] == {"pk": {"S": "a"}, "sk": {"S": "b"}}


def test_type_prefix_discriminator_then_sk_then_explicit_prefix():
    trigger = to_dynamodb_records(
        [
            _change(new={"pk": "1", "sk": "thing", "discriminator": "widget"}),
            _change(new={"pk": "2", "sk": "thing"}),
            _change(new={"pk": "3", "sk": "thing", "discriminator": 7}),  # not a string
        ]
    )

    assert [u["event"]["type"] for u in from_dynamodb(trigger)] == [
        "widget-created",
        "thing-created",
        "thing-created",
    ]
    assert [u["event"]["type"] for u in from_dynamodb(trigger, event_type_prefix="item")] == [
        "item-created"
    ] * 3
    assert [u["event"]["type"] for u in from_dynamodb(trigger, discriminator=None)] == [
        "thing-created"
    ] * 3
    custom = to_dynamodb_records([_change(new={"pk": "1", "sk": "x", "kind": "order"})])
    assert from_dynamodb(custom, discriminator="kind")[0]["event"]["type"] == "order-created"


def test_timestamp_from_the_image_new_first_then_old_then_creation_time():
    trigger = to_dynamodb_records(
        [
            _change(new={**THING, "timestamp": 20}, old={**THING, "timestamp": 10}, timestamp=1),
            _change(old={**THING, "timestamp": 30}, timestamp=1),
            _change(new=THING, timestamp=1548967022.5),
        ]
    )

    uows = from_dynamodb(trigger)

    assert [u["event"]["timestamp"] for u in uows] == [20, 30, 1548967022500]


def test_partition_key_is_the_text_of_the_pk_key():
    trigger = to_dynamodb_records(
        [
            {"keys": {"id": 42, "sk": "x"}, "newImage": {"id": 42, "sk": "x"}},
            {"keys": {"id": "a", "sk": "x"}, "newImage": {"id": "a", "sk": "x"}},
        ]
    )

    uows = from_dynamodb(trigger, pk="id")

    assert [u["event"]["partition_key"] for u in uows] == ["42", "a"]


def test_numbers_native_gives_int_and_float_everywhere():
    item = {
        "pk": "t1",
        "sk": "thing",
        "int": 3,
        "float": 0.25,
        "big": 12345678901234567890,
        "list": [1, 1.5],
        "map": {"n": 4, "f": 2.5},
        "set": {1, 2},
        "bool": True,
        "null": None,
    }

    [uow] = from_dynamodb(to_dynamodb_records([_change(new=item)]))

    new = uow["event"]["raw"]["new"]
    assert new == item
    assert type(new["int"]) is int and type(new["big"]) is int
    assert type(new["float"]) is float
    assert [type(v) for v in new["list"]] == [int, float]
    assert type(new["map"]["n"]) is int and type(new["map"]["f"]) is float
    assert {type(v) for v in new["set"]} == {int}
    assert new["bool"] is True


def test_native_integral_numbers_in_other_spellings_are_ints():
    deserializer = ImageDeserializer("native")

    image = deserializer.image({"a": {"N": "1E+2"}, "b": {"N": "-0.5"}, "c": {"N": "-7"}})

    assert image == {"a": 100, "b": -0.5, "c": -7}
    assert type(image["a"]) is int


def test_numbers_decimal_keeps_decimal():
    item = {"pk": "t1", "sk": "thing", "count": 2, "price": 12.5, "timestamp": 1548967022000}

    [uow] = from_dynamodb(to_dynamodb_records([_change(new=item)]), numbers="decimal")

    new = uow["event"]["raw"]["new"]
    assert new["count"] == Decimal(2) and isinstance(new["count"], Decimal)
    assert new["price"] == Decimal("12.5") and isinstance(new["price"], Decimal)
    assert uow["event"]["timestamp"] == 1548967022000
    assert type(uow["event"]["timestamp"]) is int


def test_boto3_type_deserializer_is_not_patched():
    original = TypeDeserializer._deserialize_n

    from_dynamodb(to_dynamodb_records([_change(new=THING)]))
    ImageDeserializer("native").image({"n": {"N": "1"}})

    assert TypeDeserializer._deserialize_n is original
    value = TypeDeserializer().deserialize({"N": "1"})
    assert isinstance(value, Decimal)
    assert TypeDeserializer().deserialize({"M": {"f": {"N": "1.5"}}}) == {"f": Decimal("1.5")}


def test_binary_attributes_from_lambda_json_base64():
    trigger = to_dynamodb_records(
        [_change(new={**THING, "blob": b"\x00\x01", "blobs": {b"a", b"b"}})]
    )
    assert trigger["Records"][0]["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}

    [uow] = from_dynamodb(trigger)

    new = uow["event"]["raw"]["new"]
    assert new["blob"] == Binary(b"\x00\x01")
    assert new["blobs"] == {Binary(b"a"), Binary(b"b")}


def test_orders_by_timestamp_and_is_stable_within_a_partition_key():
    trigger = to_dynamodb_records(
        [
            _change(new={"pk": "a", "sk": "x", "timestamp": 3, "n": 1}),
            _change(new={"pk": "b", "sk": "x", "timestamp": 1, "n": 2}),
            _change(new={"pk": "a", "sk": "x", "timestamp": 1, "n": 3}),
            _change(new={"pk": "a", "sk": "x", "timestamp": 1, "n": 4}),
        ]
    )

    uows = from_dynamodb(trigger)

    assert [u["event"]["raw"]["new"]["n"] for u in uows] == [2, 3, 4, 1]


def _bad(record):
    record["dynamodb"].pop("Keys")


def _unknown_name(record):
    record["eventName"] = "UPSERT"


def _no_dynamodb(record):
    del record["dynamodb"]


def _no_pk(record):
    del record["dynamodb"]["Keys"]["pk"]


def _no_images(record):
    del record["dynamodb"]["NewImage"]


def _no_event_id(record):
    del record["eventID"]


def _unknown_tag(record):
    record["dynamodb"]["NewImage"]["x"] = {"X": "1"}


def _bad_number(record):
    record["dynamodb"]["NewImage"]["x"] = {"N": "twelve"}


def _number_not_text(record):
    record["dynamodb"]["NewImage"]["x"] = {"N": 12.5}


def _nested_bad(record):
    record["dynamodb"]["NewImage"]["x"] = {"M": {"y": {"L": [{"S": "ok"}, {}]}}}


def _bad_base64(record):
    record["dynamodb"]["NewImage"]["x"] = {"B": "not base64!"}


def _image_not_a_map(record):
    record["dynamodb"]["NewImage"] = ["a list"]


def _no_type_prefix(record):
    image = record["dynamodb"]["NewImage"]
    del image["sk"]


@pytest.mark.parametrize(
    ("breaks", "reason"),
    [
        (_bad, "no key 'pk'"),
        (_unknown_name, "unknown eventName 'UPSERT'"),
        (_no_dynamodb, "no 'dynamodb'"),
        (_no_pk, "no key 'pk'"),
        (_no_images, "no NewImage or OldImage"),
        (_no_event_id, "no eventID"),
        (_unknown_tag, "cannot be unmarshalled"),
        (_bad_number, "cannot be unmarshalled"),
        (_number_not_text, "cannot be unmarshalled"),
        (_nested_bad, "cannot be unmarshalled"),
        (_bad_base64, "cannot be unmarshalled"),
        (_image_not_a_map, "cannot be unmarshalled"),
        (_no_type_prefix, "to name the event type"),
    ],
)
@pytest.mark.parametrize("numbers", ["native", "decimal"])
def test_malformed_records_give_malformed_uows_and_the_batch_goes_on(
    breaks, reason, numbers, assert_malformed
):
    trigger = to_dynamodb_records(
        [
            _change(new={**THING, "pk": "g1"}),
            _change(new=THING),
            _change(new={**THING, "pk": "g2"}),
        ]
    )
    bad = trigger["Records"][1]
    breaks(bad)

    uows = from_dynamodb(trigger, numbers=numbers)

    assert len(uows) == 3
    [malformed] = [u for u in uows if u["event"] is None]
    assert_malformed(malformed, bad, reason)
    assert [u["event"]["partition_key"] for u in uows if u["event"]] == ["g1", "g2"]


def test_undeserializable_image_keeps_its_cause(assert_malformed):
    trigger = to_dynamodb_records([_change(new=THING)])
    trigger["Records"][0]["dynamodb"]["NewImage"]["x"] = {"N": "1e400000"}

    [uow] = from_dynamodb(trigger, numbers="decimal")

    assert_malformed(uow, trigger["Records"][0], "cannot be unmarshalled")
    assert isinstance(uow["malformed"].__cause__, ArithmeticError)


@pytest.mark.parametrize("record", [None, "text", {}, {"eventName": "INSERT"}])
def test_records_that_are_not_stream_records_are_malformed(record, assert_malformed):
    trigger = to_dynamodb_records([_change(new=THING)])
    trigger["Records"].append(record)

    uows = from_dynamodb(trigger)

    assert len(uows) == 2
    assert [u["event"]["type"] for u in uows if u["event"]] == ["thing-created"]
    assert_malformed(next(u for u in uows if u["event"] is None), record)


def test_keys_only_record_is_malformed_even_with_a_type_prefix(assert_malformed):
    trigger = to_dynamodb_records([_change(new=THING)])
    del trigger["Records"][0]["dynamodb"]["NewImage"]

    [uow] = from_dynamodb(trigger, event_type_prefix="thing")

    assert_malformed(uow, trigger["Records"][0], "stream view type")


def test_unknown_numbers_mode_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="numbers"):
        from_dynamodb(to_dynamodb_records([_change(new=THING)]), numbers="float")  # type: ignore[arg-type]


def test_no_records():
    assert from_dynamodb({"Records": []}) == []
    assert from_dynamodb(to_dynamodb_records([])) == []


@pytest.mark.parametrize("event", [{}, {"Records": "x"}, None])
def test_a_trigger_event_without_records_is_a_configuration_error(event):
    with pytest.raises(ConfigurationError, match="from_dynamodb"):
        from_dynamodb(event)


# -- event-stream hygiene: global-table replicas, soft deletes, TTL removals -----------------


def _types(uows):
    return [u["event"]["type"] for u in uows]


@pytest.mark.parametrize("attribute", ["aws:rep:updateregion", "awsregion"])
def test_replica_records_written_in_another_region_are_dropped(attribute, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    here = {**THING, "pk": "here", attribute: "us-west-2"}
    there = {**THING, "pk": "there", attribute: "us-east-1"}
    plain = {**THING, "pk": "plain"}
    trigger = to_dynamodb_records(
        [
            _change(new=here),
            _change(new=there),
            _change(new={**there, "name": "x"}, old=there),
            _change(old=there),  # a replicated delete: decided on the old image
            _change(new=plain),
        ]
    )

    uows = from_dynamodb(trigger)

    assert [u["event"]["partition_key"] for u in uows] == ["here", "plain"]
    assert [u["record"] for u in uows] == [trigger["Records"][0], trigger["Records"][4]]


def test_replicas_keep_keeps_every_record(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    there = {**THING, "aws:rep:updateregion": "eu-west-1"}
    trigger = to_dynamodb_records([_change(new=there), _change(old=there)])

    uows = from_dynamodb(trigger, replicas="keep")

    assert _types(uows) == ["thing-created", "thing-deleted"]
    assert uows[0]["event"]["raw"]["new"]["aws:rep:updateregion"] == "eu-west-1"


def test_replica_region_argument_then_aws_region_then_the_records_region(monkeypatch):
    item = {**THING, "awsregion": "eu-west-1"}
    trigger = to_dynamodb_records([_change(new=item)])  # the record's awsRegion: us-west-2

    monkeypatch.delenv("AWS_REGION", raising=False)
    assert from_dynamodb(trigger) == []  # compared with the record's own awsRegion
    assert len(from_dynamodb(trigger, region="eu-west-1")) == 1
    monkeypatch.setenv("AWS_REGION", "eu-west-1")  # read per call, not at import
    assert len(from_dynamodb(trigger)) == 1
    assert from_dynamodb(trigger, region="us-west-2") == []


def test_replica_attribute_that_is_not_a_string_is_ignored(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    trigger = to_dynamodb_records([_change(new={**THING, "awsregion": 7})])

    assert _types(from_dynamodb(trigger)) == ["thing-created"]


def test_unknown_replicas_mode_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="replicas"):
        from_dynamodb(to_dynamodb_records([_change(new=THING)]), replicas="skip")  # type: ignore[arg-type]


def test_soft_delete_and_undelete_are_mapped_from_the_deleted_flag():
    live = {**THING, "deleted": False}
    gone = {**THING, "deleted": True}
    trigger = to_dynamodb_records(
        [
            _change(new=gone, old=live, timestamp=1),  # false -> true
            _change(new=gone, old=THING, timestamp=2),  # absent -> true
            _change(new={**gone, "name": "y"}, old=gone, timestamp=3),  # true -> true
            _change(new=live, old=gone, timestamp=4),  # true -> false
            _change(new=THING, old=gone, timestamp=5),  # true -> absent
            _change(new={**live, "name": "z"}, old=live, timestamp=6),  # false -> false
            _change(new=gone, timestamp=7),  # INSERT of a deleted item stays "created"
            _change(old=gone, timestamp=8),  # a hard delete stays "deleted"
        ]
    )

    assert _types(from_dynamodb(trigger)) == [
        "thing-deleted",
        "thing-deleted",
        "thing-updated",
        "thing-undeleted",
        "thing-undeleted",
        "thing-updated",
        "thing-created",
        "thing-deleted",
    ]


def test_soft_delete_flag_name_and_off():
    trigger = to_dynamodb_records(
        [_change(new={**THING, "archived": True, "deleted": True}, old=THING)]
    )

    assert _types(from_dynamodb(trigger, soft_delete="archived")) == ["thing-deleted"]
    assert _types(from_dynamodb(trigger, soft_delete=None)) == ["thing-updated"]


def test_soft_delete_without_an_old_image_uses_the_new_flag():
    trigger = to_dynamodb_records([_change(new={**THING, "deleted": True}, old=THING)])
    del trigger["Records"][0]["dynamodb"]["OldImage"]  # stream view type NEW_IMAGE

    [uow] = from_dynamodb(trigger)

    assert uow["event"]["type"] == "thing-deleted"
    assert uow["event"]["raw"]["old"] is None


def test_ttl_removals_are_marked_ttl_expired():
    item = {**THING, "ttl": 1548967022, "expire": True}
    trigger = to_dynamodb_records(
        [
            _change(old=item, userIdentity=TTL_USER_IDENTITY),
            _change(old=item),  # deleted by a user
            _change(old=item, userIdentity={"type": "Service", "principalId": "other"}),
        ]
    )
    assert trigger["Records"][0]["userIdentity"] == {
        "type": "Service",
        "principalId": "dynamodb.amazonaws.com",
    }
    assert "userIdentity" not in trigger["Records"][1]

    uows = from_dynamodb(trigger)

    assert _types(uows) == ["thing-deleted"] * 3
    assert uows[0]["event"]["ttl_expired"] is True
    assert "ttl_expired" not in uows[1]["event"]
    assert "ttl_expired" not in uows[2]["event"]


def test_only_removes_are_ttl_expirations():
    trigger = to_dynamodb_records(
        [_change(new=THING, old=THING, userIdentity=TTL_USER_IDENTITY)]
    )

    [uow] = from_dynamodb(trigger)

    assert "ttl_expired" not in uow["event"]
