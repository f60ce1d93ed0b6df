"""collect -> correlate -> evaluate -> expired, through the events table's real stream."""

import pytest

from stream_core.events.dynamodb import TTL_USER_IDENTITY as TTL_IDENTITY
from stream_core.events.dynamodb import from_dynamodb, to_dynamodb_records
from stream_core.events.kinesis import from_kinesis, to_kinesis_records
from stream_core.flavors.collect import collect
from stream_core.flavors.correlate import correlate
from stream_core.flavors.evaluate import evaluate
from stream_core.flavors.expired import expired, expired_type

TYPES = ["order-submitted", "payment-authorized"]

COLLECT = {"id": "collect", "flavor": collect, "event_type": TYPES,
           "correlation_key": "order.id", "ttl": 1, "expire": "order-payment-timeout"}
CORRELATE = {"id": "correlate", "flavor": correlate, "event_type": TYPES,
             "correlation_key": "order.id"}


def ready(uow):
    types = {e["type"] for e in uow["correlated"]}
    # emit only from the latest trigger, so two triggers in one batch emit once
    latest = uow["correlated"][0]["id"] == uow["event"]["id"]
    return set(TYPES) <= types and latest


EVALUATE = {"id": "order-ready", "flavor": evaluate, "event_type": TYPES,
            "expression": ready, "emit": "order-ready"}


def order_events(*specs):
    return from_kinesis(to_kinesis_records([
        {"id": eid, "type": t, "timestamp": ts, "partition_key": oid, "order": {"id": oid}}
        for eid, t, oid, ts in specs
    ]))


def test_collect_stores_once_with_ttl_and_expire(events_table, run):
    uows = order_events(("e1", "order-submitted", "o1", 1_700_000_000_000))
    out, result = run([COLLECT], uows)
    assert result.faults == [] and out[0]["collected"] is True
    item = events_table.get_item(Key={"pk": "e1", "sk": "EVENT"})["Item"]
    assert item["data"] == "o1" and item["expire"] == "order-payment-timeout"
    assert item["ttl"] == 1_700_000_000 + 86_400
    assert item["event"]["order"] == {"id": "o1"}
    assert item["sequence_number"] == uows[0]["record"]["kinesis"]["sequenceNumber"]
    # redelivery: nothing written, nothing on the stream
    events_table.stream.event()
    out, _ = run([COLLECT], order_events(("e1", "order-submitted", "o1", 1_700_000_000_000)))
    assert out[0]["collected"] is False
    assert events_table.stream.event()["Records"] == []


def test_missing_correlation_key_faults_the_record(events_table, run):
    uows = from_kinesis(to_kinesis_records([{"id": "x", "type": "order-submitted",
                                             "timestamp": 1}]))
    out, result = run([COLLECT], uows)
    assert out == [] and "no correlation key" in result.faults[0]["err"]["message"]


def test_order_ready_once_when_both_events_are_correlated(events_table, run):
    stream = events_table.stream
    run([COLLECT], order_events(("s1", "order-submitted", "o1", 10),
                                ("s2", "order-submitted", "o2", 11)))
    run([CORRELATE], from_dynamodb(stream.event()))
    run([EVALUATE], from_dynamodb(stream.event()))
    assert run.sink.of_type("order-ready") == []

    run([COLLECT], order_events(("p1", "payment-authorized", "o1", 20)))
    run([CORRELATE], from_dynamodb(stream.event()))
    trigger_batch = stream.event()
    _, result = run([EVALUATE], from_dynamodb(trigger_batch))
    assert result.faults == []
    emitted = run.sink.of_type("order-ready")
    assert len(emitted) == 1
    event = emitted[0]
    assert event["partition_key"] == "o1"
    assert [t["id"] for t in event["triggers"]] == ["p1"]
    assert event["id"].endswith(".order-ready")

    # redelivery of the same trigger batch emits nothing more
    run([EVALUATE], from_dynamodb(trigger_batch))
    assert len(run.sink.of_type("order-ready")) == 1


