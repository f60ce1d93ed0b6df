"""The examples of the seed README (aws-lambda-stream 1.4.0), with only the import prefix
changed from ``aws_lambda_stream`` to ``stream_core``. Each example's code is kept as the
seed wrote it; the assertions around it are ours.

The data-flavor examples run against moto's DynamoDB with the table shapes of
``stream_core.testing.tables``.
"""

import re

from stream_core.events.kinesis import from_kinesis, to_kinesis_records
from stream_core.flavors.collect import collect
from stream_core.flavors.task import task
from stream_core.pipelines import StreamPipeline, initialize_from
from stream_core.utils.opt import DEFAULT_OPTIONS

# --- Quick Start --------------------------------------------------------------------------


def quick_start_module():
    def execute(uow, rule):
        return {
            "handled": True,
            "event_id": uow["event"]["id"],
        }

    rules = [
        {
            "id": "handle-thing-created",
            "flavor": task,
            "event_type": "thing-created",
            "execute": execute,
        },
    ]

    def handler(event, _context):
        StreamPipeline(
            initialize_from(rules),
            DEFAULT_OPTIONS,
        ).assemble(
            from_kinesis(event),
        )

    return rules, handler


def test_quick_start(monkeypatch):
    monkeypatch.delenv("BUS_NAME", raising=False)
    rules, handler = quick_start_module()
    event = to_kinesis_records(
        [{"id": "evt-1", "type": "thing-created", "timestamp": 1548967022000}]
    )
    # No bus is configured: had the rule faulted, publishing its fault would raise.
    handler(event, None)
    collected = []
    StreamPipeline(initialize_from(rules), DEFAULT_OPTIONS).assemble(
        from_kinesis(event), on_next=lambda pipeline_id, uow: collected.append(uow)
    )
    assert collected[0]["result"] == {"handled": True, "event_id": "evt-1"}
    assert collected[0]["pipeline"] == "handle-thing-created"


# --- Filtering Events ---------------------------------------------------------------------


def test_filtering_events(events_table):
    rule = {
        "id": "collect-thing-created",
        "flavor": collect,
        "event_type": "thing-created",
        "filters": [
            lambda uow, rule: uow["event"]["thing"]["status"] == "active",
        ],
    }
    event_types = [
        "thing-created",
        ["thing-created", "thing-updated"],
        re.compile(r"thing-(created|updated)$"),
        lambda uow: uow["event"]["type"].startswith("thing-"),
    ]
    event = to_kinesis_records(
        [
            {"type": "thing-created", "timestamp": 1, "thing": {"status": "active"}},
            {"type": "thing-created", "timestamp": 2, "thing": {"status": "inactive"}},
            {"type": "other-created", "timestamp": 3, "thing": {"status": "active"}},
        ]
    )
    for event_type in event_types:
        collected = []
        StreamPipeline(
            initialize_from([{**rule, "event_type": event_type}]), DEFAULT_OPTIONS,
            concurrency=False,
        ).assemble(from_kinesis(event), on_next=lambda pid, uow, out=collected: out.append(uow))
        assert [u["event"]["timestamp"] for u in collected] == [1], event_type


# --- Task flavor, emitting events ---------------------------------------------------------


def execute(uow, rule):
    return {
        "thing_id": uow["event"]["thing"]["id"],
        "processed": True,
    }


def test_task_with_result_key_and_emit(event_bus):
    rules = [
        {
            "id": "process-thing",
            "flavor": task,
            "event_type": "thing-created",
            "execute": execute,
            "result_key": "task_result",
        },
        {
            "id": "complete-task",
            "flavor": task,
            "event_type": "task-requested",
            "execute": execute,
            "emit": lambda uow, rule, template: {
                **template,
                "type": "task-completed",
                "thing": uow["event"]["thing"],
            },
        },
    ]
    event = to_kinesis_records(
        [
            {"type": "thing-created", "timestamp": 1, "partition_key": "t1", "thing": {"id": "t1"}},
            {"type": "task-requested", "timestamp": 2, "partition_key": "t2",
             "thing": {"id": "t2"}},
        ]
    )
    collected = []
    StreamPipeline(initialize_from(rules), DEFAULT_OPTIONS).assemble(
        from_kinesis(event), on_next=lambda pid, uow: collected.append((pid, uow))
    )
    by_rule = dict(collected)
    assert by_rule["process-thing"]["task_result"] == {"thing_id": "t1", "processed": True}
    published = event_bus.events()
    assert [(e["type"], e["thing"], e["partition_key"]) for e in published] == [
        ("task-completed", {"id": "t2"}, "t2")
    ]


def test_emit_a_list(event_bus):
    rules = [
        {
            "id": "complete-task",
            "flavor": task,
            "event_type": "task-requested",
            "execute": execute,
            "emit": lambda uow, rule, template: [
                {
                    **template,
                    "type": "first-event",
                },
                {
                    **template,
                    "type": "second-event",
                },
            ],
        }
    ]
    event = to_kinesis_records(
        [{"type": "task-requested", "timestamp": 1, "partition_key": "t1", "thing": {"id": "t1"}}]
    )
    StreamPipeline(initialize_from(rules), DEFAULT_OPTIONS).assemble(from_kinesis(event))
    assert sorted(e["type"] for e in event_bus.events()) == ["first-event", "second-event"]


