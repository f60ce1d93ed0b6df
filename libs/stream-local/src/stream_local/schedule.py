"""Scheduled rules (``ScheduleExpression``): moto never fires them, so the runtime does.

``rate(5 minutes)`` fires every period from when the runtime starts; ``cron(m h dom mon dow
year)`` fires at matching UTC minutes (``*``, ``?``, values, ranges, lists, ``/`` steps,
month and day names; ``L``, ``W`` and ``#`` are not supported). Time is the runtime's
clock, so ``Clock.advance`` (``stream-local clock +1h``) makes a schedule fire now; missed
firings are not caught up, as on AWS. Each firing delivers a ``Scheduled Event`` to the
rule's targets like any other event (``TapRouter.deliver_event``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from .eventbridge import TapRouter
from .pollers.base import PollerThread

__all__ = ["Schedule", "ScheduleRunner"]

_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}


class Schedule:
    """A parsed schedule expression; ``next_after(t)`` is the next firing (epoch seconds)."""

    def __init__(self, expression: str) -> None:
        self.expression = expression.strip()
        rate = re.fullmatch(r"rate\((\d+)\s+(\w+)\)", self.expression)
        cron = re.fullmatch(r"cron\((.+)\)", self.expression)
        if rate and rate.group(2) in _UNITS:
            self.period: float | None = int(rate.group(1)) * _UNITS[rate.group(2)]
            self.fields: list[set[int] | None] = []
        elif cron:
            parts = cron.group(1).split()
            if len(parts) != 6:
                raise ValueError(f"cron needs 6 fields: {expression!r}")
            self.period = None
            ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2199)]
            names: list[dict[str, int]] = [{}, {}, {}, _MONTHS, _DAYS, {}]
            self.fields = [
                _field(part, low, high, named)
                for part, (low, high), named in zip(parts, ranges, names, strict=True)
            ]
        else:
            raise ValueError(f"not a schedule expression: {expression!r}")

    def next_after(self, now: float, started: float) -> float:
        if self.period is not None:
            periods = int((now - started) // self.period) + 1
            return started + periods * self.period
        minute, hour, dom, month, dow, year = self.fields
        moment = datetime.fromtimestamp(now, UTC).replace(second=0, microsecond=0)
        moment += timedelta(minutes=1)
        for _ in range(366 * 3):  # day by day, then the first matching hour and minute
            day_ok = (
                _has(month, moment.month)
                and _has(year, moment.year)
                and _has(dom, moment.day)
                and _has(dow, moment.isoweekday() % 7 + 1)
            )
            if day_ok:
                for h in range(moment.hour, 24):
                    if not _has(hour, h):
                        continue
                    for m in range(moment.minute if h == moment.hour else 0, 60):
                        if _has(minute, m):
                            return moment.replace(hour=h, minute=m).timestamp()
            moment = (moment + timedelta(days=1)).replace(hour=0, minute=0)
        raise ValueError(f"{self.expression} never fires in the next three years")


def _has(allowed: set[int] | None, value: int) -> bool:
    return allowed is None or value in allowed


def _field(text: str, low: int, high: int, names: dict[str, int]) -> set[int] | None:
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.upper().split(","):
        if re.search(r"(^|\d)[LW]$|#", part):
            raise ValueError(f"cron field {text!r}: L, W and # are not supported locally")
        base, _, step = part.partition("/")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            a, b = base.split("-")
            start, end = names.get(a) or int(a), names.get(b) or int(b)
        else:
            start = names.get(base) or int(base)
            end = high if step else start
        values.update(range(start, end + 1, int(step) if step else 1))
    return values


class ScheduleRunner(PollerThread):
    """Fires one scheduled rule into its targets."""

    def __init__(
        self,
        rule: dict[str, Any],
        router: TapRouter,
        clock: Callable[[], float],
        *,
        region: str,
        account_id: str,
        check_every: float = 0.2,
    ) -> None:
        super().__init__()
        self.rule = rule
        self.schedule = Schedule(str(rule["schedule"]))
        self.router = router
        self.clock = clock
        self.region = region
        self.account_id = account_id
        self.check_every = check_every
        self.fired = 0
        self.name = f"schedule:{rule['logical_id']}"

    def run(self) -> None:
        started = self.clock()
        next_at = self.schedule.next_after(started, started)
        self.ready.set()
        while not self.stopping.wait(self.check_every):
            now = self.clock()
            if now < next_at:
                continue
            self.fired += 1
            self.router.deliver_event(
                {
                    "version": "0",
                    "id": str(uuid.uuid4()),
                    "detail-type": "Scheduled Event",
                    "source": "aws.events",
                    "account": self.account_id,
                    "time": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "region": self.region,
                    "resources": [self.rule.get("arn")],
                    "detail": {},
                }
            )
            next_at = self.schedule.next_after(now, started)
