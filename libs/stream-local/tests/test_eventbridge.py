"""EventBridge rules on moto_server routed through their tap queues to the real targets:
Kinesis (PartitionKeyPath), SQS (InputTransformer), Lambda (asynchronous, with retries and
an on-failure destination), another bus."""

from __future__ import annotations

import json

import pytest

from stream_local.runtime import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def bus(cloud, aws):
    name = aws.name("bus")
    cloud.client("events").create_event_bus(Name=name)
    return name


@pytest.fixture
def tap_rule(cloud, aws, bus):
    """``tap_rule(pattern, targets)``: a rule on moto pointed at a tap queue, as the deployer
    leaves it, and its plan entry (the real targets)."""

    def make(pattern, targets):
        events = cloud.client("events")
        tap_url, tap_arn = aws.queue()
        name = aws.name("rule")
        arn = events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))[
            "RuleArn"
        ]
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "tap", "Arn": tap_arn}])
        return {
            "logical_id": name,
            "arn": arn,
            "bus": bus,
            "pattern": pattern,
            "state": "ENABLED",
            "tap_queue_url": tap_url,
            "targets": targets,
        }

    return make


def _put(cloud, bus, detail_type, detail):
    cloud.client("events").put_events(
        Entries=[
            {
                "EventBusName": bus,
                "Source": "tests",
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
            }
        ]
    )


def test_events_reach_kinesis_sqs_and_lambda_targets_as_configured(
    cloud, aws, bus, tap_rule, journal, journal_function, registry_of, run
):
    stream = aws.stream()
    queue_url, queue_arn = aws.queue()
    function = journal_function("fn-target", journal)
    rule = tap_rule(
        {"detail-type": ["order-created"]},
        [
            {
                "Id": "stream",
                "Arn": stream,
                "InputPath": "$.detail",
                "KinesisParameters": {"PartitionKeyPath": "$.detail.customer"},
            },
            {
                "Id": "queue",
                "Arn": queue_arn,
                "InputTransformer": {
                    "InputPathsMap": {"id": "$.detail.id"},
                    "InputTemplate": '{"order": <id>, "from": "<aws.events.rule-name>"}',
                },
            },
            {"Id": "fn", "Arn": function["arn"], "InputPath": "$.detail"},
        ],
    )
    run(cloud, registry_of("eb-test", [function], rules=[rule]))
    _put(cloud, bus, "order-created", {"id": "o-1", "customer": "c-9", "n": 1})
    _put(cloud, bus, "order-shipped", {"id": "o-1", "customer": "c-9", "n": 2})  # no match

    (message,) = wait_for(lambda: aws.drain(queue_url), timeout=10)
    assert message == {"order": "o-1", "from": rule["arn"].rsplit("/", 1)[1]}
    assert wait_for(lambda: journal.entries(), timeout=10)
    (entry,) = journal.entries()
    assert entry["payloads"] == [{"id": "o-1", "customer": "c-9", "n": 1}]  # async event
    kinesis = cloud.client("kinesis")
    iterator = kinesis.get_shard_iterator(
        StreamName=stream.rsplit("/", 1)[1],
        ShardId="shardId-000000000000",
        ShardIteratorType="TRIM_HORIZON",
    )["ShardIterator"]
    (record,) = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert record["PartitionKey"] == "c-9"
    assert json.loads(record["Data"]) == {"id": "o-1", "customer": "c-9", "n": 1}


def test_a_failing_lambda_target_is_retried_then_sent_to_its_destination(
    cloud, aws, bus, tap_rule, journal, journal_function, registry_of, run
):
    dlq_url, dlq_arn = aws.queue()
    function = journal_function("fn-async", journal)
    target = {"Id": "fn", "Arn": function["arn"], "InputPath": "$.detail"}
    rule = tap_rule({"source": ["tests"]}, [target])
    config = {
        "logical_id": "Async",
        "type": "AWS::Lambda::EventInvokeConfig",
        "properties": {
            "FunctionName": function["name"],
            "MaximumRetryAttempts": 1,
            "DestinationConfig": {"OnFailure": {"Destination": dlq_arn}},
        },
    }
    run(
        cloud,
        registry_of("eb-async", [function], rules=[rule], invoke_configs=[config]),
        async_retry_delays=(0.1,),
    )
    _put(cloud, bus, "poison", {"n": 1, "fail": True})
    (failure,) = wait_for(lambda: aws.drain(dlq_url), timeout=10)
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 2
    assert failure["requestPayload"] == {"n": 1, "fail": True}
    assert failure["responsePayload"]["errorType"] == "ValueError"
    assert len(journal.entries()) == 2


