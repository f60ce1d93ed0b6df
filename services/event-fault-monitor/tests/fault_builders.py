"""Real fault events for event-fault-monitor's tests, made the way stream-core makes them:
a rule fails on a record."""

from stream_core.events.kinesis import from_kinesis, to_kinesis_records
from stream_core.events.sqs import from_sqs, to_sqs_records
from stream_core.flavors.task import task
from stream_core.pipelines import StreamPipeline, initialize_from
from stream_core.testing import MemoryPublisher
from stream_core.utils.opt import DEFAULT_OPTIONS

FUNCTION = "rest-bff-dev-listener"


def boom(uow, rule):
    raise KeyError("order")


def faults_of(trigger_event, source=from_kinesis, pipeline="materialize-order", error=boom):
    """The fault events a failing rule publishes for ``trigger_event``."""
    rules = [{"id": pipeline, "flavor": task, "event_type": "order-ready", "execute": error}]
    sink = MemoryPublisher()
    StreamPipeline(
        initialize_from(rules), {**DEFAULT_OPTIONS, **sink.options()}, concurrency=False
    ).assemble(source(trigger_event))
    for fault in sink.faults:
        fault["tags"]["functionname"] = FUNCTION
    return sink.faults


def kinesis_batch(*order_ids):
    return to_kinesis_records(
        [
            {
                "id": f"e-{o}",
                "type": "order-ready",
                "timestamp": 1764064800000 + i,
                "partition_key": o,
                "order": {"id": o},
            }
            for i, o in enumerate(order_ids)
        ]
    )


def sqs_batch(*order_ids):
    return to_sqs_records(
        [{"id": f"e-{o}", "type": "order-ready", "order": {"id": o}} for o in order_ids]
    )


__all__ = ["FUNCTION", "faults_of", "from_sqs", "kinesis_batch", "sqs_batch"]
