"""listener: control's status events (hub stream) -> the order's status, latched."""

import pytest

from rest_bff.rules import listener_rules, trigger_rules
from stream_core.events.dynamodb import from_dynamodb
from stream_core.events.kinesis import from_kinesis, to_kinesis_records

ORDER = {"customer": "c-1", "items": [{"sku": "A-1", "quantity": 2, "price": 9.99}]}


def status_event(event_type, timestamp, order_id="o1", source="control", **extra):
    return {"id": f"{event_type}-{order_id}-{timestamp}", "type": event_type,
            "timestamp": timestamp, "partition_key": order_id,
            "tags": {"source": source}, "order": {"id": order_id}, **extra}


def deliver(run, *events):
    return run(listener_rules(), from_kinesis(to_kinesis_records(list(events))))


def item(orders_table, order_id="o1"):
    return orders_table.get_item(Key={"pk": order_id, "sk": "ORDER"}).get("Item")


@pytest.fixture
def order(api, orders_table, clock):
    api("POST", "/orders", ORDER)
    orders_table.stream.event()  # the creation is the trigger's business, not this test's
    return item(orders_table)


def test_order_ready_sets_the_status_latched_and_the_trigger_stays_quiet(
    order, orders_table, run, clock
):
    _, result = deliver(run, status_event("order-ready", clock.now + 500))
    assert result.faults == []
    stored = item(orders_table)
    assert stored["status"] == "READY" and stored["latched"] is True
    assert stored["status_timestamp"] == clock.now + 500
    # the command's own attributes are untouched
    assert stored["version"] == order["version"] and stored["timestamp"] == order["timestamp"]
    _, result = run(trigger_rules(), from_dynamodb(orders_table.stream.event()))
    assert run.sink.events == [] and result.faults == []


def test_a_users_later_change_does_not_make_order_ready_look_old(
    api, order, orders_table, run, clock
):
    paid_at = clock.now + 100
    clock.tick(5_000)  # the user changes the order after paying, before order-ready arrives
    status, _, _ = api("PUT", "/orders/o1", {**ORDER, "version": 1})
    assert status == 200 and item(orders_table)["timestamp"] > paid_at
    deliver(run, status_event("order-ready", paid_at))
    assert item(orders_table)["status"] == "READY"


def test_older_and_redelivered_status_events_change_nothing(order, orders_table, run, clock):
    ready = status_event("order-ready", clock.now + 2_000)
    deliver(run, ready)
    orders_table.stream.event()
    # out of order: a timeout older than the ready, then the ready again
    deliver(run, status_event("order-payment-timeout", clock.now + 1_000))
    deliver(run, ready)
    assert item(orders_table)["status"] == "READY"
    assert orders_table.stream.event()["Records"] == []  # no write at all
    deliver(run, status_event("order-payment-timeout", clock.now + 3_000))
    assert item(orders_table)["status"] == "PAYMENT_TIMEOUT"


def test_a_later_command_publishes_the_materialized_status(api, order, orders_table, run, clock):
    deliver(run, status_event("order-ready", clock.now + 1))
    clock.tick()
    api("PUT", "/orders/o1", {**ORDER, "version": 1})  # unlatches
    assert "latched" not in item(orders_table)
    run(trigger_rules(), from_dynamodb(orders_table.stream.event()))
    [updated] = run.sink.events
    assert updated["type"] == "order-updated" and updated["order"]["status"] == "READY"


def test_unknown_and_cancelled_orders_are_left_alone(api, order, orders_table, run, clock):
    deliver(run, status_event("order-ready", clock.now + 1, order_id="elsewhere"))
    assert item(orders_table, "elsewhere") is None
    api("DELETE", "/orders/o1")
    deliver(run, status_event("order-payment-timeout", clock.now + 2))
    assert item(orders_table)["status"] == "CANCELLED"


def test_own_events_and_other_types_are_ignored(order, orders_table, run, clock):
    out, result = deliver(
        run,
        status_event("order-ready", clock.now + 1, source="rest-bff"),
        status_event("order-submitted", clock.now + 2),
    )
    assert out == [] and result.faults == []
    assert item(orders_table)["status"] == "SUBMITTED"


def test_an_event_without_an_order_id_is_a_fault_with_details(orders_table, run):
    bad = {"id": "x", "type": "order-ready", "timestamp": 5, "order": {"number": 1}}
    out, _ = deliver(run, bad)
    assert out == []
    [fault] = run.sink.faults
    assert fault["err"]["details"][0]["loc"] == ["order", "id"]


def test_the_handler_reads_the_hub_stream(order, orders_table, clock, cold_start):
    listener = cold_start("rest_bff.listener")

    records = to_kinesis_records([status_event("order-ready", clock.now + 1)])
    assert listener.handler(records, None) == {"batchItemFailures": []}
    assert item(orders_table)["status"] == "READY"
