"""listener: submissions and payments collected into the events table."""

import pytest

from control.rules import Settings, listener_rules
from stream_core.errors import ConfigurationError
from stream_core.events.kinesis import to_kinesis_records


def collected(table, event_id):
    return table.get_item(Key={"pk": event_id, "sk": "EVENT"}).get("Item")


def test_submissions_expire_at_their_payment_deadline(chain, events_table, events):
    result = chain.hub(events.submitted("o1"), events.paid("o1"))
    assert result.faults == []
    submission = collected(events_table, "sub-o1")
    assert submission["data"] == "o1" and submission["expire"] == "order-payment-timeout"
    assert submission["ttl"] == events.T0 // 1000 + 900
    assert str(submission["event"]["order"]["total"]) == "19.98"
    payment = collected(events_table, "pay-o1")
    assert payment["data"] == "o1" and "expire" not in payment
    assert payment["ttl"] == (events.T0 + 60_000) // 1000 + 33 * 86_400


def test_the_timeout_and_retention_come_from_the_environment(
    events_table, events, monkeypatch, cold_start
):
    monkeypatch.setenv("PAYMENT_TIMEOUT_SECONDS", "60")
    monkeypatch.setenv("EVENT_TTL_DAYS", "2")
    assert Settings.from_environment() == Settings(60, 2.0)
    listener = cold_start("control.listener")  # reads its settings when it is imported

    rules = listener_rules()
    assert rules[0]["ttl"]({"event": {"timestamp": 5_000}}) == 65
    assert rules[1]["ttl"] == 2.0
    assert listener.handler is not None


@pytest.mark.parametrize("value", ["0", "-5", "soon", "1.5"])
def test_a_bad_timeout_fails_the_cold_start(value):
    with pytest.raises(ConfigurationError, match="PAYMENT_TIMEOUT_SECONDS"):
        Settings.from_environment({"PAYMENT_TIMEOUT_SECONDS": value})


def test_redelivery_collects_nothing_twice(chain, events_table, events):
    chain.hub(events.submitted("o1"))
    events_table.stream.event()
    chain.hub(events.submitted("o1"))
    assert events_table.stream.event()["Records"] == []


def test_events_without_an_order_id_are_faults_and_own_events_are_skipped(
    chain, events_table, events
):
    bad = {**events.submitted("o1"), "id": "bad", "order": {"customer": "c-1"}}
    unknown = {**events.paid("o3"), "id": "unknown", "order": None, "payment": {"id": "p"}}
    own = {**events.paid("o2"), "tags": {"source": "control"}}
    result = chain.hub(bad, unknown, own)
    bad_fault, unknown_fault = result.faults
    assert bad_fault["err"]["details"][0]["loc"] == ["order", "id"]
    assert "order.id or payment.order_id" in unknown_fault["err"]["details"][0]["msg"]
    assert events_table.scan()["Items"] == []


def test_the_handler_collects_from_the_hub_stream(events_table, events, cold_start):
    listener = cold_start("control.listener")

    response = listener.handler(to_kinesis_records([events.submitted("o7")]), None)
    assert response == {"batchItemFailures": []}
    assert collected(events_table, "sub-o7")["data"] == "o7"
