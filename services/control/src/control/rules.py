"""The rules of control's functions.

``listener`` (the hub's Kinesis stream, ``collect``) stores the events to correlate in the
events table:

* ``order-submitted``: kept until its payment deadline, ``PAYMENT_TIMEOUT_SECONDS`` after
  the event (default 900), and armed with ``expire: order-payment-timeout``;
* ``payment-authorized``: kept ``EVENT_TTL_DAYS`` (default 33).

``trigger`` (the events table's stream) decides:

* ``correlate`` indexes both by order id (suffix ``payment``);
* ``evaluate``: when the submission and a payment are both correlated, the trigger that
  claims the order's decision (``decisions.py``) emits ``order-ready``;
* ``expired``: when TTL removes a submission, no payment of the order was collected and the
  timeout claims the decision, ``order-payment-timeout`` is emitted.

Exactly one of the two is ever emitted per order, once: the decision item is claimed with a
conditional write by one trigger only, whatever the order, batching or redelivery of the
events (``evaluate``'s and ``expired``'s emitted-markers skip a redelivered, already
published trigger).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from stream_core.errors import ConfigurationError
from stream_core.filters.source import out_source_is_self
from stream_core.flavors.collect import collect
from stream_core.flavors.correlate import correlate
from stream_core.flavors.evaluate import evaluate
from stream_core.flavors.expired import expired
from stream_core.utils.tags import env_tags

from .decisions import PAYMENT_AUTHORIZED, Decisions

__all__ = [
    "ORDER_PAYMENT_TIMEOUT",
    "ORDER_READY",
    "ORDER_SUBMITTED",
    "PAYMENT_AUTHORIZED",
    "Settings",
    "listener_rules",
    "trigger_rules",
]

log = logging.getLogger("control.rules")

ORDER_SUBMITTED = "order-submitted"
ORDER_READY = "order-ready"
ORDER_PAYMENT_TIMEOUT = "order-payment-timeout"
CORRELATED = [ORDER_SUBMITTED, PAYMENT_AUTHORIZED]
SUFFIX = "payment"


@dataclass(frozen=True)
class Settings:
    """control's configuration (environment variables of the same names, upper case)."""

    payment_timeout_seconds: int = 900
    event_ttl_days: float = 33

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            payment_timeout_seconds=_number(env, "PAYMENT_TIMEOUT_SECONDS", 900, int),
            event_ttl_days=_number(env, "EVENT_TTL_DAYS", 33, float),
        )


def _number(env: Mapping[str, str], name: str, default: float, kind: type) -> Any:
    text = env.get(name)
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or value <= 0:
        raise ConfigurationError(f"{name} must be a positive {kind.__name__}, not {text!r}")
    return value


Id = Annotated[str, StringConstraints(min_length=1)]


class _OrderRef(BaseModel):
    id: Id


class _PaymentRef(BaseModel):
    order_id: Id | None = None


class OrderSubmitted(BaseModel):
    """What control needs of ``order-submitted``: ``order.id``."""

    model_config = ConfigDict(extra="allow")

    order: _OrderRef


class PaymentAuthorized(BaseModel):
    """What control needs of ``payment-authorized``: the order it pays, as ``order.id`` or
    as ``payment.order_id`` (a payments service's own shape)."""

    model_config = ConfigDict(extra="allow")

    order: _OrderRef | None = None
    payment: _PaymentRef | None = None

    @model_validator(mode="after")
    def _names_the_order(self) -> PaymentAuthorized:
        if self.order is None and (self.payment is None or self.payment.order_id is None):
            raise ValueError("names no order: needs order.id or payment.order_id")
        return self


def order_id_of(event: Mapping[str, Any]) -> str:
    """The order an event is about: ``order.id``, else ``payment.order_id``."""
    order = event.get("order")
    if isinstance(order, Mapping) and order.get("id"):
        return str(order["id"])
    return str(event["payment"]["order_id"])


def _correlation_key(uow: Mapping[str, Any]) -> str:
    return order_id_of(uow["event"])


# -- listener --------------------------------------------------------------------------------


def listener_rules(settings: Settings | None = None) -> list[dict[str, Any]]:
    """collect: submissions (until their payment deadline, armed to expire) and payments."""
    settings = settings or Settings.from_environment()
    return [
        {"id": "collect-order-submitted", "flavor": collect, "event_type": ORDER_SUBMITTED,
         "schema": OrderSubmitted, "filters": [out_source_is_self],
         "correlation_key": _correlation_key,
         "ttl": payment_deadline(settings.payment_timeout_seconds),
         "expire": ORDER_PAYMENT_TIMEOUT},
        {"id": "collect-payment-authorized", "flavor": collect,
         "event_type": PAYMENT_AUTHORIZED, "schema": PaymentAuthorized,
         "filters": [out_source_is_self], "correlation_key": _correlation_key,
         "ttl": settings.event_ttl_days},
    ]


