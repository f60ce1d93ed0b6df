"""Event-pattern semantics (EventBridge rules and Lambda FilterCriteria) as a table, checked
against moto's matcher through ``Pattern``; a few through a real bus on moto_server."""

from __future__ import annotations

import json

import pytest

from stream_local.patterns import Pattern, PatternError, RecordFilter

EVENT = {
    "version": "0",
    "id": "e-1",
    "detail-type": "order-created",
    "source": "shop.orders",
    "account": "123456789012",
    "region": "us-east-1",
    "resources": [],
    "detail": {
        "id": "o-1",
        "status": "SUBMITTED",
        "amount": 150.5,
        "customer": {"tier": "gold", "country": "NL"},
        "tags": ["new", "web"],
        "coupon": None,
        "ip": "10.0.3.7",
        "items": [{"sku": "a-1"}, {"sku": "b-2"}],
    },
}

CASES = [
    # (pattern, matches?)
    ({"detail-type": ["order-created"]}, True),
    ({"detail-type": ["order-updated", "order-created"]}, True),
    ({"detail-type": ["Order-Created"]}, False),  # case-sensitive
    ({"detail": {"amount": [150.5]}}, True),
    ({"detail": {"customer": {"tier": ["gold"]}}}, True),
    ({"detail": {"customer": {"tier": ["silver"]}}}, False),
    ({"detail": {"missing": ["x"]}}, False),
    ({"source": [{"prefix": "shop."}]}, True),
    ({"source": [{"prefix": ""}]}, True),  # every event: the hub's catch-all
    ({"source": [{"prefix": "bank."}]}, False),
    ({"source": [{"suffix": ".orders"}]}, True),
    ({"detail": {"status": [{"equals-ignore-case": "submitted"}]}}, True),
    ({"detail": {"status": [{"anything-but": "CANCELLED"}]}}, True),
    ({"detail": {"status": [{"anything-but": ["SUBMITTED", "PAID"]}]}}, False),
    ({"detail": {"status": [{"anything-but": {"prefix": "SUB"}}]}}, False),
    ({"detail": {"missing": [{"anything-but": "x"}]}}, False),  # needs the field
    ({"detail": {"customer": {"country": [{"exists": True}]}}}, True),
    ({"detail": {"customer": {"vat": [{"exists": False}]}}}, True),
    ({"detail": {"coupon": [{"exists": False}]}}, False),  # null is a value: it exists
    ({"detail": {"coupon": [None]}}, True),
    ({"detail": {"missing": [None]}}, False),
    ({"detail": {"amount": [{"numeric": [">", 100]}]}}, True),
    ({"detail": {"amount": [{"numeric": [">", 100, "<=", 150]}]}}, False),
    ({"detail": {"amount": [{"numeric": [">=", 150.5, "<", 200]}]}}, True),
    ({"detail": {"status": [{"numeric": [">", 0]}]}}, False),  # not a number
    ({"detail": {"tags": ["web"]}}, True),  # an array matches if any element does
    ({"detail": {"tags": [{"prefix": "ne"}]}}, True),
    ({"detail": {"tags": ["mobile"]}}, False),
    ({"detail": {"ip": [{"cidr": "10.0.0.0/16"}]}}, True),
    ({"detail": {"ip": [{"cidr": "10.1.0.0/16"}]}}, False),
    ({"detail": {"id": [{"wildcard": "o-*"}]}}, True),
    ({"detail": {"id": [{"wildcard": "x-*"}]}}, False),
    ({"$or": [{"detail": {"status": ["PAID"]}}, {"detail": {"amount": [150.5]}}]}, True),
    ({"$or": [{"detail": {"status": ["PAID"]}}, {"source": ["bank"]}]}, False),
    ({"source": ["shop.orders"], "detail": {"status": ["PAID"]}}, False),  # every field must
    pytest.param(
        {"detail": {"items": {"sku": ["b-2"]}}},
        True,
        marks=pytest.mark.xfail(
            strict=True, reason="moto does not match into arrays of objects (AWS does)"
        ),
    ),
]


@pytest.mark.parametrize(("pattern", "expected"), CASES)
def test_pattern_table(pattern, expected):
    assert Pattern.load(pattern).matches(EVENT) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        {"source": [{"prefx": "shop."}]},  # moto alone would match everything
        {"source": []},
        {"source": "shop.orders"},
        {"detail": {"amount": [{"numeric": [">", "100"]}]}},
        {"detail": {"amount": [{"numeric": ["~", 1]}]}},
        {"detail": {"coupon": [{"exists": "yes"}]}},
        {"$or": [{"source": ["a"]}]},
    ],
)
def test_patterns_eventbridge_would_reject_are_errors(pattern):
    with pytest.raises(PatternError):
        Pattern.load(pattern)


def test_kinesis_filter_criteria_see_the_decoded_data():
    import base64

    data = base64.b64encode(json.dumps({"type": "order-created", "amount": 5}).encode()).decode()
    record = {"kinesis": {"partitionKey": "p-1", "data": data, "sequenceNumber": "1"}}
    keep = RecordFilter.from_criteria(
        "kinesis", {"Filters": [{"Pattern": json.dumps({"data": {"type": ["order-created"]}})}]}
    )
    by_key = RecordFilter.from_criteria(
        "kinesis", {"Filters": [{"Pattern": json.dumps({"partitionKey": ["p-2"]})}]}
    )
    assert keep.matches(record) and not by_key.matches(record)


def test_sqs_filter_criteria_see_the_parsed_body_and_plain_text():
    json_body = {"body": json.dumps({"kind": "keep"}), "messageId": "m"}
    text_body = {"body": "hello", "messageId": "m"}
    on_json = RecordFilter.from_criteria(
        "sqs", {"Filters": [{"Pattern": json.dumps({"body": {"kind": ["keep"]}})}]}
    )
    on_text = RecordFilter.from_criteria(
        "sqs", {"Filters": [{"Pattern": json.dumps({"body": [{"prefix": "hel"}]})}]}
    )
    assert on_json.matches(json_body) and not on_json.matches(text_body)
    assert on_text.matches(text_body)


def test_no_filter_criteria_means_no_filter():
    assert RecordFilter.from_criteria("sqs", None) is None
    assert RecordFilter.from_criteria("sqs", {"Filters": []}) is None


@pytest.mark.integration
def test_moto_routes_bus_events_with_the_same_semantics(cloud, aws):
    """The rules moto evaluates when it fills the taps agree with the table above."""
    events, sqs = cloud.client("events"), cloud.client("sqs")
    bus = aws.name("bus")
    events.create_event_bus(Name=bus)
    chosen = [CASES[i] for i in (0, 2, 8, 12, 13, 18, 21, 22, 25, 30, 32)]
    queues = []
    for pattern, _expected in chosen:
        url, arn = aws.queue()
        rule = aws.name("rule")
        events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
        queues.append(url)
    events.put_events(
        Entries=[
            {
                "EventBusName": bus,
                "Source": EVENT["source"],
                "DetailType": EVENT["detail-type"],
                "Detail": json.dumps(EVENT["detail"]),
            }
        ]
    )
    got = [bool(sqs.receive_message(QueueUrl=url).get("Messages")) for url in queues]
    assert got == [expected for _pattern, expected in chosen]
