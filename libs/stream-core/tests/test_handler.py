"""stream_handler: the Lambda handler factory, end to end against moto."""

import json
import logging

import pytest

from stream_core.errors import ConfigurationError, RetryableError, RuleValidationError
from stream_core.events.kinesis import from_kinesis, to_kinesis_records
from stream_core.flavors.task import task
from stream_core.pipelines import stream_handler
from stream_core.utils.opt import DEFAULT_OPTIONS


class Context:
    aws_request_id = "req-1"
    function_name = "fn"


def poison(uow, rule):
    if uow["event"].get("poison"):
        raise ValueError("poison event")
    return "ok"


RULES = [
    {"id": "work", "flavor": task, "event_type": "thing-created", "execute": poison,
     "emit": "thing-done"},
]


def test_misconfigured_rule_fails_the_cold_start():
    with pytest.raises(RuleValidationError, match=r"'work'.*'excute'"):
        stream_handler([{**RULES[0], "excute": poison}], from_kinesis)


def test_kinesis_faults_are_stored_and_the_batch_succeeds(event_bus):
    handler = stream_handler(RULES, from_kinesis)
    event = to_kinesis_records(
        [{"id": f"e{i}", "type": "thing-created", "timestamp": i, "poison": i == 1}
         for i in range(3)]
    )
    assert handler(event, Context()) == {"batchItemFailures": []}
    types = sorted(e["type"] for e in event_bus.events())
    assert types == ["fault", "thing-done", "thing-done"]


def test_sqs_handler_reports_only_records_it_could_not_settle(aws, monkeypatch):
    from stream_core.events.sqs import from_sqs, to_sqs_records

    monkeypatch.setenv("BUS_NAME", "no-such-bus")  # faults cannot be published
    handler = stream_handler([{**RULES[0], "emit": None}], from_sqs)
    event = to_sqs_records(
        [{"id": f"e{i}", "type": "thing-created", "poison": i in (0, 2)} for i in range(4)]
    )
    response = handler(event, Context())
    ids = [r["messageId"] for r in event["Records"]]
    assert response == {"batchItemFailures": [{"itemIdentifier": ids[0]},
                                              {"itemIdentifier": ids[2]}]}


def test_kinesis_outage_checkpoints_at_the_earliest_unsettled_record(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # EventBridge is down
    import boto3
    from botocore.config import Config

    from stream_core.connectors import EventBridgeConnector, RetryPolicy
    from stream_core.utils.eventbridge import EventBridgePublisher, publish_to_event_bridge

    client = boto3.client("events", config=Config(retries={"max_attempts": 1}))
    connector = EventBridgeConnector(client=client, retry=RetryPolicy(2, base_delay=0))
    options = {
        **DEFAULT_OPTIONS,
        "bus_name": "bus",
        "publish": lambda p: publish_to_event_bridge(**{**p, "connector": connector}),
        "fault_publisher": EventBridgePublisher("bus", connector=connector).publish,
    }
    handler = stream_handler(RULES, from_kinesis, options)
    event = to_kinesis_records(
        [{"id": f"e{i}", "type": "thing-created", "timestamp": i} for i in range(5)]
    )
    response = handler(event, Context())
    first = event["Records"][0]["kinesis"]["sequenceNumber"]
    assert response == {"batchItemFailures": [{"itemIdentifier": first}]}


def test_sns_source_raises_when_records_must_be_retried(aws, monkeypatch):
    from stream_core.events.sns import from_sns, to_sns_records

    monkeypatch.setenv("BUS_NAME", "no-such-bus")
    handler = stream_handler([{**RULES[0], "emit": None}], from_sns)
    with pytest.raises(RetryableError):
        handler(to_sns_records([{"type": "thing-created", "poison": True}]), Context())


def test_wrong_trigger_shape_is_a_configuration_error():
    handler = stream_handler(RULES, from_kinesis)
    with pytest.raises(ConfigurationError, match="Records"):
        handler({"detail": {}}, Context())


def test_log_lines_carry_the_rule_and_event_ids(event_bus, capsys):
    from aws_lambda_powertools import Logger

    logger = Logger(service="things", level="DEBUG", logger_name="test_logs")
    handler = stream_handler(RULES, from_kinesis, {**DEFAULT_OPTIONS, "logger": logger})
    handler(to_kinesis_records([{"id": "e9", "type": "thing-created", "poison": True}]), Context())
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    debug = [line for line in lines if line.get("level") == "DEBUG"]
    assert debug and all(line["pipeline"] == "work" and line["event_id"] == "e9" for line in debug)
    assert any(line.get("function_request_id") == "req-1" for line in lines)
    logging.getLogger("test_logs").handlers.clear()


def test_on_result_sees_the_batch_and_retry_reasons_are_logged(event_bus, caplog):
    from stream_core.errors import PublishError

    def flaky(uow, rule):
        raise PublishError("throttled downstream")

    seen = []
    logger = logging.getLogger("test_retry_logs")
    handler = stream_handler(
        [{"id": "flaky", "flavor": task, "event_type": "thing-created", "execute": flaky}],
        from_kinesis,
        {**DEFAULT_OPTIONS, "logger": logger},
        on_result=lambda result, event, context: seen.append(result),
    )
    event = to_kinesis_records([{"id": "e1", "type": "thing-created"}])
    with caplog.at_level(logging.WARNING, logger="test_retry_logs"):
        response = handler(event, Context())
    assert response["batchItemFailures"][0]["itemIdentifier"] == (
        event["Records"][0]["kinesis"]["sequenceNumber"]
    )
    assert seen[0].outputs == {"flaky": 0} and seen[0].retry_records == [event["Records"][0]]
    assert any("throttled downstream" in r.getMessage() and r.pipeline == "flaky"
               for r in caplog.records)


def test_root_logger_in_options_is_replaced_by_powertools():
    from aws_lambda_powertools import Logger

    handler = stream_handler(RULES, from_kinesis, {**DEFAULT_OPTIONS, "bus_name": "b"})
    assert isinstance(handler.pipeline.options["logger"], Logger)
