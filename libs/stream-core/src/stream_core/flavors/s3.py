"""s3: write (or delete) objects derived from events in an S3 bucket.

Rule fields (``to_s3`` or ``to_delete_request``, exactly one):

=====================  =============================================================
``bucket_name``        the bucket (default ``BUCKET_NAME`` from the environment)
``to_s3``              ``(uow[, rule]) -> {"Key": str, "Body": bytes | str, ...}``: a
                       PutObject request without ``Bucket`` (``ContentType``,
                       ``Metadata`` ... as PutObject takes them)
``to_delete_request``  ``(uow[, rule]) -> {"Key": str, ...}``: a DeleteObject request
                       without ``Bucket`` (``VersionId`` ...)
``split_on``           dot path of a list in the UOW: one object per element, the element
                       in ``split_target_field`` (default ``"split"``)
``connector``          a ready ``S3Connector`` (tests)
=====================  =============================================================

A request of ``None``/``{}`` skips the UOW.

>>> {"id": "write-order-snapshot", "flavor": s3, "event_type": "order-ready",
...  "bucket_name": "my-snapshot-bucket",
...  "to_s3": lambda uow: {
...      "Key": "orders/{}.json".format(uow["event"]["order"]["id"]),
...      "Body": json.dumps(uow["event"]["order"]).encode("utf-8"),
...      "ContentType": "application/json"}}                               # doctest: +SKIP

The request lands in ``uow["s3_request"]`` and the response in ``uow["s3_response"]``
(PutObject's ``ETag``, ``VersionId`` ... without metadata; ``None`` for a delete). S3 has
no batch put: the requests of a batch run concurrently, at most ``max_in_flight`` (default
16) at a time. A rejected request or an exception in ``to_s3`` faults that UOW only; a
transient error (``SlowDown``, 5xx) that outlives the connector's retries hands the record
back to Lambda. Puts and deletes are idempotent, so redelivery is safe.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..connectors.s3 import S3Connector
from ..errors import RecordError
from ..utils.operators import rx_filter, rx_map
from ._sink import all_of, connector_for, exactly_one, needs_target
from ._spec import flavor
from ._steps import (
    Operator,
    by_content,
    by_event_type,
    call_rule_fn,
    io_step,
    pipe,
    split,
    trace_end,
    trace_start,
)

__all__ = ["s3"]


@flavor(
    "s3",
    optional={
        "bucket_name": str,
        "to_s3": callable,
        "to_delete_request": callable,
        "split_on": str,
        "split_target_field": str,
        "connector": None,
    },
    check=all_of(
        exactly_one("to_s3", "to_delete_request"), needs_target("bucket_name", "BUCKET_NAME")
    ),
)
def s3(rule: Mapping[str, Any]) -> Operator:
    """Build the s3 operator for ``rule``."""
    return pipe(
        by_event_type(rule),
        trace_start(rule),
        by_content(rule),
        split(rule),
        rx_map(_to_request(rule)),
        rx_filter(lambda uow: bool(uow["s3_request"])),
        io_step(rule, _write(rule)),
        trace_end(rule),
    )


def _to_request(rule: Mapping[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Step: ``uow["s3_request"]`` from ``to_s3`` / ``to_delete_request``, checked."""
    deleting = rule.get("to_s3") is None
    name = "to_delete_request" if deleting else "to_s3"
    request_of = call_rule_fn(rule[name])
    rule_id = rule.get("id")

    def step(uow: dict[str, Any]) -> dict[str, Any]:
        request = request_of(uow, rule)
        problem = _problem(request, deleting) if request else None
        if problem:
            raise RecordError(f"rule {rule_id!r}: {name} {problem}")
        uow["s3_request"] = request
        return uow

    return step


def _write(rule: Mapping[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Step: the PutObject (or DeleteObject) of ``uow["s3_request"]``."""
    bucket = connector_for(rule, "bucket_name", "BUCKET_NAME", S3Connector)
    deleting = rule.get("to_s3") is None

    def step(uow: dict[str, Any]) -> dict[str, Any]:
        request = dict(uow["s3_request"])
        key = request.pop("Key")
        if deleting:
            bucket.delete_object(key, **request)
            uow["s3_response"] = None
        else:
            uow["s3_response"] = bucket.put_object(key, request.pop("Body"), **request)
        return uow

    return step


def _problem(request: Any, deleting: bool) -> str | None:
    if not isinstance(request, Mapping):
        return f"must return a request dict, got {type(request).__name__}"
    if not isinstance(request.get("Key"), str) or not request["Key"]:
        return "must return a request with a non-empty string 'Key'"
    if "Bucket" in request:
        return "must not set 'Bucket' (the rule's bucket_name is used)"
    if not deleting and "Body" not in request:
        return "must return a request with a 'Body'"
    return None
