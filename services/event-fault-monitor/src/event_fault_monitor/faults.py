"""``python -m event_fault_monitor.faults``: list, show and resubmit stored faults.

    faults list [--function F] [--pipeline P] [--since 2026-11-25T10:00Z | 6h] [--status open]
    faults show KEY
    faults resubmit KEY [KEY ...] [--function NAME] [--dry-run]
    faults resubmit --open [--failed-in F] [--pipeline P] [--since T] [--dry-run]

``resubmit`` re-delivers a fault's original record to the function that failed (or to
``--function``). The function is invoked with a trigger event of the record's own shape
(``{"Records": [record]}`` for Kinesis, SQS, DynamoDB Streams, SNS and S3; the envelope for
EventBridge). Every rule of the function sees the record again, so rules must be idempotent,
as they must be for Lambda's own retries. The fault is marked ``resubmitted`` only when the
function succeeded and handed nothing back (no ``batchItemFailures``). If the record fails
the same way again, the listener re-opens the fault.

``resubmit --open`` resubmits every open fault, or those of one function (``--failed-in``),
pipeline or time range, oldest first: after a fix, the records go back in the order they
failed, one at a time.

The table and the bucket come from ``--table``/``--bucket``, else ``FAULTS_TABLE_NAME``/
``FAULTS_BUCKET_NAME``, else the outputs of the stack ``event-fault-monitor-<--stage>``.
AWS credentials and region come from the usual places (``AWS_PROFILE``, ``--region``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from .keys import trigger_event
from .store import FaultStore

__all__ = ["main", "parse_time", "resubmit"]

STACK_SERVICE = "event-fault-monitor"


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    if args.region:
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = args.region
    store = _store(args)
    if args.command == "list":
        since = parse_time(args.since) if args.since else None
        items = store.list(
            function=args.function, pipeline=args.pipeline, since_ms=since, status=args.status
        )
        count = 0
        for item in items:
            count += 1
            if args.json:
                out.write(json.dumps(item, default=str) + "\n")
            else:
                out.write(_line(item) + "\n")
        if not args.json:
            out.write(f"{count} fault(s)\n")
        return 0
    if args.command == "show":
        item = store.get(args.key)
        if item is None:
            out.write(f"no fault {args.key}\n")
            return 1
        out.write(json.dumps({"index": item, "fault": store.fault(item)}, indent=2, default=str))
        out.write("\n")
        return 0
    return _resubmit_command(store, args, out)


def _resubmit_command(store: FaultStore, args: argparse.Namespace, out: TextIO) -> int:
    if bool(args.keys) == bool(args.open):
        out.write("resubmit: name fault KEYs or pass --open, not both\n")
        return 2
    keys = list(args.keys)
    if args.open:
        since = parse_time(args.since) if args.since else None
        items = store.list(
            function=args.failed_in, pipeline=args.pipeline, since_ms=since, status="open"
        )
        keys = [item["pk"] for item in items][::-1]  # oldest first: the order they failed in
    failed = 0
    for key in keys:
        ok, message = resubmit(store, key, function=args.function, dry_run=args.dry_run)
        out.write(message + "\n")
        failed += not ok
    if args.open:
        out.write(f"{len(keys) - failed} of {len(keys)} open fault(s) resubmitted\n")
    return 1 if failed else 0


def resubmit(
    store: FaultStore,
    key: str,
    *,
    function: str | None = None,
    dry_run: bool = False,
    functions: Any = None,
) -> tuple[bool, str]:
    """Re-deliver the record of fault ``key``; ``(succeeded, what happened)``.

    ``functions`` is a ``LambdaConnector`` (default: a new one).
    """
    item = store.get(key)
    if item is None:
        return False, f"{key}: no such fault"
    target = function or item.get("functionname")
    if not target or target == "undefined":
        return False, f"{key}: the fault names no function; pass --function"
    record = (store.fault(item).get("uow") or {}).get("record")
    try:
        event = trigger_event(record)
    except ValueError as err:
        return False, f"{key}: {err}"
    if dry_run:
        return True, f"{key}: would invoke {target} with {json.dumps(event, default=str)}"
    if functions is None:
        from stream_core.connectors import LambdaConnector

        functions = LambdaConnector()
    from stream_core.connectors import LambdaFunctionError

    try:
        result = functions.invoke(target, event)
    except LambdaFunctionError as err:
        return False, f"{key}: {target} failed again: {err}"
    failures = result.get("batchItemFailures") if isinstance(result, Mapping) else None
    if failures:
        return False, (
            f"{key}: {target} handed the record back (batchItemFailures: a retryable error); "
            "try again later"
        )
    store.mark_resubmitted(key, target)
    return True, f"{key}: resubmitted to {target}"


def parse_time(text: str, *, now: float | None = None) -> int:
    """Epoch ms of an ISO 8601 time (UTC unless it says otherwise) or of a duration ago
    (``30m``, ``6h``, ``2d``)."""
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if match:
        seconds = int(match[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]
        return int(((time.time() if now is None else now) - seconds) * 1000)
    moment = dt.datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def _line(item: Mapping[str, Any]) -> str:
    message = " ".join(str(item.get("err_message", "")).split())[:70]
    seen = f" x{item['occurrences']}" if int(item.get("occurrences", 1)) > 1 else ""
    return (
        f"{item.get('time', '?')}  {item['pk']}  {item.get('status', '?')}{seen}  "
        f"{item.get('functionname')}/{item.get('pipeline')}  "
        f"{item.get('event_type', '-')}  {item.get('err_name')}: {message}"
    )


def _store(args: argparse.Namespace) -> FaultStore:
    table = args.table or os.environ.get("FAULTS_TABLE_NAME")
    bucket = args.bucket or os.environ.get("FAULTS_BUCKET_NAME")
    if not (table and bucket):
        outputs = _stack_outputs(f"{STACK_SERVICE}-{args.stage}")
        table = table or outputs["FaultsTableName"]
        bucket = bucket or outputs["FaultsBucketName"]
    return FaultStore(table, bucket)


def _stack_outputs(stack: str) -> dict[str, str]:
    import boto3

    stacks = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", ())}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m event_fault_monitor.faults",
        description="List, show and resubmit the faults stored by event-fault-monitor.",
    )
    parser.add_argument(
        "--stage",
        default=os.environ.get("STAGE", "dev"),
        help="find the table and bucket in stack event-fault-monitor-STAGE",
    )
    parser.add_argument("--region", help="AWS region (default: your AWS configuration)")
    parser.add_argument("--table", help="the faults table (default: FAULTS_TABLE_NAME)")
    parser.add_argument("--bucket", help="the faults bucket (default: FAULTS_BUCKET_NAME)")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="faults, newest first")
    listing.add_argument("--function", help="only faults of this function (its full name)")
    listing.add_argument("--pipeline", help="only faults of this pipeline (rule id)")
    listing.add_argument("--since", help="ISO time, or a duration ago: 30m, 6h, 2d")
    listing.add_argument("--status", choices=["open", "resubmitted"])
    listing.add_argument("--json", action="store_true", help="one JSON item per line")

    show = commands.add_parser("show", help="a fault's index item and the whole fault event")
    show.add_argument("key")

    again = commands.add_parser("resubmit", help="re-deliver faults' records to their function")
    again.add_argument("keys", nargs="*", metavar="KEY")
    again.add_argument("--open", action="store_true", help="every open fault, oldest first")
    again.add_argument("--failed-in", metavar="F", help="with --open: faults of function F")
    again.add_argument("--pipeline", help="with --open: faults of this pipeline (rule id)")
    again.add_argument("--since", help="with --open: ISO time, or a duration ago: 30m, 6h")
    again.add_argument("--function", help="invoke this function instead of the one that failed")
    again.add_argument("--dry-run", action="store_true", help="print the event, invoke nothing")
    return parser


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
