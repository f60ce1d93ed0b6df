"""The REST API through its resolver with API Gateway proxy events, on moto's DynamoDB."""

from decimal import Decimal

import pytest

ORDER = {"customer": "c-1", "items": [{"sku": "A-1", "quantity": 2, "price": 9.99},
                                      {"sku": "B-2", "quantity": 1, "price": 0.02}]}


def create(api, body=ORDER):
    status, order, headers = api("POST", "/orders", body)
    assert status == 201, order
    return order, headers


# -- create ----------------------------------------------------------------------------------


def test_create_stores_a_submitted_order(api, orders_table, clock):
    order, headers = create(api)
    assert order == {
        "id": "o1", "customer": "c-1",
        "items": [{"sku": "A-1", "quantity": 2, "price": 9.99},
                  {"sku": "B-2", "quantity": 1, "price": 0.02}],
        "total": 20, "status": "SUBMITTED", "version": 1,
        "created": clock.now, "updated": clock.now,
    }
    assert headers["Location"] == "/orders/o1" and headers["ETag"] == '"1"'
    item = orders_table.get_item(Key={"pk": "o1", "sk": "ORDER"})["Item"]
    assert item["discriminator"] == "order" and item["total"] == Decimal("20.00")
    assert item["items"][0]["price"] == Decimal("9.99")  # exact, never through a float
    assert "latched" not in item and "deleted" not in item


@pytest.mark.parametrize(
    ("body", "locs"),
    [
        ({"items": ORDER["items"]}, [["customer"]]),
        ({**ORDER, "items": []}, [["items"]]),
        ({**ORDER, "items": [{"sku": "A", "quantity": 1, "price": 1.001}]},
         [["items", 0, "price"]]),
        ({**ORDER, "items": [{"sku": "A", "quantity": "2", "price": 1}]},
         [["items", 0, "quantity"]]),
        ({**ORDER, "items": [{"sku": "", "quantity": 0, "price": -1}]},
         [["items", 0, "sku"], ["items", 0, "quantity"], ["items", 0, "price"]]),
        ({**ORDER, "status": "READY"}, [["status"]]),
        ("{not json", [[]]),
        (None, [[]]),
    ],
)
def test_create_rejects_invalid_bodies_with_field_errors(api, orders_table, body, locs):
    status, response, _ = api("POST", "/orders", body)
    assert status == 400
    assert response["message"] == "invalid request"
    assert [e["loc"] for e in response["errors"]] == locs
    assert all(e["msg"] and e["type"] for e in response["errors"])
    assert orders_table.scan()["Items"] == []


# -- get and list ----------------------------------------------------------------------------


def test_get_returns_the_order_with_its_etag_and_404_for_unknown_ids(api, orders_table):
    order, _ = create(api)
    status, body, headers = api("GET", "/orders/o1")
    assert (status, body, headers["ETag"]) == (200, order, '"1"')
    status, body, _ = api("GET", "/orders/nope")
    assert (status, body) == (404, {"message": "order nope not found"})


def test_list_pages_newest_first_with_an_opaque_cursor(api, orders_table, clock):
    for _ in range(5):
        clock.tick()
        create(api)
    seen, cursor, pages = [], None, 0
    while True:
        status, body, _ = api("GET", "/orders",
                              query={"limit": "2", **({"cursor": cursor} if cursor else {})})
        assert status == 200
        seen += [o["id"] for o in body["orders"]]
        pages += 1
        cursor = body["cursor"]
        if cursor is None:
            break
        assert "{" not in cursor and "\"" not in cursor  # opaque, not JSON
    assert seen == ["o5", "o4", "o3", "o2", "o1"] and pages == 3
    status, body, _ = api("GET", "/orders")
    assert [o["id"] for o in body["orders"]] == ["o5", "o4", "o3", "o2", "o1"]
    assert body["cursor"] is None


@pytest.mark.parametrize(
    ("query", "loc"),
    [({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"limit": "x"}, "limit"),
     ({"cursor": "!!!"}, "cursor"), ({"cursor": "WzEsMl0"}, "cursor")],  # [1,2]
)
def test_list_rejects_bad_limits_and_cursors(api, orders_table, query, loc):
    status, body, _ = api("GET", "/orders", query=query)
    assert status == 400
    assert body["errors"][0]["loc"] == ["query", loc]


# -- update ----------------------------------------------------------------------------------

CHANGE = {"customer": "c-2", "items": [{"sku": "C-3", "quantity": 3, "price": 1.5}]}


