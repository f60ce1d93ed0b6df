"""Large events: field compression and the claim check.

EventBridge takes 256 KB per entry and Kinesis 1 MB per record; domain events sometimes
carry more (a document, a big order). Two mechanisms, applied when publishing and undone by
every ``from_*`` source, so rules always see the full event:

* **Compression.** A top-level field whose JSON is larger than ``compress_threshold`` bytes
  (option; default 32 KB) is replaced by the base64 of its gzipped JSON, and the event lists
  the compressed fields under ``_compressed``. Standard fields (``id``, ``type``,
  ``timestamp``, ``partition_key``, ``tags``) are never compressed, so routing and filters
  on them keep working without decompression.
* **Claim check.** An event still too large for its destination is stored whole in S3
  (``claim_check_bucket`` option, else ``CLAIM_CHECK_BUCKET_NAME``) under
  ``claims/<yyyy>/<mm>/<dd>/<event id>.json``, and a stub is published instead:
  ``{id, type, timestamp, partition_key, tags, s3: {bucket, key}}``. Without a bucket the
  event fails to publish (a fault saying it is too large).

On the way in, a source finds stubs and compressed events with one dict lookup per record
(``s3`` / ``_compressed``), fetches the stored events concurrently, and decompresses. A stub
whose object cannot be read is handed back to Lambda (transient) or faulted (missing).
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import MalformedRecordError, RetryableError
from .json import dumps, size_of

__all__ = [
    "COMPRESSED",
    "DEFAULT_COMPRESS_THRESHOLD",
    "ClaimCheck",
    "claim_check_from",
    "compress_fields",
    "decompress_fields",
    "is_stub",
    "resolve_claims",
]

COMPRESSED = "_compressed"
DEFAULT_COMPRESS_THRESHOLD = 32 * 1024
_STANDARD = frozenset({"id", "type", "timestamp", "partition_key", "tags", "s3", COMPRESSED})


def compress_fields(
    event: Mapping[str, Any], threshold: int = DEFAULT_COMPRESS_THRESHOLD
) -> Mapping[str, Any]:
    """``event`` with its large non-standard fields gzipped (the same object if none is)."""
    compressed: dict[str, Any] = {}
    for name, value in event.items():
        if name in _STANDARD or isinstance(value, (int, float, bool)) or value is None:
            continue
        text = dumps(value)
        if size_of(text) > threshold:
            packed = gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)
            compressed[name] = base64.b64encode(packed).decode("ascii")
    if not compressed:
        return event
    return {**event, **compressed, COMPRESSED: sorted(compressed)}


def decompress_fields(event: dict[str, Any]) -> dict[str, Any]:
    """Undo ``compress_fields`` in place (a corrupt field raises ``MalformedRecordError``)."""
    names = event.pop(COMPRESSED, None)
    if not names:
        return event
    for name in names:
        try:
            event[name] = json.loads(gzip.decompress(base64.b64decode(event[name])))
        except (KeyError, TypeError, ValueError, OSError) as err:
            raise MalformedRecordError(f"compressed field {name!r} cannot be read: {err}") from err
    return event


def is_stub(event: Mapping[str, Any]) -> bool:
    """Whether ``event`` is a claim-check stub (``s3: {bucket: str, key: str}``)."""
    s3 = event.get("s3")
    return (
        isinstance(s3, Mapping)
        and isinstance(s3.get("bucket"), str)
        and isinstance(s3.get("key"), str)
    )


class ClaimCheck:
    """Stores events in, and reads them back from, one S3 bucket."""

    def __init__(self, bucket: str, *, connector: Any = None, prefix: str = "claims") -> None:
        from ..connectors.s3 import S3Connector

        self.bucket = bucket
        self.prefix = prefix
        self.connector = connector or S3Connector(bucket)

    def store(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Put ``event`` in S3 and return its stub."""
        day = dt.datetime.fromtimestamp(
            int(event.get("timestamp") or 0) / 1000, tz=dt.UTC
        ).strftime("%Y/%m/%d")
        key = f"{self.prefix}/{day}/{event['id']}.json"
        self.connector.put_object(key, dumps(event), ContentType="application/json")
        stub = {
            name: event[name]
            for name in ("id", "type", "timestamp", "partition_key", "tags")
            if name in event
        }
        stub["s3"] = {"bucket": self.bucket, "key": key}
        return stub


def claim_check_from(options: Mapping[str, Any]) -> ClaimCheck | None:
    """The claim check configured by ``options`` / the environment, if any."""
    claim_check = options.get("claim_check")
    if isinstance(claim_check, ClaimCheck):
        return claim_check
    bucket = options.get("claim_check_bucket") or os.environ.get("CLAIM_CHECK_BUCKET_NAME")
    return ClaimCheck(bucket) if bucket else None


def _fetch(stub: Mapping[str, Any], connectors: dict[str, Any]) -> dict[str, Any]:
    from ..connectors._retry import is_retryable
    from ..connectors.s3 import S3Connector

    bucket, key = stub["s3"]["bucket"], stub["s3"]["key"]
    connector = connectors.get(bucket)
    if connector is None:
        connector = connectors[bucket] = S3Connector(bucket)
    try:
        event = json.loads(connector.get_object(key))
    except RetryableError:
        raise
    except Exception as err:
        if is_retryable(err):
            raise RetryableError(f"claim check s3://{bucket}/{key}: {err}") from err
        raise MalformedRecordError(f"claim check s3://{bucket}/{key} unreadable: {err}") from err
    if not isinstance(event, dict):
        raise MalformedRecordError(f"claim check s3://{bucket}/{key} is not an event")
    return event


def resolve_claims(uows: Sequence[dict[str, Any]], max_in_flight: int = 16) -> None:
    """Replace stub events by the stored events and decompress fields, in place.

    A UOW whose stored event cannot be read gets ``event: None`` and its error under
    ``malformed`` (a ``RetryableError`` hands the record back to Lambda).
    """
    stubs: list[dict[str, Any]] = []
    for uow in uows:
        event = uow.get("event")
        if event is None:
            continue
        if "s3" in event and is_stub(event):
            stubs.append(uow)
        elif COMPRESSED in event:
            _decompress(uow)
    if not stubs:
        return
    from .concurrency import map_bounded

    connectors: dict[str, Any] = {}

    def fetch(uow: dict[str, Any]) -> dict[str, Any] | Exception:
        try:
            return _fetch(uow["event"], connectors)
        except Exception as err:
            return err

    for uow, outcome in zip(stubs, map_bounded(fetch, stubs, max_in_flight), strict=True):
        if isinstance(outcome, Exception):
            uow["event"], uow["malformed"] = None, outcome
            outcome.uow = uow  # type: ignore[attr-defined]
        else:
            uow["event"] = outcome
            _decompress(uow)


def _decompress(uow: dict[str, Any]) -> None:
    try:
        decompress_fields(uow["event"])
    except MalformedRecordError as err:
        uow["event"], uow["malformed"] = None, err
        err.uow = uow
