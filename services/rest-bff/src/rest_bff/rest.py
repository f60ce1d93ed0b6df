"""The orders REST API (API Gateway REST API, Lambda proxy integration).

=========================  ===================================================================
``POST /orders``           create (201, ``Location``, ``ETag``); status SUBMITTED, version 1
``GET /orders/{id}``       the order (``ETag: "<version>"``); 404 if unknown
``GET /orders``            ``?limit=1..100`` (default 20) ``&cursor=``: ``{orders, cursor}``,
                           newest first; pass ``cursor`` back for the next page (null: done)
``PUT /orders/{id}``       replace customer and items; the client names the version it read
                           (``version`` in the body or ``If-Match: "<version>"``): 428 if it
                           names none, 409 if the order is at another version or cancelled
``DELETE /orders/{id}``    cancel (soft delete: status CANCELLED); idempotent; an optional
                           ``If-Match`` is honoured (409 on a mismatch)
=========================  ===================================================================

Invalid bodies or parameters answer 400 ``{"message", "errors": [{"loc", "msg", "type"}]}``
(pydantic's errors, without the input values). Errors are JSON ``{"message": ...}``.

``create_app(orders)`` builds the resolver (tests give it their own ``Orders``); ``handler``
builds the default one on its first call, once per process, from ``ENTITY_TABLE_NAME``.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from pydantic import ValidationError

from .models import NewOrder, OrderChange
from .orders import (
    BadCursor,
    OrderCancelled,
    OrderNotFound,
    Orders,
    VersionConflict,
    view_of,
)

__all__ = ["create_app", "handler"]

log = logging.getLogger("rest_bff.rest")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')


def create_app(orders: Orders) -> APIGatewayRestResolver:
    """The API's resolver over ``orders``."""
    app = APIGatewayRestResolver(serializer=dumps)

    @app.post("/orders")
    def create_order() -> Response:
        order = NewOrder.model_validate_json(_body(app))
        item = orders.create(order)
        return _order_response(item, HTTPStatus.CREATED, Location=f"/orders/{item['id']}")

    @app.get("/orders/<order_id>")
    def get_order(order_id: str) -> Response:
        item = orders.get(order_id)
        if item is None:
            raise OrderNotFound(order_id)
        return _order_response(item)

    @app.get("/orders")
    def list_orders() -> Response:
        event = app.current_event
        limit = _limit(event.get_query_string_value("limit"))
        items, cursor = orders.page(limit, event.get_query_string_value("cursor") or None)
        return _json(HTTPStatus.OK, {"orders": [view_of(i) for i in items], "cursor": cursor})

    @app.put("/orders/<order_id>")
    def change_order(order_id: str) -> Response:
        change = OrderChange.model_validate_json(_body(app))
        expected = _expected_version(app, change.version, required=True)
        return _order_response(orders.change(order_id, change, expected))

    @app.delete("/orders/<order_id>")
    def cancel_order(order_id: str) -> Response:
        expected = _expected_version(app, None, required=False)
        return _order_response(orders.cancel(order_id, expected))

    @app.exception_handler(ValidationError)
    def invalid(err: ValidationError) -> Response:
        return _invalid([
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
            for e in err.errors(include_url=False, include_input=False, include_context=False)
        ])

    @app.exception_handler(_BadRequest)
    def bad_request(err: _BadRequest) -> Response:
        return _invalid([{"loc": list(err.loc), "msg": str(err), "type": err.type}])

    @app.exception_handler(BadCursor)
    def bad_cursor(err: BadCursor) -> Response:
        return _invalid([{"loc": ["query", "cursor"], "msg": str(err), "type": "cursor_invalid"}])

    @app.exception_handler(OrderNotFound)
    def not_found(err: OrderNotFound) -> Response:
        return _json(HTTPStatus.NOT_FOUND, {"message": f"order {err.args[0]} not found"})

    @app.exception_handler(VersionConflict)
    def conflict(err: VersionConflict) -> Response:
        current = err.current
        return _json(
            HTTPStatus.CONFLICT,
            {"message": f"order is at version {current.get('version')}, not {err.expected}",
             "order": view_of(current)},
            ETag=_etag(current),
        )

    @app.exception_handler(OrderCancelled)
    def cancelled(err: OrderCancelled) -> Response:
        return _json(HTTPStatus.CONFLICT,
                     {"message": "order is cancelled", "order": view_of(err.current)},
                     ETag=_etag(err.current))

    @app.exception_handler(_PreconditionRequired)
    def precondition_required(err: _PreconditionRequired) -> Response:
        return _json(HTTPStatus.PRECONDITION_REQUIRED, {"message": str(err)})

    @app.exception_handler(ServiceError)
    def service_error(err: ServiceError) -> Response:  # e.g. no such route: 404
        return _json(HTTPStatus(err.status_code), {"message": err.msg})

    @app.exception_handler(Exception)
    def unexpected(err: Exception) -> Response:
        # logged with its stack; the client learns nothing internal (API 5XX alarm)
        log.exception("%s %s failed", app.current_event.http_method, app.current_event.path)
        return _json(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "internal error"})

    return app


@functools.cache
def _default_app() -> APIGatewayRestResolver:
    return create_app(Orders.from_environment())


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda handler (API Gateway REST API proxy events)."""
    return _default_app().resolve(event, context)


# -- helpers ---------------------------------------------------------------------------------


class _BadRequest(ValueError):
    def __init__(self, message: str, loc: tuple[str, ...], type_: str):
        super().__init__(message)
        self.loc = loc
        self.type = type_


class _PreconditionRequired(Exception):
    pass


def _body(app: APIGatewayRestResolver) -> str:
    body = app.current_event.decoded_body
    return body if body else "null"  # an empty body fails validation like any bad body


def _limit(text: str | None) -> int:
    if text is None or text == "":
        return DEFAULT_LIMIT
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise _BadRequest(f"limit must be an integer from 1 to {MAX_LIMIT}",
                          ("query", "limit"), "limit_invalid")
    return int(text)


def _expected_version(
    app: APIGatewayRestResolver, in_body: int | None, *, required: bool
) -> int | None:
    """The version the client read: the body's ``version`` and/or ``If-Match``."""
    header = app.current_event.headers.get("If-Match")  # case-insensitive
    from_header = None
    if header is not None:
        match = _ETAG.match(header)
        if match is None:
            raise _BadRequest('If-Match must be an ETag of this API ("<version>")',
                              ("header", "If-Match"), "if_match_invalid")
        from_header = int(match.group(1))
    if in_body is not None and from_header is not None and in_body != from_header:
        raise _BadRequest("version and If-Match name different versions",
                          ("body", "version"), "version_mismatch")
    expected = in_body if in_body is not None else from_header
    if expected is None and required:
        raise _PreconditionRequired(
            'name the version you read: "version" in the body or an If-Match header'
        )
    return expected


def _etag(item: dict[str, Any]) -> str:
    return f'"{item.get("version")}"'


def _order_response(
    item: dict[str, Any], status: HTTPStatus = HTTPStatus.OK, **headers: str
) -> Response:
    return _json(status, view_of(item), ETag=_etag(item), **headers)


def _json(status: HTTPStatus, body: Any, **headers: str) -> Response:
    return Response(int(status), content_types.APPLICATION_JSON, body, headers)


def _invalid(errors: list[dict[str, Any]]) -> Response:
    return _json(HTTPStatus.BAD_REQUEST, {"message": "invalid request", "errors": errors})


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(body: Any) -> str:
    """JSON with DynamoDB's Decimals as numbers (integral ones as integers)."""
    return json.dumps(body, default=_default, separators=(",", ":"))
