"""materialize and update against moto DynamoDB."""

import pytest

from stream_core.connectors.dynamodb import DynamoDBConnector
from stream_core.events.kinesis import from_kinesis, to_kinesis_records
from stream_core.flavors.materialize import materialize, with_timestamp_condition
from stream_core.flavors.update import update
from stream_core.utils.dynamodb import update_expression


def thing_events(*specs):
    return from_kinesis(to_kinesis_records([
        {"id": f"e{i}", "type": t, "timestamp": ts, "partition_key": tid,
         "thing": {"id": tid, "name": name}}
        for i, (t, tid, name, ts) in enumerate(specs)
    ]))


MATERIALIZE = {
    "id": "materialize-thing",
    "flavor": materialize,
    "event_type": ["thing-created", "thing-updated"],
    # the seed's one-argument form
    "to_update_request": lambda uow: {
        "Key": {"pk": uow["event"]["thing"]["id"], "sk": "THING"},
        **update_expression({
            "name": uow["event"]["thing"]["name"],
            "timestamp": uow["event"]["timestamp"],
        }),
    },
}


def test_materialize_writes_the_view(entity_table, run):
    out, result = run([MATERIALIZE], thing_events(
        ("thing-created", "t1", "One", 10), ("thing-created", "t2", "Two", 11)))
    assert result.faults == []
    assert entity_table.get_item(Key={"pk": "t1", "sk": "THING"})["Item"]["name"] == "One"
    assert [u["update_response"]["name"] for u in out] == ["One", "Two"]


def test_out_of_order_and_redelivered_events_do_not_regress_the_view(entity_table, run):
    run([MATERIALIZE], thing_events(("thing-updated", "t1", "Newer", 20)))
    out, result = run([MATERIALIZE], thing_events(
        ("thing-created", "t1", "Older", 10),   # late
        ("thing-updated", "t1", "Newer", 20),   # redelivered
    ))
    assert result.faults == [] and result.retry_records == []
    item = entity_table.get_item(Key={"pk": "t1", "sk": "THING"})["Item"]
    assert (item["name"], item["timestamp"]) == ("Newer", 20)
    assert [u["update_response"] for u in out] == [{}, {}]  # both were no-ops


def test_fallback_runs_when_the_update_was_a_no_op(entity_table, run):
    rule = {
        **MATERIALIZE,
        "to_update_request": lambda uow: {
            "Key": {"pk": "t1", "sk": "THING"},
            **update_expression({"name": "x"}),
            "ConditionExpression": "attribute_exists(pk)",
        },
        "to_fallback_update_request": lambda uow, rule: {
            "Key": {"pk": "t1", "sk": "THING"},
            **update_expression({"name": "created by fallback"}),
        },
    }
    out, _ = run([rule], thing_events(("thing-created", "t1", "One", 1)))
    assert out[0]["update_response"]["name"] == "created by fallback"


def test_split_on_updates_each_element(entity_table, run):
    rule = {
        "id": "materialize-items", "flavor": materialize, "event_type": "order-created",
        "split_on": "event.items", "split_target_field": "item",
        "to_update_request": lambda uow: {
            "Key": {"pk": uow["item"]["id"], "sk": "ITEM"},
            **update_expression({"order_id": uow["event"]["order"]["id"]}),
        },
    }
    uows = from_kinesis(to_kinesis_records([
        {"type": "order-created", "timestamp": 1, "order": {"id": "o1"},
         "items": [{"id": "i1"}, {"id": "i2"}, {"id": "i3"}]},
    ]))
    out, _ = run([rule], uows)
    assert len(out) == 3
    keys = sorted(i["pk"] for i in entity_table.scan()["Items"])
    assert keys == ["i1", "i2", "i3"]