def test_a_rule_can_forward_to_another_bus(cloud, aws, bus, tap_rule, registry_of, run):
    other = aws.name("bus")
    events = cloud.client("events")
    events.create_event_bus(Name=other)
    inbox_url, inbox_arn = aws.queue()
    events.put_rule(Name="all", EventBusName=other, EventPattern='{"source": [{"prefix": ""}]}')
    events.put_targets(Rule="all", EventBusName=other, Targets=[{"Id": "q", "Arn": inbox_arn}])
    other_arn = f"arn:aws:events:us-east-1:123456789012:event-bus/{other}"
    rule = tap_rule({"source": ["tests"]}, [{"Id": "bus", "Arn": other_arn}])
    run(cloud, registry_of("eb-bus", [], rules=[rule]))
    _put(cloud, bus, "thing-happened", {"n": 7})
    (envelope,) = wait_for(lambda: aws.drain(inbox_url), timeout=10)
    assert envelope["detail-type"] == "thing-happened" and envelope["detail"] == {"n": 7}


def test_kinesis_partition_key_defaults_to_the_event_id(
    cloud, aws, bus, tap_rule, registry_of, run
):
    stream = aws.stream()
    rule = tap_rule({"source": ["tests"]}, [{"Id": "s", "Arn": stream}])
    run(cloud, registry_of("eb-key", [], rules=[rule]))
    _put(cloud, bus, "thing-happened", {"n": 1})
    kinesis = cloud.client("kinesis")
    iterator = kinesis.get_shard_iterator(
        StreamName=stream.rsplit("/", 1)[1],
        ShardId="shardId-000000000000",
        ShardIteratorType="TRIM_HORIZON",
    )["ShardIterator"]
    records = wait_for(lambda: kinesis.get_records(ShardIterator=iterator)["Records"], timeout=10)
    envelope = json.loads(records[0]["Data"])
    assert records[0]["PartitionKey"] == envelope["id"]
    assert envelope["detail"] == {"n": 1}


def test_faults_on_the_bus_are_printed_in_the_live_log(cloud, bus, tap_rule, registry_of, run):
    rule = tap_rule({"source": ["nobody"]}, [])
    runtime = run(cloud, registry_of("eb-faults", [], rules=[rule]), watch_faults=True)
    assert runtime.wait_ready()
    fault = {
        "type": "fault",
        "tags": {"functionname": "fn-x", "pipeline": "save-thing"},
        "err": {"name": "ValueError", "message": "boom"},
        "uow": {"event": {"type": "thing-created", "id": "t-1"}},
    }
    _put(cloud, bus, "fault", fault)
    line = "fault: fn-x/save-thing: ValueError: boom (thing-created t-1)"
    assert wait_for(lambda: line in runtime.log.lines, timeout=10), list(runtime.log.lines)


def test_a_burst_of_events_reaches_kinesis_in_order_and_leaves_the_tap(
    cloud, aws, bus, tap_rule, registry_of, run
):
    stream = aws.stream()
    rule = tap_rule(
        {"detail-type": ["tick"]},
        [
            {
                "Id": "stream",
                "Arn": stream,
                "InputPath": "$.detail",
                "KinesisParameters": {"PartitionKeyPath": "$.detail.key"},
            }
        ],
    )
    run(cloud, registry_of("eb-burst", [], rules=[rule]))
    events = cloud.client("events")
    for start in range(0, 30, 10):  # a receive takes up to 10: PutRecords of several
        events.put_events(
            Entries=[
                {
                    "EventBusName": bus,
                    "Source": "tests",
                    "DetailType": "tick",
                    "Detail": json.dumps({"n": n, "key": f"k{n % 3}"}),
                }
                for n in range(start, start + 10)
            ]
        )
    kinesis = cloud.client("kinesis")
    iterator = kinesis.get_shard_iterator(
        StreamName=stream.rsplit("/", 1)[1],
        ShardId="shardId-000000000000",
        ShardIteratorType="TRIM_HORIZON",
    )["ShardIterator"]
    records: list = []

    def read():
        nonlocal iterator
        page = kinesis.get_records(ShardIterator=iterator)
        iterator = page["NextShardIterator"]
        records.extend(page["Records"])
        return len(records) >= 30

    assert wait_for(read, timeout=15)
    by_key: dict = {}
    for record in records:
        payload = json.loads(record["Data"])
        assert record["PartitionKey"] == payload["key"]
        by_key.setdefault(payload["key"], []).append(payload["n"])
    assert sorted(n for ns in by_key.values() for n in ns) == list(range(30))
    assert all(ns == sorted(ns) for ns in by_key.values())  # each key in order
    assert wait_for(lambda: aws.drain(rule["tap_queue_url"]) == [], timeout=5)
