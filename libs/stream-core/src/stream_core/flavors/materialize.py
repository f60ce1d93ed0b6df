"""materialize: update a DynamoDB view from events (listeners).

Rule fields:

=============================  ===========================================================
``to_update_request``          ``(uow[, rule]) -> UpdateItem request`` (Key +
                               ``update_expression(...)``); ``None``/``{}`` skips the UOW
``to_fallback_update_request`` tried when the update was a no-op (its condition failed)
``split_on``                   dot path of a list in the UOW: one update per element,
                               the element in ``split_target_field`` (default ``"split"``)
``timestamp_condition``        ``True`` (default), ``False``, or the attribute name
``table_name`` / ``connector`` the view table (default ``ENTITY_TABLE_NAME``)
=============================  ===========================================================

>>> {"id": "materialize-thing", "flavor": materialize, "event_type": "thing-created",
...  "to_update_request": lambda uow: {
...      "Key": {"pk": uow["event"]["thing"]["id"], "sk": "THING"},
...      **update_expression({"name": uow["event"]["thing"]["name"],
...                           "timestamp": uow["event"]["timestamp"]})}}      # doctest: +SKIP

**Ordering guarantee.** When the update sets ``timestamp`` (``:timestamp`` among its
values) and has no ``ConditionExpression`` of its own, the flavor adds
``attribute_not_exists(#timestamp) OR #timestamp < :timestamp``: an event older than the
view (out of order, or a redelivery of the same event) changes nothing, so redelivering a
batch is idempotent and a late event never regresses the view. The update then returns
``{}`` and ``to_fallback_update_request`` (if any) runs.

Updates of one batch run concurrently (``max_in_flight``, default 16); a failing update
faults that UOW only; throttling that outlives the retries hands the record back to Lambda.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

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
from ._tables import ENTITY_TABLE, table_for

__all__ = ["apply_update", "materialize", "to_update_requests", "with_timestamp_condition"]


@flavor(
    "materialize",
    required={"to_update_request": callable},
    optional={
        "to_fallback_update_request": callable,
        "split_on": str,
        "split_target_field": str,
        "timestamp_condition": (bool, str),
        "table_name": str,
        "connector": None,
    },
)
def materialize(rule: Mapping[str, Any]) -> Operator:
    """Build the materialize operator for ``rule``."""
    return pipe(
        by_event_type(rule),
        trace_start(rule),
        by_content(rule),
        split(rule),
        rx_map(to_update_requests(rule)),
        rx_filter(lambda uow: bool(uow.get("update_request"))),
        io_step(rule, apply_update(rule)),
        trace_end(rule),
    )


def to_update_requests(rule: Mapping[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Step: ``uow["update_request"]`` (with the timestamp condition) and the fallback."""
    to_request = call_rule_fn(rule["to_update_request"])
    to_fallback = rule.get("to_fallback_update_request")
    fallback = call_rule_fn(to_fallback) if to_fallback else None
    condition = rule.get("timestamp_condition", True)

    def step(uow: dict[str, Any]) -> dict[str, Any]:
        uow["update_request"] = with_timestamp_condition(to_request(uow, rule), condition)
        if fallback is not None:
            uow["fallback_update_request"] = fallback(uow, rule)
        return uow

    return step


def apply_update(rule: Mapping[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Step: run the update (then the fallback if it was a no-op) into ``update_response``."""
    table = table_for(rule, ENTITY_TABLE)

    def step(uow: dict[str, Any]) -> dict[str, Any]:
        response = table.update(uow["update_request"])
        if not response and uow.get("fallback_update_request"):
            response = table.update(uow["fallback_update_request"])
        uow["update_response"] = response
        return uow

    return step


def with_timestamp_condition(request: Any, condition: bool | str = True) -> Any:
    """``request`` with the "only newer" condition added (see the module doc), or unchanged
    when it has a condition, sets no ``timestamp``, or ``condition`` is False."""
    if not request or condition is False or "ConditionExpression" in request:
        return request
    field = "timestamp" if condition is True else condition
    values = request.get("ExpressionAttributeValues") or {}
    if f":{field}" not in values:
        return request
    names = {**(request.get("ExpressionAttributeNames") or {}), f"#{field}": field}
    return {
        **request,
        "ExpressionAttributeNames": names,
        "ConditionExpression": f"attribute_not_exists(#{field}) OR #{field} < :{field}",
    }
