"""Lambda's event source mapping for stream shards (Kinesis and DynamoDB Streams).

One ``ShardPoller`` thread per shard reads records in order and invokes the function with
batches, honouring the mapping's properties as Lambda does:

* ``StartingPosition`` (+ ``StartingPositionTimestamp``), ``BatchSize``,
  ``MaximumBatchingWindowInSeconds``; ``FilterCriteria`` (filtered-out records are
  skipped and do not count toward the batch size);
* a function error retries the batch; ``BisectBatchOnFunctionError`` splits a failing
  batch in halves, in order, down to single records (splitting does not count as a retry);
* ``FunctionResponseTypes: [ReportBatchItemFailures]``: the shard resumes from the lowest
  reported sequence number (earlier records are checkpointed); a malformed response, an
  unknown identifier or the first record counts as the whole batch failing;
* ``MaximumRetryAttempts`` (-1: until the records expire) and ``MaximumRecordAgeInSeconds``
  (-1: never, measured with the runtime's clock): then the records are skipped and a batch
  description goes to the ``DestinationConfig.OnFailure`` destination (SQS or SNS).

The shard stays blocked while its batch is retried, exactly like Lambda: later records wait.
Records already read are kept in memory while retried (the iterator is never rewound).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..chaos import Chaos
from ..cloud import Cloud
from ..patterns import RecordFilter
from ..registry import EventSourceMapping
from ..worker import Invocation
from .base import Invoke, PollerThread, failed_identifiers, send_to_destination

__all__ = ["ShardPoller", "ShardSource", "StreamSettings"]

Clock = Callable[[], float]


@dataclass
class StreamSettings:
    """The properties of a stream mapping, with Lambda's defaults."""

    batch_size: int = 100
    window: float = 0.0
    starting_position: str = "LATEST"
    starting_timestamp: float | None = None
    report_failures: bool = False
    bisect: bool = False
    max_retries: int = -1
    max_age: float = -1
    destination: str | None = None
    filter: RecordFilter | None = None

    @classmethod
    def from_mapping(cls, mapping: EventSourceMapping) -> StreamSettings:
        timestamp = mapping.get("StartingPositionTimestamp")
        return cls(
            batch_size=int(mapping.get("BatchSize", 100)),
            window=float(mapping.get("MaximumBatchingWindowInSeconds", 0)),
            starting_position=str(mapping.get("StartingPosition", "LATEST")),
            starting_timestamp=None if timestamp is None else float(timestamp),
            report_failures="ReportBatchItemFailures"
            in (mapping.get("FunctionResponseTypes") or []),
            bisect=_flag(mapping.get("BisectBatchOnFunctionError", False)),
            max_retries=int(mapping.get("MaximumRetryAttempts", -1)),
            max_age=float(mapping.get("MaximumRecordAgeInSeconds", -1)),
            destination=((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
                "Destination"
            ),
            filter=RecordFilter.from_criteria(mapping.kind, mapping.get("FilterCriteria")),
        )


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


class ShardSource(ABC):
    """Reading one stream: shards, iterators, records in the Lambda event format."""

    kind: str = ""
    batch_info_key: str = ""

    def __init__(self, cloud: Cloud, arn: str) -> None:
        self.cloud = cloud
        self.arn = arn

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.arn.split('/')[1] if '/' in self.arn else self.arn}"

    @abstractmethod
    def shard_ids(self) -> list[str]: ...

    @abstractmethod
    def iterator(self, shard_id: str, position: str, timestamp: float | None) -> str | None: ...

    @abstractmethod
    def read(
        self, shard_id: str, iterator: str, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]: ...

    @abstractmethod
    def sequence(self, record: Mapping[str, Any]) -> str: ...

    @abstractmethod
    def arrival(self, record: Mapping[str, Any]) -> float: ...

    def event(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return {"Records": records}


@dataclass
class ShardStats:
    invocations: int = 0
    records: int = 0
    retries: int = 0
    discarded: int = 0
    filtered: int = 0
    batch_sizes: list[int] = field(default_factory=list)


class ShardPoller(PollerThread):
    """Polls one shard and invokes the mapping's function; see the module docstring."""

    def __init__(
        self,
        source: ShardSource,
        shard_id: str,
        mapping: EventSourceMapping,
        invoke: Invoke,
        *,
        say: Callable[[str], None],
        clock: Clock = time.time,
        function_arn: str = "",
        poll_interval: float = 0.05,
        idle_interval: float = 0.5,
        max_retry_delay: float = 2.0,
        chaos: Chaos | None = None,
    ) -> None:
        super().__init__()
        self.chaos = chaos
        self.source = source
        self.shard_id = shard_id
        self.mapping = mapping
        self.settings = StreamSettings.from_mapping(mapping)
        self.invoke = invoke
        self.say = say
        self.clock = clock
        self.function_arn = function_arn
        self.poll_interval = poll_interval
        self.idle_interval = idle_interval
        self.max_retry_delay = max_retry_delay
        self.checkpoint: str | None = None
        self.stats = ShardStats()
        self.name = f"{source.label}/{shard_id}->{mapping.function}"

    # ---- reading ------------------------------------------------------------------------

    def run(self) -> None:
        settings = self.settings
        iterator = self.source.iterator(
            self.shard_id, settings.starting_position, settings.starting_timestamp
        )
        self.ready.set()
        buffer: deque[dict[str, Any]] = deque()
        collecting_since: float | None = None
        idle = self.poll_interval
        while not self.stopping.is_set():
            if iterator is not None and len(buffer) < settings.batch_size:
                page = self.attempt(
                    self.source.read, self.shard_id, iterator, max(settings.batch_size, 100)
                )
                if page is None:
                    continue
                records, iterator = page
                if settings.filter is not None:
                    kept = [r for r in records if settings.filter.matches(r)]
                    self.stats.filtered += len(records) - len(kept)
                    if records and not kept and not buffer:  # all filtered out: move on
                        self.checkpoint = self.source.sequence(records[-1])
                    records = kept
                buffer.extend(records)
                idle = self.poll_interval if records else min(idle * 2, self.idle_interval)
            if not buffer:
                collecting_since = None
                self.stopping.wait(idle)
                continue
            now = time.monotonic()
            if collecting_since is None:
                collecting_since = now
            waited = now - collecting_since
            if len(buffer) < settings.batch_size and waited < settings.window:
                self.stopping.wait(min(self.poll_interval * 4, settings.window - waited))
                continue
            batch = [buffer.popleft() for _ in range(min(settings.batch_size, len(buffer)))]
            collecting_since = time.monotonic() if buffer else None
            self.process(batch)
            if self.chaos is not None:  # chaos: a tail of the batch delivered again
                again = self.chaos.redeliver(self.name, self.mapping.function, batch, tail=True)
                if again:
                    self.process(again)

    # ---- invoking -----------------------------------------------------------------------

    def process(self, batch: list[dict[str, Any]]) -> None:
        """Deliver ``batch`` until it succeeded, was split and delivered, or was given up."""
        pending: deque[tuple[list[dict[str, Any]], int]] = deque([(batch, 0)])
        while pending and not self.stopping.is_set():
            records, attempts = pending.popleft()
            records = self._drop_expired(records, attempts)
            if not records:
                continue
            result = self.invoke(
                self.mapping.function,
                self.source.event(records),
                source=f"{self.source.label}/{self.shard_id}",
                records=len(records),
            )
            self.stats.invocations += 1
            self.stats.records += len(records)
            self.stats.batch_sizes.append(len(records))
            failed = failed_identifiers(result, self.settings.report_failures)
            if result.ok and failed is None:
                self.checkpoint = self.source.sequence(records[-1])
                continue
            resume = self._resume_index(records, failed) if result.ok else 0
            if resume > 0:  # partial success: checkpoint before the first failed record
                self.checkpoint = self.source.sequence(records[resume - 1])
                records = records[resume:]
            elif self.settings.bisect and len(records) > 1:
                middle = len(records) // 2
                pending.appendleft((records[middle:], attempts))
                pending.appendleft((records[:middle], attempts))
                continue
            attempts += 1
            if 0 <= self.settings.max_retries < attempts:
                self._give_up(records, "RetryAttemptsExhausted", result, attempts)
                continue
            self.stats.retries += 1
            self.stopping.wait(min(0.05 * 2 ** (attempts - 1), self.max_retry_delay))
            pending.appendleft((records, attempts))

    def _resume_index(self, records: list[dict[str, Any]], failed: list[str | None] | None) -> int:
        if not failed or None in failed:
            return 0
        positions = {self.source.sequence(r): i for i, r in enumerate(records)}
        try:
            return min(positions[item] for item in failed if item is not None)
        except KeyError:  # an identifier that is not in the batch: the whole batch failed
            return 0

    def _drop_expired(self, records: list[dict[str, Any]], attempts: int) -> list[dict[str, Any]]:
        if self.settings.max_age < 0:
            return records
        oldest_allowed = self.clock() - self.settings.max_age
        expired = [r for r in records if self.source.arrival(r) < oldest_allowed]
        if not expired:
            return records
        self._give_up(expired, "RecordAgeExceeded", None, attempts)
        return [r for r in records if self.source.arrival(r) >= oldest_allowed]

    def _give_up(
        self,
        records: list[dict[str, Any]],
        condition: str,
        result: Invocation | None,
        attempts: int,
    ) -> None:
        self.stats.discarded += len(records)
        self.checkpoint = self.source.sequence(records[-1])
        where = self.settings.destination
        self.say(
            f"{self.name}: {len(records)} records skipped ({condition})"
            + (f", sent to {where}" if where else ", no on-failure destination")
        )
        if where:
            send_to_destination(
                self.source.cloud,
                where,
                self._failure(records, condition, result, attempts),
                self.say,
            )

    def _failure(
        self,
        records: list[dict[str, Any]],
        condition: str,
        result: Invocation | None,
        attempts: int,
    ) -> dict[str, Any]:
        """The on-failure record Lambda sends for a stream batch."""
        payload: dict[str, Any] = {
            "requestContext": {
                "requestId": result.request_id if result else "",
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "version": "1.0",
            "timestamp": _iso(time.time()),
            self.source.batch_info_key: {
                "shardId": self.shard_id,
                "startSequenceNumber": self.source.sequence(records[0]),
                "endSequenceNumber": self.source.sequence(records[-1]),
                "approximateArrivalOfFirstRecord": _iso(self.source.arrival(records[0])),
                "approximateArrivalOfLastRecord": _iso(self.source.arrival(records[-1])),
                "batchSize": len(records),
                "streamArn": self.source.arn,
            },
        }
        if result is not None:
            payload["responseContext"] = {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                **({"functionError": "Unhandled"} if not result.ok else {}),
            }
        return payload


def _iso(seconds: float) -> str:
    return (
        datetime.fromtimestamp(seconds, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
