"""cdc (with latching and related-item queries) and job (pages and continuation)."""

from stream_core.events.dynamodb import from_dynamodb, to_dynamodb_records
from stream_core.events.kinesis import from_kinesis, to_kinesis_records
from stream_core.filters.latch import latched
from stream_core.flavors.cdc import cdc
from stream_core.flavors.job import job


def changes(*items):
    return from_dynamodb(to_dynamodb_records([
        {"keys": {"pk": i["pk"], "sk": i["sk"]}, "newImage": i, "timestamp": 1_700_000_000}
        for i in items
    ]))


CDC = {
    "id": "thing-cdc", "flavor": cdc, "event_type": "thing-created",
    "to_event": lambda uow: {"type": "thing-submitted", "thing": uow["event"]["raw"]["new"]},
    "include_raw": False,
}


def test_cdc_publishes_changes_and_skips_latched_ones(run, monkeypatch):
    monkeypatch.setenv("SERVICE", "things-service")
    uows = changes(
        {"pk": "t1", "sk": "thing", "name": "One"},
        latched({"pk": "t2", "sk": "thing", "name": "Two"}),
    )
    out, result = run([CDC], uows)
    assert result.faults == []
    [event] = run.sink.events
    assert event["type"] == "thing-submitted"
    assert event["thing"]["name"] == "One"
    assert "raw" not in event
    assert event["id"] == uows[0]["record"]["eventID"]  # stable under redelivery
    assert event["tags"]["source"] == "things-service"
    assert event["tags"]["region"] == uows[0]["record"]["awsRegion"]
    assert [u["event"]["type"] for u in out] == ["thing-submitted"]


def test_cdc_queries_related_items(entity_table, run):
    entity_table.put_item(Item={"pk": "t1", "sk": "part#1", "n": 1})
    entity_table.put_item(Item={"pk": "t1", "sk": "part#2", "n": 2})
    rule = {
        **CDC,
        "to_query_request": lambda uow, rule: {
            "KeyConditionExpression": "#pk = :pk and begins_with(#sk, :part)",
            "ExpressionAttributeNames": {"#pk": "pk", "#sk": "sk"},
            "ExpressionAttributeValues": {":pk": uow["event"]["raw"]["new"]["pk"],
                                          ":part": "part#"},
        },
        "to_event": lambda uow: {"type": "thing-submitted",
                                 "parts": [i["n"] for i in uow["query_response"]]},
    }
    run([rule], changes({"pk": "t1", "sk": "thing"}))
    assert run.sink.events[0]["parts"] == [1, 2]


def trigger(**event):
    return from_kinesis(to_kinesis_records([{"type": "nightly", "timestamp": 1, **event}]))


def job_rule(**fields):
    return {
        "id": "count-things", "flavor": job,
        "event_type": ["nightly", "count-things-continue"],
        "to_scan_request": lambda uow: {"Limit": 2},
        "page_limit": 2,
        "execute": lambda uow, rule: uow["item"]["pk"],
        **fields,
    }


def test_job_pages_with_a_cursor_and_continues(entity_table, run):
    for i in range(7):
        entity_table.put_item(Item={"pk": f"t{i}", "sk": "thing"})
    out, result = run([job_rule()], trigger())
    assert result.faults == []
    assert len(out) == 4  # 2 pages of 2
    [continuation] = run.sink.of_type("count-things-continue")
    assert continuation["cursor"]
    seen = [u["result"] for u in out]
    # the continuation resumes where the first invocation stopped
    out, _ = run([job_rule()], from_kinesis(to_kinesis_records([continuation])))
    seen += [u["result"] for u in out]
    assert len(out) == 3
    assert len(run.sink.of_type("count-things-continue")) == 1  # exhausted: no new one
    assert sorted(seen) == [f"t{i}" for i in range(7)]


def test_job_rule_needs_one_request_builder():
    import pytest

    from stream_core.errors import RuleValidationError
    from stream_core.pipelines import initialize_from

    with pytest.raises(RuleValidationError, match="exactly one"):
        initialize_from([job_rule(to_query_request=lambda uow: {})])
