"""The orders table: one item per order, the API's conditional writes, paging.

Item (``pk``/``sk`` keys of a single table; ``discriminator`` names the entity)::

    {pk: <order id>, sk: "ORDER", discriminator: "order", id, customer,
     items: [{sku, quantity, price}], total, status, version,
     created, timestamp,          # epoch ms: creation, last command write (the event time)
     deleted,                     # soft delete (cancel): true
     status_timestamp,            # epoch ms of the last status event materialized (listener)
     latched}                     # true when the listener wrote last (see rules.py)

* Commands (this module) write ``unlatched``: the trigger publishes their changes.
* ``version`` counts command writes; a change must name the version it read (optimistic
  concurrency), else ``VersionConflict``.
* ``ByCreated`` (GSI: ``discriminator`` + ``created``) lists the orders newest first; its
  ``LastEvaluatedKey`` becomes an opaque cursor.

>>> orders = Orders("orders-dev")                                  # doctest: +SKIP
>>> item = orders.create(NewOrder(customer="c1", items=[...]))      # doctest: +SKIP
>>> orders.change(item["id"], change, expected_version=1)            # doctest: +SKIP
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from stream_core.connectors.dynamodb import DynamoDBConnector
from stream_core.errors import ConfigurationError
from stream_core.filters.latch import unlatched
from stream_core.utils.dynamodb import update_expression

from .models import CANCELLED, SUBMITTED, NewOrder

__all__ = [
    "DISCRIMINATOR",
    "LIST_INDEX",
    "ORDER_SK",
    "BadCursor",
    "OrderCancelled",
    "OrderNotFound",
    "Orders",
    "VersionConflict",
    "order_of",
    "view_of",
]

ORDER_SK = "ORDER"
DISCRIMINATOR = "order"
LIST_INDEX = "ByCreated"
TABLE_ENV = "ENTITY_TABLE_NAME"

_NOT_DELETED = "(attribute_not_exists(#deleted) OR #deleted <> :true)"


class OrderNotFound(LookupError):
    """No order with that id."""


class OrderCancelled(Exception):
    """The order is cancelled: it cannot change any more."""

    def __init__(self, current: Mapping[str, Any]):
        super().__init__(f"order {current.get('id')} is cancelled")
        self.current = current


class VersionConflict(Exception):
    """The order changed since the client read it (another version is current)."""

    def __init__(self, current: Mapping[str, Any], expected: int):
        super().__init__(
            f"order {current.get('id')} is at version {current.get('version')}, not {expected}"
        )
        self.current = current
        self.expected = expected


class BadCursor(ValueError):
    """A ``cursor`` that this API did not hand out."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Orders:
    """The orders of one table. ``connector`` (a ``DynamoDBConnector``) is created on first
    use when not given; ``clock`` (epoch ms) and ``new_id`` are injectable for tests."""

    def __init__(
        self,
        table_name: str,
        *,
        connector: DynamoDBConnector | None = None,
        clock: Callable[[], int] = now_ms,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.table_name = table_name
        self.table = connector or DynamoDBConnector(table_name, numbers="decimal")
        self.clock = clock
        self.new_id = new_id

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> Orders:
        """The orders of the table named by ``ENTITY_TABLE_NAME`` (read now)."""
        env = os.environ if environ is None else environ
        name = env.get(TABLE_ENV)
        if not name:
            raise ConfigurationError(f"{TABLE_ENV} is not set: the orders table is unknown")
        return cls(name, **kwargs)

    # -- queries -------------------------------------------------------------------------

    def get(self, order_id: str) -> dict[str, Any] | None:
        """The order's item, or None (read consistently: a client reads its own writes)."""
        return self.table.get(_key(order_id), ConsistentRead=True)

    def page(
        self, limit: int, cursor: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to ``limit`` orders, newest first, from ``cursor``; and the next page's cursor
        (None on the last page; a page may be empty when the previous one ended exactly)."""
        request = {
            "IndexName": LIST_INDEX,
            "KeyConditionExpression": "#discriminator = :discriminator",
            "ExpressionAttributeNames": {"#discriminator": "discriminator"},
            "ExpressionAttributeValues": {":discriminator": DISCRIMINATOR},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        page = self.table.query_page(request, decode_cursor(cursor) if cursor else None)
        return page.items, encode_cursor(page.cursor) if page.cursor else None

    # -- commands ------------------------------------------------------------------------

    def create(self, order: NewOrder) -> dict[str, Any]:
        """Store a new order (status SUBMITTED, version 1); its item."""
        now = self.clock()
        order_id = self.new_id()
        item = {
            **_key(order_id),
            "discriminator": DISCRIMINATOR,
            "id": order_id,
            **order.fields(),
            "status": SUBMITTED,
            "version": 1,
            "created": now,
            "timestamp": now,
        }
        # unlatched: a put has nothing to remove, so the latch attribute is simply absent
        item = {k: v for k, v in unlatched(item).items() if v is not None}
        self.table.put(item, ConditionExpression="attribute_not_exists(pk)")
        return item

    def change(self, order_id: str, order: NewOrder, expected_version: int) -> dict[str, Any]:
        """Replace the order's customer and items if it is at ``expected_version`` and not
        cancelled; the new item (version + 1)."""
        request = update_expression(
            unlatched({**order.fields(), "version": expected_version + 1,
                       "timestamp": self.clock()})
        )
        updated = self._update(
            order_id,
            request,
            f"attribute_exists(#pk) AND #version = :expected AND {_NOT_DELETED}",
            {":expected": expected_version},
        )
        if updated:
            return updated
        current = self._explain(order_id)
        if current.get("deleted"):
            raise OrderCancelled(current)
        raise VersionConflict(current, expected_version)

    def cancel(self, order_id: str, expected_version: int | None = None) -> dict[str, Any]:
        """Soft-delete the order (``deleted: true``, status CANCELLED, version + 1); the new
        item. Cancelling a cancelled order changes nothing and returns it."""
        request = update_expression(
            unlatched({"deleted": True, "status": CANCELLED, "timestamp": self.clock()})
        )
        request["UpdateExpression"] += " ADD #version :one"
        condition = f"attribute_exists(#pk) AND {_NOT_DELETED}"
        values: dict[str, Any] = {":one": 1}
        if expected_version is not None:
            condition += " AND #version = :expected"
            values[":expected"] = expected_version
        updated = self._update(order_id, request, condition, values)
        if updated:
            return updated
        current = self._explain(order_id)
        if current.get("deleted"):
            return current
        raise VersionConflict(current, expected_version or 0)

    # -- helpers -------------------------------------------------------------------------

    def _update(
        self,
        order_id: str,
        request: dict[str, Any],
        condition: str,
        values: Mapping[str, Any],
    ) -> dict[str, Any]:
        """UpdateItem under ``condition``; the new item, or ``{}`` when the condition failed."""
        return self.table.update({
            **request,
            "Key": _key(order_id),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {
                **request["ExpressionAttributeNames"],
                "#pk": "pk", "#version": "version", "#deleted": "deleted",
            },
            "ExpressionAttributeValues": {
                **request.get("ExpressionAttributeValues", {}), ":true": True, **values,
            },
        })

    def _explain(self, order_id: str) -> dict[str, Any]:
        """The current item after a failed condition (``OrderNotFound`` if there is none)."""
        current = self.get(order_id)
        if current is None:
            raise OrderNotFound(order_id)
        return current


def _key(order_id: str) -> dict[str, str]:
    return {"pk": order_id, "sk": ORDER_SK}


def order_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """The ``order`` of events and of the API: ``{id, customer, items, total, status,
    version}`` (no storage attributes)."""
    return {
        "id": item.get("id") or item.get("pk"),
        "customer": item.get("customer"),
        "items": [dict(i) for i in item.get("items") or ()],
        "total": item.get("total"),
        "status": item.get("status"),
        "version": item.get("version"),
    }


def view_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """What the API returns for an order: ``order_of`` plus ``created``/``updated`` (ms)."""
    return {**order_of(item), "created": item.get("created"), "updated": item.get("timestamp")}


# -- cursors ---------------------------------------------------------------------------------


def encode_cursor(last_key: Mapping[str, Any]) -> str:
    """An opaque cursor for the index position ``last_key`` (the page's LastEvaluatedKey)."""
    text = json.dumps([str(last_key["pk"]), int(last_key["created"])], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The ExclusiveStartKey of ``cursor``; ``BadCursor`` if it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        order_id, created = json.loads(text)
    except (binascii.Error, ValueError, TypeError) as err:
        raise BadCursor("cursor is not valid") from err
    if not isinstance(order_id, str) or not order_id or type(created) is not int:
        raise BadCursor("cursor is not valid")
    return {"pk": order_id, "sk": ORDER_SK, "discriminator": DISCRIMINATOR,
            "created": Decimal(created)}