def test_both_events_in_one_batch_emit_once(events_table, run):
    stream = events_table.stream
    run([COLLECT], order_events(("s9", "order-submitted", "o9", 10),
                                ("p9", "payment-authorized", "o9", 20)))
    run([CORRELATE], from_dynamodb(stream.event()))
    run([EVALUATE], from_dynamodb(stream.event()))
    assert [e["partition_key"] for e in run.sink.of_type("order-ready")] == ["o9"]


def test_evaluate_with_suffix_reads_only_its_correlations(events_table, run):
    stream = events_table.stream
    rules = [
        {**CORRELATE, "id": "c-pay", "correlation_key_suffix": "payment"},
    ]
    run([COLLECT], order_events(("s1", "order-submitted", "o1", 10),
                                ("p1", "payment-authorized", "o1", 20)))
    run(rules, from_dynamodb(stream.event()))
    keys = {i["pk"] for i in events_table.scan()["Items"] if i["discriminator"] == "CORREL"}
    assert keys == {"o1.payment"}
    no_suffix = {**EVALUATE, "id": "plain"}
    with_suffix = {**EVALUATE, "id": "suffixed", "correlation_key_suffix": "payment"}
    run([no_suffix, with_suffix], from_dynamodb(stream.event()))
    emitted = run.sink.of_type("order-ready")
    assert [e["id"].rsplit(".", 1)[1] for e in emitted] == ["suffixed"]
    assert emitted[0]["partition_key"] == "o1"  # the suffix is not part of the key


def test_expired_emits_for_ttl_removals_only(run):
    stored = {"id": "s1", "type": "order-submitted", "timestamp": 1_700_000_000_123,
              "order": {"id": "o1"}}
    old = {"pk": "s1", "sk": "EVENT", "discriminator": "EVENT", "ttl": 1_700_086_400,
           "expire": "order-payment-timeout", "event": stored}
    event = to_dynamodb_records([
        {"keys": {"pk": "s1", "sk": "EVENT"}, "oldImage": old, "newImage": None,
         "timestamp": 1_700_086_500, "userIdentity": TTL_IDENTITY},
        # a user's delete before the ttl: no timeout
        {"keys": {"pk": "s2", "sk": "EVENT"}, "oldImage": {**old, "pk": "s2"},
         "newImage": None, "timestamp": 1_700_000_100},
        # no expire: nothing
        {"keys": {"pk": "s3", "sk": "EVENT"}, "oldImage": {**old, "pk": "s3", "expire": None},
         "newImage": None, "timestamp": 1_700_086_500, "userIdentity": TTL_IDENTITY},
    ])
    _, result = run([{"id": "expired", "flavor": expired}], from_dynamodb(event))
    assert result.faults == []
    [timeout] = run.sink.events
    assert timeout["type"] == "order-payment-timeout"
    assert timeout["order"] == {"id": "o1"}
    assert timeout["timestamp"] == 1_700_086_400_123
    assert timeout["triggers"] == [{"id": "s1", "type": "order-submitted",
                                    "timestamp": 1_700_000_000_123}]
    assert timeout["id"] == event["Records"][0]["eventID"]


def test_expired_type_names():
    assert expired_type("thing-created", True) == "thing-created-expired"
    assert expired_type("thing.created", True) == "thing.created.expired"
    assert expired_type("thing-created", "thing-timeout") == "thing-timeout"


