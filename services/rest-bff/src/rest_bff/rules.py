"""The rules of rest-bff's stream functions.

* ``trigger_rules()`` (``trigger``, on the orders table's stream, ``cdc``): the API's writes
  become domain events: an INSERT is ``order-submitted``, a MODIFY ``order-updated``, a soft
  delete ``order-cancelled``. Latched changes (the listener's) are skipped by ``cdc``.
* ``listener_rules()`` (``listener``, on the hub's stream, ``materialize``): control's
  ``order-ready`` and ``order-payment-timeout`` set the order's ``status``, written latched so
  the trigger does not publish them again.

Published events: ``{id, type, timestamp, partition_key: <order id>, tags, order: {id,
customer, items: [{sku, quantity, price}], total, status, version}}``. ``id`` is the stream
record's (stable under redelivery), ``timestamp`` the command's write time (ms).

**Status timestamps.** A status event is applied only if it is newer than the last status
event applied to that order (``status_timestamp``), so a late, older event (or a redelivery)
never regresses the status. The order's own ``timestamp`` is not used for this: it is the
time of the last *command*, and a user's change made after the payment (``order-updated``
at t=250) would make the legitimate ``order-ready`` (t=200) look old and drop it. Listener
writes leave ``timestamp`` alone, so event times stay the commands' times.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from stream_core.filters.latch import latched
from stream_core.filters.source import out_source_is_self
from stream_core.flavors.cdc import cdc
from stream_core.flavors.materialize import materialize
from stream_core.utils.dynamodb import timestamp_condition, update_expression

from .models import PAYMENT_TIMEOUT, READY
from .orders import ORDER_SK, order_of

__all__ = ["STATUS_OF", "listener_rules", "to_status_update", "trigger_rules"]

#: The events the listener materializes, and the status each one sets.
STATUS_OF = {"order-ready": READY, "order-payment-timeout": PAYMENT_TIMEOUT}

#: A status event overrides an earlier one, never a later one (see the module doc).
STATUS_TIMESTAMP = "status_timestamp"


# -- trigger ---------------------------------------------------------------------------------


def trigger_rules() -> list[dict[str, Any]]:
    """cdc: the orders table's changes (``order-created/updated/deleted`` from
    ``from_dynamodb``'s discriminator and soft-delete mapping) -> the domain events."""
    return [
        {"id": "order-submitted", "flavor": cdc, "event_type": "order-created",
         "to_event": _domain_event("order-submitted"), "include_raw": False},
        {"id": "order-updated", "flavor": cdc, "event_type": "order-updated",
         "to_event": _domain_event("order-updated"), "include_raw": False},
        # "order-deleted" is the soft delete (deleted turned true) and also a hard REMOVE,
        # which the API never does: only the soft delete is a cancellation
        {"id": "order-cancelled", "flavor": cdc, "event_type": "order-deleted",
         "filters": [_is_soft_delete],
         "to_event": _domain_event("order-cancelled"), "include_raw": False},
    ]


def _domain_event(event_type: str):
    def to_event(uow: dict[str, Any]) -> dict[str, Any]:
        return {"type": event_type, "order": order_of(uow["event"]["raw"]["new"])}

    return to_event


def _is_soft_delete(uow: dict[str, Any], rule: Any = None) -> bool:
    return bool((uow["event"]["raw"]["new"] or {}).get("deleted"))


# -- listener --------------------------------------------------------------------------------


class _OrderRef(BaseModel):
    id: str


class StatusEvent(BaseModel):
    """What the listener needs of ``order-ready``/``order-payment-timeout``."""

    model_config = ConfigDict(extra="allow")

    type: str
    timestamp: int
    order: _OrderRef


def listener_rules() -> list[dict[str, Any]]:
    """materialize: control's status events -> the order's ``status`` (latched)."""
    return [
        {"id": "materialize-order-status", "flavor": materialize,
         "event_type": list(STATUS_OF), "schema": StatusEvent,
         "filters": [out_source_is_self],
         "to_update_request": to_status_update},
    ]


def to_status_update(uow: dict[str, Any]) -> dict[str, Any]:
    """The update of the order's status: only an existing, not cancelled order, and only
    when the event is newer than the last status event applied (``status_timestamp``)."""
    event = uow["event"]
    request = update_expression(
        latched({"status": STATUS_OF[event["type"]], STATUS_TIMESTAMP: event["timestamp"]})
    )
    newer = timestamp_condition(STATUS_TIMESTAMP)["ConditionExpression"]
    return {
        **request,
        "Key": {"pk": uow["model"].order.id, "sk": ORDER_SK},
        "ConditionExpression": (
            "attribute_exists(#pk) AND (attribute_not_exists(#deleted) OR #deleted <> :true)"
            f" AND ({newer})"
        ),
        "ExpressionAttributeNames": {
            **request["ExpressionAttributeNames"], "#pk": "pk", "#deleted": "deleted",
        },
        "ExpressionAttributeValues": {**request["ExpressionAttributeValues"], ":true": True},
    }