# --- Local Testing ------------------------------------------------------------------------

rules = [
    {
        "id": "local-test",
        "flavor": task,
        "event_type": "thing-created",
        "execute": execute,
    },
]


def test_pipeline():
    collected = []
    event = to_kinesis_records([
        {
            "type": "thing-created",
            "timestamp": 1,
            "partition_key": "thing-1",
            "thing": {"id": "thing-1"},
        },
    ])
    StreamPipeline(
        initialize_from(rules),
        DEFAULT_OPTIONS,
        concurrency=False,
    ).assemble(
        from_kinesis(event),
        on_next=lambda pipeline_id, uow: collected.append((pipeline_id, uow)),
    )
    assert len(collected) == 1


# --- Collect, Correlate, Evaluate / CDC / Materialize / Expired / Update ------------------
# (tables: tests/flavors/conftest.py fixtures, reused through the import below)

from stream_core.events.dynamodb import from_dynamodb, to_dynamodb_records  # noqa: E402
from stream_core.flavors.cdc import cdc  # noqa: E402
from stream_core.flavors.correlate import correlate  # noqa: E402
from stream_core.flavors.evaluate import evaluate  # noqa: E402
from stream_core.flavors.expired import expired  # noqa: E402
from stream_core.flavors.materialize import materialize  # noqa: E402
from stream_core.flavors.update import update  # noqa: E402
from stream_core.utils.dynamodb import update_expression  # noqa: E402


def _run(rules, uows):
    collected = []
    StreamPipeline(initialize_from(rules), DEFAULT_OPTIONS, concurrency=False).assemble(
        uows, on_next=lambda pipeline_id, uow: collected.append(uow)
    )
    return collected


def has_order_and_payment(uow):
    types = [event["type"] for event in uow["correlated"]]
    return "order-created" in types and "payment-authorized" in types


def test_collect_correlate_evaluate(events_table, event_bus):
    rules_collect = [
        {
            "id": "collect-order-events",
            "flavor": collect,
            "event_type": ["order-created", "payment-authorized"],
            "correlation_key": "order.id",
        },
    ]
    rules_correlate = [
        {
            "id": "correlate-payment",
            "flavor": correlate,
            "event_type": "payment-authorized",
            "correlation_key": "order.id",
            "correlation_key_suffix": "payment",
        },
        {
            "id": "correlate-order",
            "flavor": correlate,
            "event_type": "order-created",
            "correlation_key": lambda uow: uow["event"]["order"]["id"],
            "correlation_key_suffix": "payment",
        },
    ]
    rules_evaluate = [
        {
            "id": "order-ready",
            "flavor": evaluate,
            "event_type": ["order-created", "payment-authorized"],
            "correlation_key_suffix": "payment",
            "expression": has_order_and_payment,
            "emit": "order-ready",
        },
    ]
    _run(rules_collect, from_kinesis(to_kinesis_records([
        {"type": "order-created", "timestamp": 1, "partition_key": "o1", "order": {"id": "o1"}},
    ])))
    _run(rules_correlate, from_dynamodb(events_table.stream.event()))
    _run(rules_evaluate, from_dynamodb(events_table.stream.event()))
    _run(rules_collect, from_kinesis(to_kinesis_records([
        {"type": "payment-authorized", "timestamp": 2, "partition_key": "o1",
         "order": {"id": "o1"}},
    ])))
    _run(rules_correlate, from_dynamodb(events_table.stream.event()))
    _run(rules_evaluate, from_dynamodb(events_table.stream.event()))
    ready = event_bus.events("order-ready")
    assert [(e["partition_key"], e["order"]) for e in ready] == [("o1", {"id": "o1"})]


def test_cdc(event_bus):
    rules = [
        {
            "id": "thing-cdc",
            "flavor": cdc,
            "event_type": "THING-created",
            "to_event": lambda uow: {
                "type": "thing-created",
                "thing": uow["event"]["raw"]["new"],
            },
        },
    ]
    _run(rules, from_dynamodb(to_dynamodb_records([
        {"keys": {"pk": "1", "sk": "THING"}, "newImage": {"pk": "1", "sk": "THING", "name": "A"},
         "timestamp": 1_700_000_000},
    ])))
    [event] = event_bus.events("thing-created")
    assert event["thing"]["name"] == "A"


