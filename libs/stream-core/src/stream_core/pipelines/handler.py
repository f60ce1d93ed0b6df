"""``stream_handler``: a complete Lambda handler from rules and an event source.

>>> from stream_core.events.kinesis import from_kinesis
>>> handler = stream_handler(rules, from_kinesis)          # doctest: +SKIP

At import (the cold start) the rules are checked and the options read; a misconfigured
rule fails there with a message naming the rule and the field. Per invocation the handler
decodes the trigger event, runs the pipeline, publishes the faults and returns the partial
batch response (``{"batchItemFailures": [...]}``; empty when every record succeeded or was
stored as a fault). For asynchronous sources (SNS, S3, EventBridge) a record that must be
retried fails the invocation instead (``RetryableError``).

Logging goes through a Powertools ``Logger`` (service from ``POWERTOOLS_SERVICE_NAME``, else
``SERVICE``) unless ``options["logger"]`` is given; stream-core's own lines carry
``pipeline`` (the rule id) and ``event_id``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..utils.opt import DEFAULT_OPTIONS
from .rules import initialize_from
from .stream import BatchResult, StreamPipeline

__all__ = ["stream_handler"]

Handler = Callable[[Any, Any], dict[str, Any]]


def _default_logger() -> Any:
    from aws_lambda_powertools import Logger

    return Logger(
        service=os.environ.get("POWERTOOLS_SERVICE_NAME") or os.environ.get("SERVICE") or "stream",
        logger_name="stream_core",
    )


def stream_handler(
    rules: Iterable[Mapping[str, Any]],
    from_source: Callable[[Any], list[dict[str, Any]]],
    options: Mapping[str, Any] = DEFAULT_OPTIONS,
    *,
    concurrency: bool = True,
    on_result: Callable[[BatchResult, Any, Any], Any] | None = None,
) -> Handler:
    """Build ``handler(event, context)`` for ``rules`` fed by ``from_source``.

    ``on_result(result, event, context)``, if given, sees each invocation's ``BatchResult``
    (per-rule outputs, faults, records to retry) before the response is returned: for
    tooling and tests, never needed in production.
    """
    pipelines = initialize_from(rules)
    merged = dict(options)
    logger = merged.get("logger")
    if logger is None or logger is logging.getLogger():  # the default: use Powertools
        merged["logger"] = _default_logger()
    logger = merged["logger"]
    pipeline = StreamPipeline(pipelines, merged, concurrency)

    def handler(event: Any, context: Any = None) -> dict[str, Any]:
        request_id = getattr(context, "aws_request_id", None)
        if request_id is not None and hasattr(logger, "append_keys"):
            logger.append_keys(function_request_id=request_id)
        uows = from_source(event)
        result = pipeline.assemble(uows)
        if on_result is not None:
            on_result(result, event, context)
        records = event.get("Records", ()) if isinstance(event, Mapping) else ()
        response = result.response(records)
        if result.faults or response["batchItemFailures"]:
            logger.warning(
                "batch of %d: %d faults (%d unpublished), %d records to retry",
                result.uows,
                len(result.faults),
                len(result.unpublished_faults),
                len(response["batchItemFailures"]),
            )
        return response

    handler.pipeline = pipeline  # type: ignore[attr-defined]  # for tests and tooling
    return handler
