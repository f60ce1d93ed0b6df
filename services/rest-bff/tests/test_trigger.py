"""trigger: the orders table's real stream (moto) -> order-submitted/updated/cancelled."""

from rest_bff.rules import trigger_rules
from stream_core.events.dynamodb import from_dynamodb, to_dynamodb_records

ORDER = {"customer": "c-1", "items": [{"sku": "A-1", "quantity": 2, "price": 9.99}]}
CHANGE = {"customer": "c-2", "items": [{"sku": "A-1", "quantity": 1, "price": 9.99}],
          "version": 1}


def publish_changes(orders_table, run):
    _, result = run(trigger_rules(), from_dynamodb(orders_table.stream.event()))
    assert result.faults == []
    events, run.sink.events[:] = list(run.sink.events), []
    return events


def test_commands_publish_domain_events_with_the_order(api, orders_table, run, clock):
    api("POST", "/orders", ORDER)
    [submitted] = publish_changes(orders_table, run)
    assert set(submitted) == {"id", "type", "timestamp", "partition_key", "tags", "order"}
    assert submitted["type"] == "order-submitted"
    assert submitted["partition_key"] == "o1" and submitted["timestamp"] == clock.now
    assert submitted["order"] == {
        "id": "o1", "customer": "c-1", "items": [{"sku": "A-1", "quantity": 2, "price": 9.99}],
        "total": 19.98, "status": "SUBMITTED", "version": 1,
    }
    assert submitted["tags"]["source"] == "rest-bff"
    assert submitted["tags"]["pipeline"] == "order-submitted"

    clock.tick()
    api("PUT", "/orders/o1", CHANGE)
    [updated] = publish_changes(orders_table, run)
    assert (updated["type"], updated["timestamp"]) == ("order-updated", clock.now)
    assert updated["order"]["customer"] == "c-2" and updated["order"]["version"] == 2

    clock.tick()
    api("DELETE", "/orders/o1")
    [cancelled] = publish_changes(orders_table, run)
    assert cancelled["type"] == "order-cancelled"
    assert cancelled["order"]["status"] == "CANCELLED" and cancelled["order"]["version"] == 3
    assert len({submitted["id"], updated["id"], cancelled["id"]}) == 3


def test_event_ids_are_the_stream_records_so_redelivery_repeats_the_same_id(
    api, orders_table, run
):
    api("POST", "/orders", ORDER)
    batch = orders_table.stream.event()
    run(trigger_rules(), from_dynamodb(batch))
    run(trigger_rules(), from_dynamodb(batch))
    first, second = run.sink.events
    assert first["id"] == second["id"] == batch["Records"][0]["eventID"]


def test_latched_writes_and_hard_deletes_publish_nothing(run):
    image = {"pk": "o1", "sk": "ORDER", "discriminator": "order", "id": "o1",
             "status": "SUBMITTED", "version": 1, "timestamp": 1}
    event = to_dynamodb_records([
        # the listener's write: latched
        {"keys": {"pk": "o1", "sk": "ORDER"}, "oldImage": image,
         "newImage": {**image, "status": "READY", "latched": True}},
        # someone removed the item by hand: not a cancellation
        {"keys": {"pk": "o2", "sk": "ORDER"}, "oldImage": {**image, "pk": "o2", "id": "o2"},
         "newImage": None},
    ])
    _, result = run(trigger_rules(), from_dynamodb(event))
    assert result.faults == [] and run.sink.events == []


def test_the_handler_publishes_to_the_bus(api, orders_table, event_bus, cold_start):
    trigger = cold_start("rest_bff.trigger")

    api("POST", "/orders", ORDER)
    response = trigger.handler(orders_table.stream.event(), None)
    assert response == {"batchItemFailures": []}
    [event] = event_bus.events()
    assert (event["type"], event["order"]["id"]) == ("order-submitted", "o1")
