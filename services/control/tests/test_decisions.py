"""The decision item: one claim wins; transient errors go back to Lambda."""

import pytest
from botocore.exceptions import ClientError

from control.decisions import Decisions
from stream_core.errors import ConfigurationError, RetryableError


class Failing:
    def __init__(self, code):
        self.code = code

    def put(self, item, **kwargs):
        raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, "PutItem")

    query = put


def test_one_claim_wins_and_the_same_trigger_wins_again(events_table):
    decisions = Decisions(events_table.name, clock=lambda: 1_700_000_000.5)
    assert decisions.claim("o1", "order-ready", "t1") is True
    assert decisions.claim("o1", "order-ready", "t1") is True  # a redelivery
    assert decisions.claim("o1", "order-ready", "t2") is False
    assert decisions.claim("o1", "order-payment-timeout", "t1") is False
    item = decisions.decision("o1")
    assert item["trigger"] == "t1" and item["timestamp"] == 1_700_000_000_500
    assert item["ttl"] == 1_700_000_000 + 33 * 86_400


@pytest.mark.parametrize("call", ["claim", "pays_for"])
def test_throttling_goes_back_to_lambda_and_other_errors_fault(call):
    def invoke(decisions):
        if call == "claim":
            return decisions.claim("o1", "order-ready", "t1")
        return decisions.pays_for("o1")

    with pytest.raises(RetryableError):
        invoke(Decisions("t", connector=Failing("ProvisionedThroughputExceededException")))
    with pytest.raises(ClientError):
        invoke(Decisions("t", connector=Failing("ValidationException")))


def test_the_table_name_is_required():
    with pytest.raises(ConfigurationError, match="EVENT_TABLE_NAME"):
        Decisions.from_environment({})


def test_without_a_name_the_table_is_read_when_first_needed(events_table, monkeypatch):
    decisions = Decisions()  # EVENT_TABLE_NAME is set by the fixture
    assert decisions.claim("o1", "order-ready", "t1") is True
    monkeypatch.delenv("EVENT_TABLE_NAME")
    with pytest.raises(ConfigurationError, match="EVENT_TABLE_NAME"):
        Decisions().claim("o1", "order-ready", "t1")