def test_derived_events_are_restamped_with_this_functions_tags(run, monkeypatch):
    monkeypatch.setenv("SERVICE", "control")
    stored = {"id": "s1", "type": "order-submitted", "timestamp": 1_700_000_000_000,
              "tags": {"source": "rest-bff", "functionname": "bff-trigger", "skip": True}}
    old = {"pk": "s1", "sk": "EVENT", "discriminator": "EVENT", "ttl": 1_700_086_400,
           "expire": True, "event": stored}
    event = to_dynamodb_records([
        {"keys": {"pk": "s1", "sk": "EVENT"}, "oldImage": old, "newImage": None,
         "timestamp": 1_700_086_500, "userIdentity": TTL_IDENTITY},
    ])
    run([{"id": "expired", "flavor": expired}], from_dynamodb(event))
    [timeout] = run.sink.events
    assert timeout["tags"]["source"] == "control"
    assert timeout["tags"]["pipeline"] == "expired"
    assert timeout["tags"]["skip"] is True  # other tags of the original are kept


def ttl_removal(*pks, removed=1_700_086_500):
    """TTL's REMOVE records of submissions ``pks`` (eventIDs "0", "1" ...)."""
    records = []
    for pk in pks or ("s1",):
        stored = {"id": pk, "type": "order-submitted", "timestamp": 1_700_000_000_000,
                  "order": {"id": "o1"}}
        old = {"pk": pk, "sk": "EVENT", "discriminator": "EVENT", "ttl": 1_700_086_400,
               "expire": "order-payment-timeout", "event": stored}
        records.append({"keys": {"pk": pk, "sk": "EVENT"}, "oldImage": old, "newImage": None,
                        "timestamp": removed, "userIdentity": TTL_IDENTITY})
    return to_dynamodb_records(records)


def test_expired_emits_once_per_removal_when_redelivered(events_table, run):
    batch = ttl_removal()
    _, result = run([{"id": "expired", "flavor": expired}], from_dynamodb(batch))
    assert result.faults == []
    [timeout] = run.sink.of_type("order-payment-timeout")
    marker = events_table.get_item(Key={"pk": timeout["id"], "sk": "EMITTED"})["Item"]
    assert marker["discriminator"] == "EMITTED"
    assert marker["ttl"] == 1_700_086_500 + 2 * 86_400  # past the stream's 24 h
    # Lambda redelivers the batch (an error after the publish): nothing more is published
    _, result = run([{"id": "expired", "flavor": expired}], from_dynamodb(batch))
    assert result.faults == []
    assert len(run.sink.of_type("order-payment-timeout")) == 1
    # another removal in the same batch as the redelivered one still goes out
    run([{"id": "expired", "flavor": expired}], from_dynamodb(ttl_removal("s1", "s2")))
    assert [t["triggers"][0]["id"] for t in run.sink.of_type("order-payment-timeout")] == [
        "s1", "s2"]


def test_expired_without_once_publishes_every_delivery(events_table, run):
    batch = ttl_removal()
    rules = [{"id": "expired", "flavor": expired, "once": False}]
    run(rules, from_dynamodb(batch))
    run(rules, from_dynamodb(batch))
    first, second = run.sink.of_type("order-payment-timeout")
    assert first["id"] == second["id"]  # the same id: a consumer can deduplicate
    assert "Item" not in events_table.get_item(Key={"pk": first["id"], "sk": "EMITTED"})


def test_expired_once_requires_a_table(aws, run, monkeypatch):
    from stream_core.errors import ConfigurationError

    monkeypatch.delenv("EVENT_TABLE_NAME", raising=False)
    monkeypatch.delenv("ENTITY_TABLE_NAME", raising=False)
    with pytest.raises(ConfigurationError, match="no table"):
        run([{"id": "expired", "flavor": expired, "once": True}], from_dynamodb(ttl_removal()))


def test_expired_fails_the_batch_when_the_markers_cannot_be_read(run, monkeypatch, aws):
    # the table does not exist: whether the removal was published is unknown, so the
    # batch fails (Lambda redelivers it) rather than risk publishing twice or never
    monkeypatch.setenv("EVENT_TABLE_NAME", "missing")
    with pytest.raises(Exception, match="ResourceNotFoundException"):
        run([{"id": "expired", "flavor": expired}], from_dynamodb(ttl_removal()))
    assert run.sink.events == []
