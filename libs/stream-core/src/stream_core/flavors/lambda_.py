"""lambda: invoke a Lambda function with a payload derived from each event.

Rule fields (the rule names the flavor ``"lambda"``; the function is ``lambda_``):

===================  ================================================================
``function_name``    the function (name, ARN, or name with ``:alias``)
``to_invoke``        ``(uow[, rule]) -> payload`` (JSON-able, or ``bytes`` sent as they
                     are); ``None`` skips the UOW. Default: the event
``invocation_type``  ``"RequestResponse"`` (default: wait for the result), ``"Event"``
                     (asynchronous) or ``"DryRun"``
``split_on``         dot path of a list in the UOW: one invocation per element
``connector``        a ready ``LambdaConnector`` (tests)
===================  ================================================================

>>> {"id": "resize-images", "flavor": "lambda", "event_type": "image-uploaded",
...  "function_name": "resize-image",
...  "to_invoke": lambda uow: {"key": uow["event"]["image"]["key"]}}     # doctest: +SKIP

The payload lands in ``uow["invoke_payload"]`` and the function's result (decoded JSON;
``{}`` for ``Event``/``DryRun``) in ``uow["invoke_response"]``. The invocations of a batch
run concurrently, at most ``max_in_flight`` (default 16) at a time. A function error
(``LambdaFunctionError``, with the function's error payload), a rejected request or an
exception in ``to_invoke`` faults that UOW only; throttling that outlives the connector's
retries hands the record back to Lambda. Invocation is at least once: a redelivered record
invokes the function again, so the function should be idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..connectors.lambda_ import LambdaConnector
from ..utils.operators import rx_filter, rx_map
from ._spec import flavor
from ._steps import (
    Operator,
    by_content,
    by_event_type,
    call_rule_fn,
    io_step,
    pipe,
    split,
    trace_end,
    trace_start,
)

__all__ = ["lambda_"]

INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")


@flavor(
    "lambda",
    required={"function_name": str},
    optional={
        "to_invoke": callable,
        "invocation_type": str,
        "split_on": str,
        "split_target_field": str,
        "connector": None,
    },
    check=lambda rule: _invocation_type_problem(rule),
)
def lambda_(rule: Mapping[str, Any]) -> Operator:
    """Build the lambda operator for ``rule``."""
    return pipe(
        by_event_type(rule),
        trace_start(rule),
        by_content(rule),
        split(rule),
        rx_map(_to_payload(rule)),
        rx_filter(lambda uow: uow["invoke_payload"] is not None),
        io_step(rule, _invoke(rule)),
        trace_end(rule),
    )


def _invocation_type_problem(rule: Mapping[str, Any]) -> str | None:
    if (rule.get("invocation_type") or "RequestResponse") in INVOCATION_TYPES:
        return None
    return f"'invocation_type' must be one of {', '.join(INVOCATION_TYPES)}"


def _to_payload(rule: Mapping[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Step: ``uow["invoke_payload"]`` from ``to_invoke`` (default: the event)."""
    to_invoke = rule.get("to_invoke")
    payload_of = call_rule_fn(to_invoke) if to_invoke else None

    def step(uow: dict[str, Any]) -> dict[str, Any]:
        uow["invoke_payload"] = uow["event"] if payload_of is None else payload_of(uow, rule)
        return uow

    return step


def _invoke(rule: Mapping[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Step: invoke the function into ``uow["invoke_response"]``."""
    connector = rule.get("connector") or LambdaConnector(
        max_in_flight=rule.get("max_in_flight") or 16
    )
    function_name = rule["function_name"]
    # one of INVOCATION_TYPES: initialize_from checked it (_invocation_type_problem)
    invocation_type: Any = rule.get("invocation_type") or "RequestResponse"

    def step(uow: dict[str, Any]) -> dict[str, Any]:
        uow["invoke_response"] = connector.invoke(
            function_name, uow["invoke_payload"], invocation_type
        )
        return uow

    return step
