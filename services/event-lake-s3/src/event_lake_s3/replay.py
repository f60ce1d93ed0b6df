"""``python -m event_lake_s3.replay``: events from the lake, back onto the bus or into one
function.

    replay --from 2026-11-25T10:00Z --to 2026-11-25T12:00Z [--type order-submitted ...]
           [--bus NAME | --function NAME] [--dry-run]

The events of ``[--from, --to)`` (by their own ``timestamp``; ``--to`` defaults to now),
optionally only of some ``--type``\\ s, are read from the lake (see ``lake``), each once, in
timestamp order. Then either:

* **bus** (the default: the hub's bus of ``--stage``): ``PutEvents`` in batches of 10
  (stream-core's ``EventBridgePublisher``), with ``Source: event-lake-s3.replay``. Every
  rule of the bus sees them again, except the lake's own rule, so replays are not stored
  twice. Listeners must be idempotent, as they must be for Lambda's retries;
* **function** (``--function NAME``): the function is invoked synchronously with
  Kinesis-shaped batches (``{"Records": [...]}``, ``--batch-size`` records, under Lambda's
  6 MB payload limit), as if it read the hub's stream. Records it hands back
  (``batchItemFailures``) are sent again from the lowest one, up to ``--attempts`` times.
  Then the replay stops, so that order is kept, and reports what was not delivered.

The bucket comes from ``--bucket``, else ``LAKE_BUCKET_NAME``, else the outputs of the stack
``event-lake-s3-<stage>``. The bus comes from ``--bus``, else ``BUS_NAME``, else the export
``event-hub-<stage>-bus-name``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from .lake import LakeReader

__all__ = [
    "REPLAY_SOURCE",
    "Replayed",
    "main",
    "parse_time",
    "replay_to_bus",
    "replay_to_function",
]

REPLAY_SOURCE = "event-lake-s3.replay"
MAX_PAYLOAD_BYTES = 5_000_000  # Lambda's synchronous payload limit is 6 MB
_RECORD_OVERHEAD = 700  # the JSON of a Kinesis record around its base64 data


@dataclass
class Replayed:
    """What a replay delivered: ``sent`` events, and ``failed`` ``(event id, reason)``."""

    sent: int = 0
    failed: list[tuple[Any, str]] = field(default_factory=list)
    invocations: int = 0


def replay_to_bus(
    events: Sequence[dict[str, Any]],
    bus_name: str,
    *,
    publisher: Any = None,
    batch: int = 500,
) -> Replayed:
    """Put ``events`` on ``bus_name`` (``Source: event-lake-s3.replay``), as they are."""
    if publisher is None:
        from stream_core.utils.eventbridge import EventBridgePublisher

        # stored events are published as they were (large fields already compressed,
        # claim-check stubs kept)
        publisher = EventBridgePublisher(bus_name, source=REPLAY_SOURCE, compress_threshold=None)
    done = Replayed()
    for start in range(0, len(events), batch):
        chunk = events[start : start + batch]
        errors = publisher.publish(chunk)
        done.sent += len(chunk) - len(errors)
        done.failed.extend((chunk[i].get("id"), str(err)) for i, err in sorted(errors.items()))
    return done


def replay_to_function(
    events: Sequence[dict[str, Any]],
    function: str,
    *,
    functions: Any = None,
    batch_size: int = 100,
    attempts: int = 3,
    max_payload: int = MAX_PAYLOAD_BYTES,
    stream_arn: str = "arn:aws:kinesis:us-east-1:000000000000:stream/event-lake-s3-replay",
    sleep: Callable[[float], None] = time.sleep,
) -> Replayed:
    """Invoke ``function`` with Kinesis-shaped batches of ``events``, in order."""
    from stream_core.connectors import LambdaFunctionError
    from stream_core.events.kinesis import to_kinesis_records

    if functions is None:
        from stream_core.connectors import LambdaConnector

        functions = LambdaConnector()
    done = Replayed()
    region = stream_arn.split(":")[3]
    offset = 0  # events of the batches before this one
    for batch in _batches(events, batch_size, max_payload):
        pending = to_kinesis_records(batch, region=region, stream_arn=stream_arn)["Records"]
        reason = ""
        for attempt in range(attempts):
            if attempt:
                sleep(min(2.0**attempt, 30.0))
            done.invocations += 1
            try:
                result = functions.invoke(function, {"Records": pending})
            except LambdaFunctionError as err:
                reason = str(err)
                continue
            failures = result.get("batchItemFailures") if isinstance(result, dict) else None
            if not failures:
                done.sent += len(pending)
                pending = []
                break
            # Lambda's checkpoint semantics: everything before the lowest failure is done
            lowest = min(int(f["itemIdentifier"]) for f in failures)
            delivered = [r for r in pending if int(r["kinesis"]["sequenceNumber"]) < lowest]
            done.sent += len(delivered)
            pending = pending[len(delivered) :]
            reason = f"{function} handed back {len(pending)} record(s)"
        if pending:  # stop here: later events must not overtake these
            first = offset + len(batch) - len(pending)
            done.failed.extend((e.get("id"), reason) for e in events[first:])
            break
        offset += len(batch)
    return done


def _batches(
    events: Sequence[dict[str, Any]], size: int, max_payload: int
) -> Iterator[list[dict[str, Any]]]:
    from stream_core.utils.json import dumps

    batch: list[dict[str, Any]] = []
    payload = 0
    for event in events:
        record = len(dumps(event)) * 4 // 3 + _RECORD_OVERHEAD
        if batch and (len(batch) >= size or payload + record > max_payload):
            yield batch
            batch, payload = [], 0
        batch.append(event)
        payload += record
    if batch:
        yield batch


def parse_time(text: str, *, now: float | None = None) -> int:
    """Epoch ms of an ISO 8601 time (UTC unless it says otherwise), of a duration ago
    (``30m``, ``6h``, ``2d``), or of ``now``."""
    text = text.strip()
    current = time.time() if now is None else now
    if text == "now":
        return int(current * 1000)
    match = re.fullmatch(r"(\d+)([smhd])", text)
    if match:
        seconds = int(match[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]
        return int((current - seconds) * 1000)
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    if args.region:
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = args.region
    start, end = parse_time(args.start), parse_time(args.end)
    if end <= start:
        out.write("--to must be after --from\n")
        return 2
    from stream_core.connectors import S3Connector

    bucket = args.bucket or os.environ.get("LAKE_BUCKET_NAME") or _lake_bucket(args.stage)
    reader = LakeReader(S3Connector(bucket), slack_days=args.slack_days)
    events = reader.events(start, end, args.types or ())
    stats = reader.stats
    out.write(
        f"read {stats.objects} object(s) of s3://{bucket}: {stats.lines} line(s), "
        f"{stats.unreadable} unreadable, {stats.duplicates} duplicate(s); "
        f"{len(events)} event(s) from {_iso(start)} to {_iso(end)}\n"
    )
    if args.dry_run or not events:
        for event in events if args.dry_run else ():
            out.write(f"  {_iso(event['timestamp'])}  {event.get('type')}  {event.get('id')}\n")
        return 0
    if args.function:
        done = replay_to_function(
            events, args.function, batch_size=args.batch_size, attempts=args.attempts
        )
        out.write(
            f"invoked {args.function} {done.invocations} time(s): {done.sent} event(s) "
            f"delivered, {len(done.failed)} not\n"
        )
    else:
        bus = args.bus or os.environ.get("BUS_NAME") or _export(f"event-hub-{args.stage}-bus-name")
        done = replay_to_bus(events, bus)
        out.write(f"put {done.sent} event(s) on {bus}, {len(done.failed)} failed\n")
    for ident, reason in done.failed[:20]:
        out.write(f"  not replayed: {ident}: {reason}\n")
    return 1 if done.failed else 0


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat(timespec="milliseconds")


def _lake_bucket(stage: str) -> str:
    import boto3

    stack = boto3.client("cloudformation").describe_stacks(StackName=f"event-lake-s3-{stage}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Stacks"][0].get("Outputs", ())}
    return outputs["LakeBucketName"]


def _export(name: str) -> str:
    import boto3

    for page in boto3.client("cloudformation").get_paginator("list_exports").paginate():
        for export in page["Exports"]:
            if export["Name"] == name:
                return export["Value"]
    raise SystemExit(f"no CloudFormation export {name}: pass --bus")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m event_lake_s3.replay",
        description="Replay events from the lake onto the bus, or into one function.",
    )
    parser.add_argument(
        "--from",
        dest="start",
        required=True,
        help="ISO time (UTC unless it says otherwise) or a duration ago: 6h, 2d",
    )
    parser.add_argument("--to", dest="end", default="now", help="ISO time, duration ago, or now")
    parser.add_argument(
        "--type",
        dest="types",
        action="append",
        metavar="TYPE",
        help="only events of this type (repeat for more)",
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--bus", help="the bus to put the events on (default: the hub's)")
    target.add_argument("--function", help="invoke this function with Kinesis-shaped batches")
    parser.add_argument("--stage", default=os.environ.get("STAGE", "dev"))
    parser.add_argument("--region", help="AWS region (default: your AWS configuration)")
    parser.add_argument("--bucket", help="the lake bucket (default: LAKE_BUCKET_NAME / stack)")
    parser.add_argument(
        "--slack-days",
        type=int,
        default=1,
        help="days after --to to look for late arrivals (default 1)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=100,
        help="records per invocation with --function (default 100)",
    )
    parser.add_argument(
        "--attempts",
        type=int,
        default=3,
        help="invocations per batch with --function before giving up",
    )
    parser.add_argument("--dry-run", action="store_true", help="list the events, send nothing")
    return parser


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