def test_materialize_and_split(entity_table):
    rules = [
        {
            "id": "materialize-thing",
            "flavor": materialize,
            "event_type": "thing-created",
            "to_update_request": lambda uow: {
                "Key": {
                    "pk": uow["event"]["thing"]["id"],
                    "sk": "THING",
                },
                **update_expression({
                    "name": uow["event"]["thing"]["name"],
                    "timestamp": uow["event"]["timestamp"],
                }),
            },
        },
        {
            "id": "materialize-order-items",
            "flavor": materialize,
            "event_type": "order-created",
            "split_on": "event.items",
            "split_target_field": "item",
            "to_update_request": lambda uow: {
                "Key": {
                    "pk": uow["item"]["id"],
                    "sk": "ITEM",
                },
                **update_expression({
                    "order_id": uow["event"]["order"]["id"],
                }),
            },
        },
    ]
    _run(rules, from_kinesis(to_kinesis_records([
        {"type": "thing-created", "timestamp": 1, "thing": {"id": "t1", "name": "One"}},
        {"type": "order-created", "timestamp": 2, "order": {"id": "o1"},
         "items": [{"id": "i1"}, {"id": "i2"}]},
    ])))
    items = {(i["pk"], i["sk"]): i for i in entity_table.scan()["Items"]}
    assert items[("t1", "THING")]["name"] == "One"
    assert items[("i1", "ITEM")]["order_id"] == items[("i2", "ITEM")]["order_id"] == "o1"


def test_expired(event_bus):
    rules = [
        {
            "id": "expired-events",
            "flavor": expired,
        },
    ]
    old = {
        "ttl": 1548967022,
        "expire": "thing-timeout",
        "event": {
            "id": "thing-1",
            "type": "thing-created",
            "timestamp": 1548967022000,
        },
    }
    _run(rules, from_dynamodb(to_dynamodb_records([
        {"keys": {"pk": "thing-1", "sk": "EVENT"},
         "oldImage": {"pk": "thing-1", "sk": "EVENT", **old},
         "newImage": None, "timestamp": 1548967100},
    ])))
    assert [e["type"] for e in event_bus.events()] == ["thing-timeout"]


def test_update(entity_table):
    entity_table.put_item(Item={"pk": "o1", "sk": "ORDER", "data": "thing-1"})
    rules = [
        {
            "id": "update-related-things",
            "flavor": update,
            "event_type": "thing-renamed",
            "to_query_request": lambda uow, rule: {
                "IndexName": "DataIndex",
                "KeyConditionExpression": "#data = :data",
                "ExpressionAttributeNames": {
                    "#data": "data",
                },
                "ExpressionAttributeValues": {
                    ":data": uow["event"]["thing"]["id"],
                },
            },
            "split_on": "query_response",
            "split_target_field": "target",
            "to_get_request": lambda uow, rule: {
                "Keys": [
                    {
                        "pk": uow["target"]["pk"],
                        "sk": uow["target"]["sk"],
                    },
                ],
            },
            "to_update_request": lambda uow, rule: {
                "Key": {
                    "pk": uow["target"]["pk"],
                    "sk": uow["target"]["sk"],
                },
                **update_expression({
                    "thing_name": uow["event"]["thing"]["name"],
                }),
            },
        },
    ]
    _run(rules, from_kinesis(to_kinesis_records([
        {"type": "thing-renamed", "timestamp": 1, "thing": {"id": "thing-1", "name": "New"}},
    ])))
    assert entity_table.get_item(Key={"pk": "o1", "sk": "ORDER"})["Item"]["thing_name"] == "New"


# --- S3 And SNS Flavors -------------------------------------------------------------------

import json  # noqa: E402

from stream_core.flavors.s3 import s3  # noqa: E402
from stream_core.flavors.sns import sns  # noqa: E402


def test_s3(aws):
    import boto3

    boto3.client("s3").create_bucket(Bucket="my-snapshot-bucket")
    rules = [
        {
            "id": "write-order-snapshot",
            "flavor": s3,
            "event_type": "order-ready",
            "bucket_name": "my-snapshot-bucket",
            "to_s3": lambda uow: {
                "Key": "orders/{}.json".format(uow["event"]["order"]["id"]),
                "Body": json.dumps(uow["event"]["order"]).encode("utf-8"),
                "ContentType": "application/json",
            },
        },
    ]
    out = _run(rules, from_kinesis(to_kinesis_records([
        {"type": "order-ready", "timestamp": 1, "order": {"id": "o1", "total": 5}},
    ])))
    assert len(out) == 1
    stored = boto3.client("s3").get_object(Bucket="my-snapshot-bucket", Key="orders/o1.json")
    assert json.loads(stored["Body"].read()) == {"id": "o1", "total": 5}
    assert stored["ContentType"] == "application/json"


def test_sns(aws):
    import boto3

    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="order-notifications")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    topic_arn = boto3.client("sns").create_topic(Name="orders")["TopicArn"]
    boto3.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                                  Attributes={"RawMessageDelivery": "true"})
    rules = [
        {
            "id": "notify-order-ready",
            "flavor": sns,
            "event_type": "order-ready",
            "topic_arn": "arn:aws:sns:us-east-1:123456789012:orders",
            "to_sns": lambda uow: [
                {
                    "Message": json.dumps(uow["event"]),
                },
            ],
        },
    ]
    assert topic_arn == rules[0]["topic_arn"]
    out = _run(rules, from_kinesis(to_kinesis_records([
        {"type": "order-ready", "timestamp": 1, "order": {"id": "o1"}},
    ])))
    assert len(out) == 1
    [message] = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    assert json.loads(message["Body"])["order"] == {"id": "o1"}
