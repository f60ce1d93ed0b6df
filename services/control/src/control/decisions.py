"""One decision per order: ready or payment timeout, never both, never twice.

Two rules of the trigger can conclude an order: ``evaluate`` (submission and payment are
both present: ``order-ready``) and ``expired`` (the submission's TTL removal:
``order-payment-timeout``). Each claims the order's decision item in the events table
before its event is published; the conditional write lets exactly one claim win:

    {pk: <order id>, sk: "DECISION", discriminator: "DECISION",
     outcome: "order-ready" | "order-payment-timeout", trigger: <stream record id>,
     timestamp, ttl}

* the same trigger claiming again (Lambda redelivering its batch) wins again, so a retried
  publish still goes out (with the same event id; ``evaluate``'s marker then skips it);
* any other trigger loses: a second payment, the other record of a batch that carried both
  events, a timeout after the order was ready, a payment after it timed out.

``pays_for(order_id)`` answers whether a payment for the order was collected: the timeout
rule does not claim an order whose payment is already in (its ``order-ready`` is on its way).

The item has no ``expire`` and is neither ``EVENT`` nor ``CORREL``: the trigger's rules
ignore its stream records.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from stream_core.connectors import is_retryable
from stream_core.connectors.dynamodb import DynamoDBConnector
from stream_core.errors import ConfigurationError, RetryableError

__all__ = ["DECISION", "PAYMENT_AUTHORIZED", "Decisions"]

DECISION = "DECISION"
PAYMENT_AUTHORIZED = "payment-authorized"
TABLE_ENV = "EVENT_TABLE_NAME"
_CONDITION_FAILED = "ConditionalCheckFailedException"


class Decisions:
    """The decision items of the events table ``table_name``.

    Without ``table_name`` (and ``connector``) the table is ``EVENT_TABLE_NAME``, read when
    the first decision is needed, as stream-core's flavors read theirs when a batch first
    needs them: the handler module imports without it, and a missing name fails the
    invocation (``ConfigurationError``), never a record.
    ``ttl_days``: how long a decision is kept (late events within it are still refused);
    ``clock``: epoch seconds, injectable for tests.
    """

    def __init__(
        self,
        table_name: str | None = None,
        *,
        ttl_days: float = 33,
        connector: DynamoDBConnector | None = None,
        clock: Callable[[], float] = time.time,
        index: str = "DataIndex",
    ) -> None:
        self.table_name = table_name
        self._table = connector
        self.ttl_days = ttl_days
        self.clock = clock
        self.index = index

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, **kwargs: Any
    ) -> Decisions:
        """The decisions of the table named by ``EVENT_TABLE_NAME`` (read now)."""
        return cls(_table_name(environ), **kwargs)

    @property
    def table(self) -> DynamoDBConnector:
        if self._table is None:
            self._table = DynamoDBConnector(self.table_name or _table_name())
        return self._table

    def claim(self, order_id: str, outcome: str, trigger: str) -> bool:
        """Whether ``trigger`` decides ``outcome`` for the order (see the module doc)."""
        now = self.clock()
        item = {
            "pk": order_id,
            "sk": DECISION,
            "discriminator": DECISION,
            "outcome": outcome,
            "trigger": trigger,
            "timestamp": int(now * 1000),
            "ttl": int(now + self.ttl_days * 86_400),
        }
        try:
            self.table.put(
                item,
                ConditionExpression=(
                    "attribute_not_exists(pk) OR (#trigger = :trigger AND #outcome = :outcome)"
                ),
                ExpressionAttributeNames={"#trigger": "trigger", "#outcome": "outcome"},
                ExpressionAttributeValues={":trigger": trigger, ":outcome": outcome},
            )
        except Exception as err:
            if _error_code(err) == _CONDITION_FAILED:
                return False
            if is_retryable(err):  # outlived the connector's retries: back to Lambda
                raise RetryableError(f"{type(err).__name__}: {err}") from err
            raise
        return True

    def decision(self, order_id: str) -> dict[str, Any] | None:
        """The order's decision item, if any (read consistently)."""
        return self.table.get({"pk": order_id, "sk": DECISION}, ConsistentRead=True)

    def pays_for(self, order_id: str) -> bool:
        """Whether a ``payment-authorized`` of the order was collected (``DataIndex``)."""
        try:
            items = self.table.query({
                "IndexName": self.index,
                "KeyConditionExpression": "#data = :data",
                "ExpressionAttributeNames": {"#data": "data"},
                "ExpressionAttributeValues": {":data": order_id},
            })
        except Exception as err:
            if is_retryable(err):
                raise RetryableError(f"{type(err).__name__}: {err}") from err
            raise
        return any((i.get("event") or {}).get("type") == PAYMENT_AUTHORIZED for i in items)


def _table_name(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    name = env.get(TABLE_ENV)
    if not name:
        raise ConfigurationError(f"{TABLE_ENV} is not set: the events table is unknown")
    return name


def _error_code(err: BaseException) -> str | None:
    response = getattr(err, "response", None) or {}
    return response.get("Error", {}).get("Code")
