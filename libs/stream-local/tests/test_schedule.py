"""Scheduled rules: expressions, and a rate rule firing into a Lambda target when the
runtime clock moves forward."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stream_local.runtime import Clock, wait_for
from stream_local.schedule import Schedule


def _at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M %a")


@pytest.mark.parametrize(
    ("expression", "now", "expected"),
    [
        ("cron(0 12 * * ? *)", "2026-11-25T10:30", "2026-11-25 12:00 Wed"),
        ("cron(0 12 * * ? *)", "2026-11-25T12:00", "2026-11-26 12:00 Thu"),
        ("cron(0/15 * * * ? *)", "2026-11-25T10:31", "2026-11-25 10:45 Wed"),
        ("cron(30 8 ? * MON-FRI *)", "2026-11-27T09:00", "2026-11-30 08:30 Mon"),
        ("cron(0 0 1 JAN,JUL ? *)", "2026-11-25T00:00", "2027-01-01 00:00 Fri"),
        ("cron(5 4 ? * 1 *)", "2026-11-25T00:00", "2026-11-29 04:05 Sun"),  # 1 = Sunday
    ],
)
def test_cron_next_firing(expression, now, expected):
    assert _iso(Schedule(expression).next_after(_at(now), 0)) == expected


def test_rate_fires_every_period_from_the_start():
    rate = Schedule("rate(5 minutes)")
    assert rate.next_after(1000, 1000) == 1300
    assert rate.next_after(1300, 1000) == 1600


@pytest.mark.parametrize(
    "expression", ["rate(5 fortnights)", "cron(0 12 * *)", "cron(0 12 L * ? *)"]
)
def test_unsupported_expressions_are_errors(expression):
    with pytest.raises(ValueError):
        Schedule(expression)


@pytest.mark.integration
def test_a_rate_rule_fires_into_its_target_when_the_clock_moves(
    cloud, journal, journal_function, registry_of, run
):
    function = journal_function("fn-scheduled", journal)
    rule = {
        "logical_id": "Every10Minutes",
        "arn": "arn:aws:events:us-east-1:123456789012:rule/every-10",
        "bus": "default",
        "schedule": "rate(10 minutes)",
        "state": "ENABLED",
        "targets": [{"Id": "fn", "Arn": function["arn"]}],
    }
    clock = Clock()
    runtime = run(cloud, registry_of("schedule", [function], rules=[rule]), clock=clock)
    assert runtime.wait_ready()
    assert journal.entries() == []
    clock.advance(600)
    assert wait_for(lambda: journal.entries(), timeout=10)
    (entry,) = journal.entries()
    (event,) = entry["payloads"]
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["resources"] == [rule["arn"]]