def test_a_failing_update_faults_only_its_record(entity_table, run):
    rule = {**MATERIALIZE, "to_update_request": lambda uow: {
        "Key": {"pk": uow["event"]["thing"]["id"]},  # missing sk: ValidationException
        **update_expression({"name": "x"}),
    } if uow["event"]["thing"]["id"] == "bad" else MATERIALIZE["to_update_request"](uow)}
    out, result = run([rule], thing_events(
        ("thing-created", "bad", "B", 1), ("thing-created", "t2", "Two", 2)))
    assert [u["event"]["thing"]["id"] for u in out] == ["t2"]
    assert [f["uow"]["event"]["thing"]["id"] for f in result.faults] == ["bad"]


def test_throttling_that_outlives_retries_hands_the_record_back(entity_table, run):
    import boto3
    from botocore.stub import Stubber

    from stream_core.connectors import RetryPolicy

    client = boto3.client("dynamodb")
    stub = Stubber(client)
    for _ in range(2):
        stub.add_client_error("update_item", "ProvisionedThroughputExceededException", "slow",
                              400)
    stub.activate()
    connector = DynamoDBConnector("entities", client=client,
                                  retry=RetryPolicy(max_attempts=2, base_delay=0))
    _, result = run([{**MATERIALIZE, "connector": connector}],
                    thing_events(("thing-created", "t1", "One", 1)))
    assert result.faults == []
    assert len(result.retry_records) == 1


def test_missing_table_is_a_configuration_error(aws, run, monkeypatch):
    from stream_core.errors import ConfigurationError

    monkeypatch.delenv("ENTITY_TABLE_NAME", raising=False)
    monkeypatch.delenv("EVENT_TABLE_NAME", raising=False)
    with pytest.raises(ConfigurationError, match="no table"):
        run([MATERIALIZE], thing_events(("thing-created", "t1", "One", 1)))


def test_with_timestamp_condition_leaves_own_conditions_alone():
    request = {**update_expression({"timestamp": 5}), "ConditionExpression": "x"}
    assert with_timestamp_condition(request) is request
    assert "ConditionExpression" not in with_timestamp_condition(update_expression({"a": 1}))
    assert with_timestamp_condition(update_expression({"timestamp": 1}), False)[
        "UpdateExpression"] == "SET #timestamp = :timestamp"


def test_update_queries_gets_and_updates_related_items(entity_table, run):
    for i in range(3):
        entity_table.put_item(Item={"pk": f"o{i}", "sk": "ORDER", "data": "thing-1",
                                    "thing_name": "old"})
    entity_table.put_item(Item={"pk": "thing-1", "sk": "THING", "name": "Renamed"})
    calls = {}

    def count(**kw):
        calls[kw["event_name"]] = calls.get(kw["event_name"], 0) + 1

    connector = DynamoDBConnector("entities")
    connector.client.meta.events.register("before-call.dynamodb.*", count)
    rule = {
        "id": "update-related-things", "flavor": update, "event_type": "thing-renamed",
        "connector": connector,
        "to_query_request": lambda uow, rule: {
            "IndexName": "DataIndex",
            "KeyConditionExpression": "#data = :data",
            "ExpressionAttributeNames": {"#data": "data"},
            "ExpressionAttributeValues": {":data": uow["event"]["thing"]["id"]},
        },
        "split_on": "query_response", "split_target_field": "target",
        "to_get_request": lambda uow, rule: {"Keys": [{"pk": "thing-1", "sk": "THING"}]},
        "to_update_request": lambda uow, rule: {
            "Key": {"pk": uow["target"]["pk"], "sk": uow["target"]["sk"]},
            **update_expression({"thing_name": uow["get_response"][0]["name"]}),
        },
    }
    uows = from_kinesis(to_kinesis_records(
        [{"type": "thing-renamed", "timestamp": 1, "thing": {"id": "thing-1"}}]))
    out, result = run([rule], uows)
    assert result.faults == [] and len(out) == 3
    names = {i["pk"]: i.get("thing_name") for i in entity_table.scan()["Items"]}
    assert names == {"o0": "Renamed", "o1": "Renamed", "o2": "Renamed", "thing-1": None}
    # one key asked by three UOWs is fetched once (the per-invocation cache)
    assert calls["before-call.dynamodb.BatchGetItem"] == 1
    assert calls["before-call.dynamodb.UpdateItem"] == 3
