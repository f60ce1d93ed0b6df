"""Event-pattern semantics (EventBridge rules and Lambda FilterCriteria) as a table, checked
through ``Pattern``, and through a real bus on the moto_server stream-local starts (which
matches rules with the same code, ``moto_entry.py``)."""

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
        "items": [{"sku": "a-1", "qty": 1}, {"sku": "b-2", "qty": 3, "wrapped": True}],
        "matrix": [[1, 2], [3, [4]]],
        "groups": [[{"name": "x"}], [{"name": "y", "tags": ["t1", "t2"]}]],
        "empty": [],
        "enabled": True,
        "count": 5,
        "ip6": "2001:db8::1",
    },
}

BASE_CASES = [
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
]

# Where moto's own matcher and AWS part ways: arrays, leaves, JSON types.
ARRAY_CASES = [
    # arrays of objects: the pattern looks into every element (moto alone does not)
    ({"detail": {"items": {"sku": ["b-2"]}}}, True),
    ({"detail": {"items": {"sku": ["c-3"]}}}, False),
    ({"detail": {"items": {"sku": [{"prefix": "b-"}]}}}, True),
    ({"detail": {"items": {"sku": [{"wildcard": "*-2"}]}}}, True),
    ({"detail": {"items": {"qty": [{"numeric": [">", 2]}]}}}, True),
    ({"detail": {"items": {"sku": ["b-2"], "qty": [3]}}}, True),  # both in one element
    ({"detail": {"items": {"sku": ["a-1"], "qty": [3]}}}, False),  # different elements
    ({"detail": {"items": {"sku": ["a-1"]}, "status": ["SUBMITTED"]}}, True),
    ({"detail": {"$or": [{"items": {"sku": ["z-9"]}}, {"items": {"qty": [1]}}]}}, True),
    # nested arrays are crushed out too
    ({"detail": {"matrix": [4]}}, True),
    ({"detail": {"matrix": [{"numeric": [">=", 3, "<", 4]}]}}, True),
    ({"detail": {"matrix": [5]}}, False),
    ({"detail": {"groups": {"name": ["y"]}}}, True),
    ({"detail": {"groups": {"name": ["y"], "tags": ["t2"]}}}, True),
    ({"detail": {"groups": {"name": ["x"], "tags": ["t2"]}}}, False),  # different elements
    # exists inside arrays
    ({"detail": {"items": {"wrapped": [{"exists": True}]}}}, True),
    ({"detail": {"items": {"wrapped": [{"exists": False}]}}}, False),  # one element has it
    ({"detail": {"items": {"coupon": [{"exists": False}]}}}, True),  # no element has it
    ({"detail": {"items": {"qty": [1], "wrapped": [{"exists": False}]}}}, True),  # item 1 lacks it
    ({"detail": {"items": {"qty": [3], "wrapped": [{"exists": False}]}}}, False),
    ({"detail": {"items": {"qty": [1], "wrapped": [{"exists": True}]}}}, False),
    ({"detail": {"empty": [{"exists": True}]}}, False),  # an empty array has no leaf
    ({"detail": {"empty": [{"exists": False}]}}, True),
    # anything-but on array values: matches if any element is not excluded
    ({"detail": {"tags": [{"anything-but": "new"}]}}, True),
    ({"detail": {"tags": [{"anything-but": ["new", "web"]}]}}, False),
    ({"detail": {"items": {"sku": [{"anything-but": "a-1"}]}}}, True),
    ({"detail": {"items": {"sku": [{"anything-but": {"prefix": "a-"}}]}}}, True),
    ({"detail": {"items": {"sku": [{"anything-but": {"suffix": "-"}}]}}}, True),
    ({"detail": {"empty": [{"anything-but": "x"}]}}, False),  # needs a value
    ({"detail": {"tags": [{"equals-ignore-case": "WEB"}]}}, True),
    # matchers see leaves only: an object is not a value
    ({"detail": {"customer": [{"exists": True}]}}, False),
    ({"detail": {"customer": [{"exists": False}]}}, True),
    ({"detail": {"customer": [{"anything-but": "x"}]}}, False),
    # JSON types: true is not 1, "5" is not 5, 5 is 5.0
    ({"detail": {"enabled": [True]}}, True),
    ({"detail": {"enabled": [1]}}, False),
    ({"detail": {"enabled": [{"numeric": [">", 0]}]}}, False),
    ({"detail": {"count": ["5"]}}, False),
    ({"detail": {"count": [5.0]}}, True),
    ({"detail": {"count": [{"anything-but": [5]}]}}, False),
    ({"detail": {"status": [{"anything-but": {"equals-ignore-case": ["submitted"]}}]}}, False),
    ({"source": [{"prefix": {"equals-ignore-case": "SHOP."}}]}, True),
    ({"detail": {"ip6": [{"cidr": "2001:db8::/32"}]}}, True),
    ({"detail": {"ip": [{"cidr": "2001:db8::/32"}]}}, False),
]

CASES = BASE_CASES + ARRAY_CASES


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
        {"detail": {}},
        {"source": [["shop.orders"]]},
        {"source": [{"prefix": 5}]},
        {"source": [{"anything-but": ["a", 1]}]},
        {"source": [{"anything-but": {"numeric": [">", 1]}}]},
        {"detail": {"ip": [{"cidr": "10.0.0/99"}]}},
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
    """The rules moto_server evaluates when it fills the taps agree with the table above:
    stream-local's moto_server matches rules with ``Pattern`` (moto's own matcher would fail
    most of ``ARRAY_CASES``)."""
    events, sqs = cloud.client("events"), cloud.client("sqs")
    bus = aws.name("bus")
    events.create_event_bus(Name=bus)
    chosen = [BASE_CASES[i] for i in (0, 2, 8, 12, 13, 18, 21, 22, 25, 30, 32)] + ARRAY_CASES
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


@pytest.mark.integration
def test_moto_rejects_the_patterns_eventbridge_rejects(cloud, aws):
    from botocore.exceptions import ClientError

    events = cloud.client("events")
    with pytest.raises(ClientError) as caught:
        events.put_rule(
            Name=aws.name("rule"), EventPattern=json.dumps({"source": [{"prefx": "shop."}]})
        )
    assert caught.value.response["Error"]["Code"] == "InvalidEventPatternException"
    assert "unknown operator 'prefx'" in caught.value.response["Error"]["Message"]


def test_filter_criteria_match_into_arrays_of_objects():
    import base64

    data = {"type": "order-created", "lines": [{"sku": "a-1"}, {"sku": "b-2", "gift": True}]}
    record = {"kinesis": {"data": base64.b64encode(json.dumps(data).encode()).decode()}}

    def kinesis(pattern):
        return RecordFilter.from_criteria(
            "kinesis", {"Filters": [{"Pattern": json.dumps(pattern)}]}
        )

    assert kinesis({"data": {"lines": {"sku": ["b-2"]}}}).matches(record)
    assert kinesis({"data": {"lines": {"sku": ["b-2"], "gift": [True]}}}).matches(record)
    assert not kinesis({"data": {"lines": {"sku": ["a-1"], "gift": [True]}}}).matches(record)
    dynamodb = RecordFilter.from_criteria(
        "dynamodb",
        {
            "Filters": [
                {"Pattern": json.dumps({"dynamodb": {"NewImage": {"tags": {"L": {"S": ["x"]}}}}})}
            ]
        },
    )
    image = {"tags": {"L": [{"S": "w"}, {"S": "x"}]}}
    assert dynamodb.matches({"eventName": "INSERT", "dynamodb": {"NewImage": image}})
