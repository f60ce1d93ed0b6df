"""Reading the lake: which objects hold a time range, and the events in them.

Firehose writes ``events/<yyyy>/<MM>/<dd>/<type>/<name>-<n>-<time>-<uuid>.gz``: gzipped,
one JSON event per line, dated by the time the event *arrived* at Firehose (UTC). An event
arrives after it happened: after Firehose's buffering (up to 15 minutes) and, if the bus had
to retry, up to a day later. So reading ``[start, end)`` lists the days from the day before
``start`` (clock skew) to ``slack_days`` after ``end`` and keeps the events whose own
``timestamp`` is in the range.

>>> [p for p in day_prefixes(1764028800000, 1764115200000, slack_days=0)]  # doctest: +SKIP
['events/2025/11/24/', 'events/2025/11/25/', 'events/2025/11/26/']
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PREFIX", "LakeReader", "ReadStats", "day_prefixes", "decode_object"]

PREFIX = "events/"
DAY = dt.timedelta(days=1)

log = logging.getLogger("event_lake_s3")


def day_prefixes(
    start_ms: int,
    end_ms: int,
    *,
    types: Sequence[str] = (),
    slack_days: int = 1,
    prefix: str = PREFIX,
) -> list[str]:
    """The prefixes that can hold events of ``[start_ms, end_ms)``: one per day (and per
    type, when ``types`` are given) from the day before ``start_ms`` to ``slack_days`` after
    the day of ``end_ms``."""
    first = _day(start_ms) - DAY
    last = _day(max(end_ms - 1, start_ms)) + slack_days * DAY
    prefixes = []
    day = first
    while day <= last:
        base = f"{prefix}{day:%Y/%m/%d}/"
        prefixes.extend([f"{base}{t}/" for t in types] if types else [base])
        day += DAY
    return prefixes


def decode_object(body: bytes) -> Iterator[dict[str, Any] | None]:
    """The events of one lake object (gzipped or not): one per non-empty line; a line that
    is not a JSON object yields None."""
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    for line in body.splitlines():
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            yield None
            continue
        yield event if isinstance(event, dict) else None


@dataclass
class ReadStats:
    objects: int = 0
    lines: int = 0
    unreadable: int = 0
    matched: int = 0
    duplicates: int = 0
    keys: list[str] = field(default_factory=list, repr=False)


@dataclass
class LakeReader:
    """Reads the events of ``[start_ms, end_ms)`` (optionally of ``types``) from the lake
    bucket through an ``S3Connector``."""

    objects: Any  # stream_core.connectors.S3Connector
    slack_days: int = 1
    stats: ReadStats = field(default_factory=ReadStats)

    def keys(self, start_ms: int, end_ms: int, types: Sequence[str] = ()) -> Iterator[str]:
        for prefix in day_prefixes(start_ms, end_ms, types=types, slack_days=self.slack_days):
            for listed in self.objects.list_objects(prefix):
                yield listed["Key"]

    def events(self, start_ms: int, end_ms: int, types: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The matching events, each once (by ``id``), ordered by timestamp."""
        wanted = set(types)
        seen: set[Any] = set()
        found: list[dict[str, Any]] = []
        for key in self.keys(start_ms, end_ms, types):
            self.stats.objects += 1
            self.stats.keys.append(key)
            for event in decode_object(self.objects.get_object(key)):
                self.stats.lines += 1
                if event is None:
                    self.stats.unreadable += 1
                    continue
                if not _in_range(event, start_ms, end_ms):
                    continue
                if wanted and event.get("type") not in wanted:
                    continue
                ident = event.get("id")
                if ident is not None and ident in seen:  # Firehose delivers at least once
                    self.stats.duplicates += 1
                    continue
                seen.add(ident)
                found.append(event)
        found.sort(key=lambda e: e["timestamp"])
        self.stats.matched = len(found)
        if self.stats.unreadable:
            log.warning("%d lake lines were not JSON events", self.stats.unreadable)
        return found


def _in_range(event: dict[str, Any], start_ms: int, end_ms: int) -> bool:
    timestamp = event.get("timestamp")
    return isinstance(timestamp, (int, float)) and start_ms <= timestamp < end_ms


def _day(ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).date()
