"""update: query related items, fetch each, and update them (fan-out maintenance).

Rule fields (each callback ``(uow[, rule])``):

=============================  ===========================================================
``to_query_request``           a Query request; the items go to ``uow["query_response"]``
``split_on``                   usually ``"query_response"``: one UOW per item, the item in
                               ``split_target_field`` (default ``"split"``)
``to_get_request``             ``{"Keys": [...]}``: items fetched with BatchGetItem into
                               ``uow["get_response"]`` (one cache per invocation: a key is
                               fetched once however many UOWs ask for it)
``to_update_request``          the UpdateItem request per UOW (required)
``to_fallback_update_request`` tried when the update was a no-op (its condition failed)
``timestamp_condition``        as in ``materialize`` (default ``True``)
``table_name`` / ``connector`` the table (default ``ENTITY_TABLE_NAME``)
=============================  ===========================================================

>>> {"id": "update-related-things", "flavor": update, "event_type": "thing-renamed",
...  "to_query_request": lambda uow, rule: {"IndexName": "DataIndex", ...},
...  "split_on": "query_response", "split_target_field": "target",
...  "to_update_request": lambda uow, rule: {"Key": {...}, **update_expression({...})}}
...                                                                      # doctest: +SKIP

Queries, gets and updates of one batch run concurrently (``max_in_flight``); each failing
call faults its UOW only.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from .materialize import apply_update, to_update_requests

__all__ = ["update"]


@flavor(
    "update",
    required={"to_update_request": callable},
    optional={
        "to_query_request": callable,
        "to_get_request": callable,
        "to_fallback_update_request": callable,
        "split_on": str,
        "split_target_field": str,
        "timestamp_condition": (bool, str),
        "table_name": str,
        "connector": None,
    },
)
def update(rule: Mapping[str, Any]) -> Operator:
    """Build the update operator for ``rule``."""
    table = table_for(rule, ENTITY_TABLE)
    shared = {**rule, "connector": table}
    return pipe(
        by_event_type(rule),
        trace_start(rule),
        by_content(rule),
        _query(shared),
        split(rule),
        _get(shared),
        rx_map(to_update_requests(rule)),
        rx_filter(lambda uow: bool(uow.get("update_request"))),
        io_step(rule, apply_update(shared)),
        trace_end(rule),
    )


def _query(rule: Mapping[str, Any]) -> Operator | None:
    to_request = rule.get("to_query_request")
    if to_request is None:
        return None
    request_of = call_rule_fn(to_request)
    table = rule["connector"]

    def step(uow: dict[str, Any]) -> dict[str, Any]:
        request = request_of(uow, rule)
        uow["query_request"] = request
        uow["query_response"] = table.query(request) if request else []
        return uow

    return io_step(rule, step)


def _get(rule: Mapping[str, Any]) -> Operator | None:
    to_request = rule.get("to_get_request")
    if to_request is None:
        return None
    request_of = call_rule_fn(to_request)
    table = rule["connector"]
    cache: dict[Any, Any] = {}  # this operator lives for one invocation: so does the cache

    def step(uow: dict[str, Any]) -> dict[str, Any]:
        request = request_of(uow, rule)
        uow["get_request"] = request
        keys = (request or {}).get("Keys") or []
        uow["get_response"] = table.batch_get(keys, cache=cache) if keys else []
        return uow

    return io_step(rule, step)
