"""DynamoDB request helpers (the seed's ``update_expression`` and conditions).

>>> update_expression({"name": "Thing One", "status": None})["UpdateExpression"]
'SET #name = :name REMOVE #status'

Values stay Python values (for the resource-level ``Table.update_item``); the DynamoDB
connector converts floats to ``Decimal`` when it sends them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["pk_condition", "timestamp_condition", "update_expression"]

_SAFE = re.compile(r"^[A-Za-z0-9_]+$")


def _placeholder(name: str, position: int) -> str:
    # Placeholders must be alphanumeric; attribute names with '-', '.', ' ' get an index.
    return name if _SAFE.match(name) else f"attr{position}"


def update_expression(item: Mapping[str, Any]) -> dict[str, Any]:
    """An update request that SETs every attribute of ``item`` and REMOVEs those set to None.

    Returns ``UpdateExpression``, ``ExpressionAttributeNames``, ``ExpressionAttributeValues``
    (omitted when nothing is SET) and ``ReturnValues: ALL_NEW``.
    """
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    sets: list[str] = []
    removes: list[str] = []
    for position, (name, value) in enumerate(item.items()):
        key = _placeholder(name, position)
        names[f"#{key}"] = name
        if value is None:
            removes.append(f"#{key}")
        else:
            values[f":{key}"] = value
            sets.append(f"#{key} = :{key}")
    clauses = []
    if sets:
        clauses.append("SET " + ", ".join(sets))
    if removes:
        clauses.append("REMOVE " + ", ".join(removes))
    request: dict[str, Any] = {
        "ExpressionAttributeNames": names,
        "UpdateExpression": " ".join(clauses),
        "ReturnValues": "ALL_NEW",
    }
    if values:
        request["ExpressionAttributeValues"] = values
    return request


def timestamp_condition(field_name: str = "timestamp") -> dict[str, str]:
    """Only write when the stored item is older: ``attribute_not_exists OR #ts < :ts``.

    Use with an update whose values include ``:<field_name>`` (``update_expression`` makes
    it), so an out-of-order older event never overwrites a newer view.
    """
    return {
        "ConditionExpression": f"attribute_not_exists(#{field_name}) OR "
        f"#{field_name} < :{field_name}"
    }


def pk_condition(field_name: str = "pk") -> dict[str, str]:
    """Only write when the item does not exist yet."""
    return {"ConditionExpression": f"attribute_not_exists({field_name})"}
