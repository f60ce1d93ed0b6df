"""The listener: fault events from the faults queue (a rule on the hub's bus) -> S3 + index.

A record this function cannot store must not become a fault itself: a fault published to
the bus would come straight back to this queue. So its own faults are never published:
every one of them is handed back to SQS (``batchItemFailures``), retried with the queue's
visibility timeout and, after ``maxReceiveCount``, moved to the DLQ, which has an alarm.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stream_core.errors import RetryableError
from stream_core.events.eventbridge import from_sqs_eventbridge
from stream_core.pipelines import stream_handler
from stream_core.utils.opt import DEFAULT_OPTIONS

from .rules import rules

__all__ = ["handler", "retry_instead_of_publishing"]


def retry_instead_of_publishing(faults: Sequence[dict[str, Any]]) -> dict[int, Exception]:
    """``fault_publisher`` that publishes nothing: each fault's record is retried by SQS."""
    return {
        position: RetryableError(
            f"fault monitor could not store a fault: {fault.get('err', {}).get('message')}"
        )
        for position, fault in enumerate(faults)
    }


handler = stream_handler(
    rules,
    from_sqs_eventbridge,
    {**DEFAULT_OPTIONS, "fault_publisher": retry_instead_of_publishing},
)