def test_update_with_the_version_read_in_the_body_or_if_match(api, orders_table, clock):
    create(api)
    clock.tick()
    status, order, headers = api("PUT", "/orders/o1", {**CHANGE, "version": 1})
    assert status == 200, order
    assert (order["customer"], order["total"], order["version"]) == ("c-2", 4.5, 2)
    assert order["updated"] == clock.now and order["status"] == "SUBMITTED"
    assert headers["ETag"] == '"2"'
    status, order, _ = api("PUT", "/orders/o1", CHANGE, headers={"If-Match": '"2"'})
    assert (status, order["version"]) == (200, 3)
    status, order, _ = api("PUT", "/orders/o1", CHANGE, headers={"if-match": 'W/"3"'})
    assert (status, order["version"]) == (200, 4)


def test_update_with_a_stale_version_is_a_conflict(api, orders_table):
    create(api)
    api("PUT", "/orders/o1", {**CHANGE, "version": 1})
    status, body, headers = api("PUT", "/orders/o1", {**ORDER, "version": 1})
    assert status == 409
    assert body["message"] == "order is at version 2, not 1"
    assert body["order"]["customer"] == "c-2" and headers["ETag"] == '"2"'
    item = orders_table.get_item(Key={"pk": "o1", "sk": "ORDER"})["Item"]
    assert item["customer"] == "c-2" and item["version"] == 2


def test_update_needs_a_version_and_a_known_order(api, orders_table):
    create(api)
    status, body, _ = api("PUT", "/orders/o1", CHANGE)
    assert status == 428 and "If-Match" in body["message"]
    status, body, _ = api("PUT", "/orders/o1", {**CHANGE, "version": 1},
                          headers={"If-Match": '"2"'})
    assert status == 400 and body["errors"][0]["type"] == "version_mismatch"
    status, body, _ = api("PUT", "/orders/o1", CHANGE, headers={"If-Match": "*"})
    assert status == 400 and body["errors"][0]["loc"] == ["header", "If-Match"]
    status, body, _ = api("PUT", "/orders/o1", {**CHANGE, "version": 0})
    assert status == 400 and body["errors"][0]["loc"] == ["version"]
    status, body, _ = api("PUT", "/orders/nope", {**CHANGE, "version": 1})
    assert status == 404


# -- cancel ----------------------------------------------------------------------------------


def test_cancel_is_a_soft_delete_and_idempotent(api, orders_table, clock):
    create(api)
    clock.tick()
    status, order, headers = api("DELETE", "/orders/o1")
    assert status == 200
    assert (order["status"], order["version"], headers["ETag"]) == ("CANCELLED", 2, '"2"')
    item = orders_table.get_item(Key={"pk": "o1", "sk": "ORDER"})["Item"]
    assert item["deleted"] is True and item["timestamp"] == clock.now
    orders_table.stream.event()
    clock.tick()
    status, again, _ = api("DELETE", "/orders/o1")
    assert (status, again) == (200, order)
    assert orders_table.stream.event()["Records"] == []  # nothing written the second time
    status, body, _ = api("GET", "/orders/o1")
    assert (status, body["status"]) == (200, "CANCELLED")


def test_a_cancelled_order_cannot_change(api, orders_table):
    create(api)
    api("DELETE", "/orders/o1")
    status, body, _ = api("PUT", "/orders/o1", {**CHANGE, "version": 2})
    assert (status, body["message"]) == (409, "order is cancelled")


def test_cancel_honours_if_match_and_404s_unknown_orders(api, orders_table):
    create(api)
    status, body, _ = api("DELETE", "/orders/o1", headers={"If-Match": '"7"'})
    assert status == 409 and body["order"]["status"] == "SUBMITTED"
    status, body, _ = api("DELETE", "/orders/o1", headers={"If-Match": '"1"'})
    assert (status, body["status"]) == (200, "CANCELLED")
    assert api("DELETE", "/orders/nope")[0] == 404


# -- the Lambda handler ----------------------------------------------------------------------


def test_the_handler_reads_its_table_from_the_environment(orders_table, make_proxy_event):
    from rest_bff import rest

    rest._default_app.cache_clear()
    try:
        response = rest.handler(make_proxy_event("POST", "/orders", ORDER), None)
        assert response["statusCode"] == 201
        order_id = response["multiValueHeaders"]["Location"][0].rsplit("/", 1)[1]
        response = rest.handler(make_proxy_event("GET", f"/orders/{order_id}"), None)
        assert response["statusCode"] == 200
        assert rest.handler(make_proxy_event("GET", "/nothing"), None)["statusCode"] == 404
    finally:
        rest._default_app.cache_clear()


def test_unexpected_errors_answer_500_without_details(aws, make_proxy_event, caplog):
    from rest_bff.orders import Orders
    from rest_bff.rest import create_app

    app = create_app(Orders("no-such-table"))
    response = app.resolve(make_proxy_event("GET", "/orders/o1"), None)
    assert response["statusCode"] == 500
    assert response["body"] == '{"message":"internal error"}'
    assert "GET /orders/o1 failed" in caplog.text
