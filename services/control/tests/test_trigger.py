"""trigger: correlate -> evaluate (order-ready) and expired (order-payment-timeout), through
the events table's real stream on moto: one decision per order, emitted once."""

from stream_core.events.kinesis import to_kinesis_records


def decision(events_table, order_id):
    return events_table.get_item(Key={"pk": order_id, "sk": "DECISION"}).get("Item")


# -- order-ready -----------------------------------------------------------------------------


def test_submitted_then_paid_is_ready_once_with_its_shape(chain, events_table, events):
    chain.hub(events.submitted("o1"), events.submitted("o2"))
    chain.trigger()
    assert chain.emitted() == []
    chain.hub(events.paid("o1"))
    chain.trigger()
    [ready] = chain.emitted()
    assert set(ready) == {"id", "type", "timestamp", "partition_key", "tags", "order",
                          "payment", "triggers"}
    assert ready["type"] == "order-ready" and ready["partition_key"] == "o1"
    assert ready["order"] == events.submitted("o1")["order"]
    assert ready["payment"] == {"id": "p-o1", "amount": 19.98}
    assert ready["timestamp"] == events.T0 + 60_000  # when the second event happened
    assert [t["id"] for t in ready["triggers"]] == ["sub-o1", "pay-o1"]
    assert ready["id"].endswith(".order-ready")
    assert ready["tags"]["source"] == "control" and ready["tags"]["pipeline"] == "order-ready"
    assert decision(events_table, "o1")["outcome"] == "order-ready"
    assert decision(events_table, "o2") is None


def test_both_events_in_one_batch_are_ready_once(chain, events):
    chain.hub(events.submitted("o1"), events.paid("o1"))
    chain.trigger()
    assert [e["partition_key"] for e in chain.emitted("order-ready")] == ["o1"]


def test_redelivered_trigger_batches_emit_nothing_more(chain, events):
    chain.hub(events.submitted("o1"), events.paid("o1"))
    chain.trigger()
    for batch in chain.batches:  # Lambda redelivers every batch, in order
        result = chain.trigger(batch)
        assert result.faults == []
    chain.trigger()
    assert len(chain.emitted("order-ready")) == 1


def test_a_payment_with_an_older_timestamp_that_comes_later_is_ready(chain, events):
    # the payment service's clock is behind: "newest correlated event" would be the
    # submission, and an expression emitting only from the newest trigger would never fire
    chain.hub(events.submitted("o1", timestamp=events.T0 + 5_000))
    chain.trigger()
    chain.hub(events.paid("o1", timestamp=events.T0))
    chain.trigger()
    [ready] = chain.emitted("order-ready")
    assert ready["timestamp"] == events.T0 + 5_000


def test_a_second_payment_does_not_make_the_order_ready_again(chain, events):
    chain.hub(events.submitted("o1"), events.paid("o1"))
    chain.trigger()
    chain.hub(events.paid("o1", event_id="pay-again", timestamp=events.T0 + 90_000))
    chain.trigger()
    assert len(chain.emitted("order-ready")) == 1


# -- order-payment-timeout -------------------------------------------------------------------


def test_an_unpaid_submission_times_out_once_and_a_late_payment_changes_nothing(
    chain, events_table, events
):
    chain.hub(events.submitted("o1"))
    chain.trigger()
    batch = chain.ttl_remove("sub-o1")
    [timeout] = chain.emitted()
    assert timeout["type"] == "order-payment-timeout" and timeout["partition_key"] == "o1"
    assert timeout["order"] == events.submitted("o1")["order"]
    assert timeout["timestamp"] == (events.T0 // 1000 + 900) * 1000
    assert timeout["triggers"] == [{"id": "sub-o1", "type": "order-submitted",
                                    "timestamp": events.T0}]
    assert timeout["id"] == batch["Records"][0]["eventID"]
    # control emitted it, not rest-bff: rest-bff's listener must not take it for its own
    assert timeout["tags"]["source"] == "control"
    assert timeout["tags"]["pipeline"] == "order-payment-timeout"
    assert decision(events_table, "o1")["outcome"] == "order-payment-timeout"

    chain.hub(events.paid("o1"))  # too late: the order is decided
    chain.trigger()
    assert [e["type"] for e in chain.emitted()] == ["order-payment-timeout"]


def test_a_paid_submission_does_not_time_out(chain, events):
    chain.hub(events.submitted("o1"), events.paid("o1"))
    chain.trigger()
    chain.ttl_remove("sub-o1")
    assert [e["type"] for e in chain.emitted()] == ["order-ready"]


def test_a_payment_collected_but_not_yet_evaluated_wins_over_the_timeout(
    chain, events_table, events
):
    chain.hub(events.submitted("o1"))
    chain.trigger()
    chain.hub(events.paid("o1"))  # collected; the trigger has not run on it yet
    events_table.delete_item(Key={"pk": "sub-o1", "sk": "EVENT"})  # TTL, in the same batch
    batch = events_table.stream.event()
    for record in batch["Records"]:
        if record["eventName"] == "REMOVE":
            record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert chain.trigger(batch).faults == []
    chain.trigger()
    assert [e["type"] for e in chain.emitted()] == ["order-ready"]


def test_a_redelivered_ttl_removal_publishes_the_timeout_once(chain, events_table, events):
    # Lambda redelivers the batch (say the invocation failed after the publish): expired's
    # emitted-marker in the events table keeps it from publishing the timeout again
    chain.hub(events.submitted("o1"))
    chain.trigger()
    batch = chain.ttl_remove("sub-o1")
    chain.trigger(batch)
    [timeout] = chain.emitted("order-payment-timeout")
    marker = events_table.get_item(Key={"pk": timeout["id"], "sk": "EMITTED"})
    assert marker["Item"]["discriminator"] == "EMITTED"


def test_a_users_delete_before_the_deadline_is_no_timeout(chain, events_table, events):
    chain.hub(events.submitted("o1", timestamp=4_102_444_800_000))  # deadline in 2100
    chain.trigger()
    events_table.delete_item(Key={"pk": "sub-o1", "sk": "EVENT"})
    chain.trigger()
    assert chain.emitted() == [] and decision(events_table, "o1") is None


# -- the Lambda handlers ---------------------------------------------------------------------


def test_the_handlers_end_to_end_on_the_bus(events_table, event_bus, events, cold_start):
    listener, trigger = cold_start("control.listener"), cold_start("control.trigger")

    listener.handler(to_kinesis_records([events.submitted("o1"), events.paid("o1"),
                                         events.submitted("o2")]), None)
    while (batch := events_table.stream.event())["Records"]:
        assert trigger.handler(batch, None) == {"batchItemFailures": []}
    [ready] = event_bus.events()
    assert (ready["type"], ready["partition_key"]) == ("order-ready", "o1")


def test_a_payment_may_name_its_order_as_payment_order_id(chain, events):
    payment = events.paid("o1")
    del payment["order"]
    payment["payment"]["order_id"] = "o1"
    chain.hub(events.submitted("o1"), payment)
    chain.trigger()
    [ready] = chain.emitted("order-ready")
    assert ready["partition_key"] == "o1" and ready["payment"]["order_id"] == "o1"
