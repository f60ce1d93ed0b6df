"""Request bodies of the orders API (pydantic v2) and the statuses an order goes through.

>>> NewOrder.model_validate_json('{"customer": "c1", "items": [{"sku": "A", "quantity": 2, '
...                              '"price": 9.99}]}').total
Decimal('19.98')

Prices are decimals with at most two places (parsed from the JSON text, never through a
float); quantities are strict integers. Unknown fields are rejected, so a client cannot set
server-owned fields (``status``, ``total``, ``id``) by mistake.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "CANCELLED",
    "PAYMENT_TIMEOUT",
    "READY",
    "SUBMITTED",
    "NewOrder",
    "OrderChange",
    "OrderItem",
]

SUBMITTED = "SUBMITTED"  # created through the API
READY = "READY"  # control emitted order-ready (submitted and paid)
PAYMENT_TIMEOUT = "PAYMENT_TIMEOUT"  # control emitted order-payment-timeout
CANCELLED = "CANCELLED"  # soft-deleted through the API

_CENT = Decimal("0.01")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class OrderItem(BaseModel):
    """One line of an order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: Sku
    quantity: Annotated[int, Field(strict=True, ge=1, le=10_000)]
    price: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False)]


class NewOrder(BaseModel):
    """``POST /orders``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    customer: Text
    items: Annotated[list[OrderItem], Field(min_length=1, max_length=100)]

    @property
    def total(self) -> Decimal:
        return sum((i.price * i.quantity for i in self.items), Decimal(0)).quantize(_CENT)

    def fields(self) -> dict:
        """The stored attributes this body sets (DynamoDB-ready: Decimals, no floats)."""
        return {
            "customer": self.customer,
            "items": [item.model_dump() for item in self.items],
            "total": self.total,
        }


class OrderChange(NewOrder):
    """``PUT /orders/{id}``: the new customer and items, and the version the client read
    (here or in ``If-Match``)."""

    version: Annotated[int | None, Field(strict=True, ge=1)] = None