def payment_deadline(seconds: int) -> Callable[[Mapping[str, Any], Any], int]:
    """collect's ``ttl``: ``seconds`` after the submission (epoch seconds)."""

    def ttl(uow: Mapping[str, Any], rule: Any = None) -> int:
        return int(uow["event"]["timestamp"]) // 1000 + seconds

    return ttl


# -- trigger ---------------------------------------------------------------------------------


def trigger_rules(
    decisions: Decisions | None = None, settings: Settings | None = None
) -> list[dict[str, Any]]:
    """correlate, evaluate (order-ready) and expired (order-payment-timeout)."""
    settings = settings or Settings.from_environment()
    decisions = decisions or Decisions(ttl_days=settings.event_ttl_days)  # EVENT_TABLE_NAME
    return [
        # correlations outlive the submission's deadline: a payment that comes in after it,
        # before TTL removed the submission, still finds it (and then claims the decision)
        {"id": "correlate-order-payment", "flavor": correlate, "event_type": CORRELATED,
         "correlation_key": _correlation_key, "correlation_key_suffix": SUFFIX,
         "ttl": settings.event_ttl_days},
        {"id": ORDER_READY, "flavor": evaluate, "event_type": CORRELATED,
         "correlation_key_suffix": SUFFIX,
         "expression": ready(decisions), "emit": order_ready(env_tags(ORDER_READY))},
        {"id": ORDER_PAYMENT_TIMEOUT, "flavor": expired, "event_type": ORDER_PAYMENT_TIMEOUT,
         "filters": [unpaid(decisions), stamped_with(env_tags(ORDER_PAYMENT_TIMEOUT))]},
    ]


def ready(decisions: Decisions) -> Callable[[dict[str, Any]], bool]:
    """evaluate's expression: submitted and paid, and this trigger decides the order."""

    def expression(uow: dict[str, Any]) -> bool:
        types = {event.get("type") for event in uow["correlated"]}
        if not types.issuperset(CORRELATED):
            return False
        order_id = order_id_of(uow["event"])
        if decisions.claim(order_id, ORDER_READY, uow["meta"]["id"]):
            return True
        log.info("order %s is decided already: %s emits nothing", order_id, uow["meta"]["id"])
        return False

    return expression


def order_ready(own_tags: Mapping[str, Any]) -> Callable[..., dict[str, Any]]:
    """evaluate's ``emit``: ``order-ready`` with the order as submitted, the payment, and
    both events as its triggers (its time: when the second of them happened)."""

    def emit(uow: dict[str, Any], rule: Any, template: dict[str, Any]) -> dict[str, Any]:
        latest: dict[str, dict[str, Any]] = {}
        for event in uow["correlated"]:  # newest first
            latest.setdefault(event["type"], event)
        submitted, paid = latest[ORDER_SUBMITTED], latest[PAYMENT_AUTHORIZED]
        event = {
            **template,
            "type": ORDER_READY,
            "timestamp": max(submitted["timestamp"], paid["timestamp"]),
            "tags": with_own_tags(own_tags, template.get("tags")),
            "order": submitted["order"],
            "triggers": [
                {"id": e["id"], "type": e["type"], "timestamp": e["timestamp"]}
                for e in (submitted, paid)
            ],
        }
        if "payment" in paid:
            event["payment"] = paid["payment"]
        return event

    return emit


def unpaid(decisions: Decisions) -> Callable[[dict[str, Any], Any], bool]:
    """expired's filter: the submission was not paid, and the timeout decides the order."""

    def keep(uow: dict[str, Any], rule: Any = None) -> bool:
        event = uow["event"]
        order_id = order_id_of(event)
        if decisions.pays_for(order_id):
            log.info("order %s was paid: no timeout", order_id)
            return False
        return decisions.claim(order_id, ORDER_PAYMENT_TIMEOUT, event["id"])

    return keep


# -- tags ------------------------------------------------------------------------------------


def with_own_tags(own: Mapping[str, Any], tags: Mapping[str, Any] | None) -> dict[str, Any]:
    """``tags`` under this function's standard tags ``own``: an event control emits says
    control emitted it (``source``, ``functionname``, ``pipeline``), whatever the tags of
    the events it was made from."""
    return {**(tags or {}), **own}


def stamped_with(own: Mapping[str, Any]) -> Callable[[dict[str, Any], Any], bool]:
    """Not a filter but the last step before ``expired`` publishes (always ``True``).

    ``expired`` keeps the stored submission's tags over its own, so the timeout would carry
    rest-bff's ``source`` and rest-bff's listener (``out_source_is_self``) would drop it.
    The event is the flavor's fresh dict for this UOW, so it is changed in place.
    """

    def stamp(uow: dict[str, Any], rule: Any = None) -> bool:
        event = uow["event"]
        event["tags"] = with_own_tags(own, event.get("tags"))
        return True

    return stamp
