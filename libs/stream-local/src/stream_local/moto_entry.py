"""The moto_server stream-local starts: moto's own server, with fixes applied in memory.

    python -m stream_local.moto_entry -H 127.0.0.1 -p PORT [--switch-interval SECONDS]

``MotoServer`` (``cloud.py``) starts this instead of ``python -m moto.server``. ``apply()``
patches moto's classes in this process only, never moto's files on disk, then moto's
``main`` serves as usual (one thread per request). What is patched, and why:

* **Kinesis** (``kinesis``): moto's ``Shard.put_record`` is "not safe for concurrency". Two
  concurrent PutRecord(s) to one shard read the same last sequence number, the second
  record overwrites the first, and both callers are told it was stored. Every Kinesis
  request is served under one lock, and so are ``Shard.put_record``/``get_records`` for
  moto's own writers.
* **DynamoDB and DynamoDB Streams** (``dynamodb``): a stream record's sequence number is
  ``len(records) + start`` computed before the append, ``UpdateItem`` reads, modifies and
  writes the item, and a condition is checked before the write, all without a lock:
  concurrent writes repeat sequence numbers, lose increments and write stream records out
  of order. Every DynamoDB and DynamoDB Streams request is served under one lock.
* **SQS** (``sqs``): ``DeleteMessage`` rebuilds the queue's message list and assigns it back,
  so a message sent meanwhile is lost, and two concurrent receives can take the same
  message. Adding, deleting, changing visibility and choosing the messages of a receive
  hold the queue's own lock; a long poll waits outside it.
* **EventBridge** (``events-patterns``): rules match with ``patterns.py`` (AWS's semantics,
  including arrays of objects), and a pattern EventBridge would reject is rejected by
  ``PutRule`` and ``CreateStack`` instead of matching every event.

The locks cost no throughput: moto runs under the GIL anyway. ``GET /_stream_local/moto``
answers ``{"patches": [...]}``, so ``Cloud.attach`` can tell this server from a plain
``moto_server``, which has none of these fixes. ``--switch-interval`` (seconds) makes the
interpreter switch threads more often: the race tests use it to make moto's races likely.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["PATCHES", "STATUS_PATH", "apply", "main", "status"]

STATUS_PATH = "/_stream_local/moto"
PATCHES = ("kinesis", "dynamodb", "sqs", "events-patterns")

_applied: list[str] = []
_apply_lock = threading.Lock()


def apply() -> list[str]:
    """Patch moto in this process (idempotent); returns the names of the patches."""
    with _apply_lock:
        if not _applied:
            _patch_kinesis()
            _patch_dynamodb()
            _patch_sqs()
            _patch_events()
            _applied.extend(PATCHES)
        return list(_applied)


def status() -> dict[str, Any]:
    import moto

    return {"server": "stream-local", "moto": moto.__version__, "patches": list(_applied)}


def _locked(lock: Any, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return function(*args, **kwargs)

    return locked


def _lock_all(lock: Any, owners: Iterable[tuple[type, str]]) -> None:
    for owner, name in owners:
        # getattr, not owner.__dict__: call_action is often inherited from BaseResponse.
        setattr(owner, name, _locked(lock, getattr(owner, name)))


def _patch_kinesis() -> None:
    from moto.kinesis.models import Shard
    from moto.kinesis.responses import KinesisResponse

    lock = threading.RLock()
    _lock_all(
        lock,
        [(KinesisResponse, "call_action"), (Shard, "put_record"), (Shard, "get_records")],
    )


def _patch_dynamodb() -> None:
    from moto.dynamodb.models.table import StreamShard
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    lock = threading.RLock()  # one for both: streams read what the table writes
    _lock_all(
        lock,
        [
            (DynamoHandler, "call_action"),
            (DynamoDBStreamsHandler, "call_action"),
            (StreamShard, "add"),
            (StreamShard, "get"),
        ],
    )


def _patch_sqs() -> None:
    # Each Queue has a threading.Condition (an RLock inside) that moto's add_message and
    # long polling already use; the fixes take the same lock, so nothing can deadlock on a
    # second one, and a long poll's wait releases it.
    from moto.sqs.models import Queue, SQSBackend

    add_message = Queue.add_message
    delete_message = Queue.delete_message
    change_visibility = SQSBackend.change_message_visibility
    receive_message = SQSBackend.receive_message

    def locked_add(self: Queue, message: Any) -> None:
        with self._messages_lock:  # FIFO de-duplication check and append, atomically
            add_message(self, message)

    def locked_delete(self: Queue, receipt_handle: str) -> None:
        with self._messages_lock:
            delete_message(self, receipt_handle)

    def locked_visibility(
        self: SQSBackend, queue_name: str, receipt_handle: str, visibility_timeout: int
    ) -> None:
        with self.get_queue(queue_name)._messages_lock:
            change_visibility(self, queue_name, receipt_handle, visibility_timeout)

    def receive(
        self: SQSBackend,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Any]:
        queue = self.get_queue(queue_name)
        deadline = time.monotonic() + (wait_seconds_timeout or 0)
        while True:
            with queue._messages_lock:  # moto's own selection, without its wait
                result = receive_message(
                    self, queue_name, count, 0, visibility_timeout, message_attribute_names
                )
            remaining = deadline - time.monotonic()
            if result or remaining <= 0:
                return result
            waited = time.monotonic()
            queue.wait_for_messages(min(remaining, 1.0))  # type: ignore[arg-type]
            if time.monotonic() - waited < 0.01:
                # Visible but not receivable (a FIFO group in flight): do not spin.
                time.sleep(min(0.05, max(remaining, 0.0)))

    functools.update_wrapper(locked_add, add_message)
    functools.update_wrapper(locked_delete, delete_message)
    functools.update_wrapper(locked_visibility, change_visibility)
    functools.update_wrapper(receive, receive_message)
    Queue.add_message = locked_add  # type: ignore[method-assign]
    Queue.delete_message = locked_delete  # type: ignore[method-assign]
    SQSBackend.change_message_visibility = locked_visibility  # type: ignore[method-assign]
    SQSBackend.receive_message = receive  # type: ignore[method-assign]


def _patch_events() -> None:
    from moto.events import models
    from moto.events.exceptions import InvalidEventPatternException

    from .patterns import Pattern, PatternError

    parse = models.EventPatternParser.parse
    moto_matches = models.EventPattern.matches_event

    def checked_parse(self: Any) -> dict[str, Any]:
        pattern = parse(self)
        if pattern:
            try:
                Pattern.load(pattern)
            except PatternError as err:
                raise InvalidEventPatternException(reason=str(err)) from None
        return pattern

    def matches_event(self: Any, event: Any) -> bool:
        matcher = self.__dict__.get("_stream_local_pattern")
        if matcher is None:
            try:
                matcher = Pattern.load(self._pattern) if self._pattern else True
            except PatternError:
                matcher = False  # not checked when it was stored: leave it to moto
            self.__dict__["_stream_local_pattern"] = matcher
        if matcher is True:
            return True
        if matcher is False:
            return bool(moto_matches(self, event))
        return matcher.matches(json.loads(json.dumps(event)))

    functools.update_wrapper(checked_parse, parse)
    functools.update_wrapper(matches_event, moto_matches)
    models.EventPatternParser.parse = checked_parse  # type: ignore[method-assign]
    models.EventPattern.matches_event = matches_event  # type: ignore[method-assign]


class _WithStatus:
    """moto's WSGI app, plus ``GET /_stream_local/moto``."""

    def __init__(self, app: Any) -> None:
        self.__dict__["app"] = app

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.app, name, value)  # moto's main sets ``debug``

    def __call__(self, environ: Mapping[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == STATUS_PATH:
            body = json.dumps(status()).encode()
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return self.app(environ, start_response)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--switch-interval", type=float, default=None)
    ours, rest = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if ours.switch_interval:
        sys.setswitchinterval(ours.switch_interval)
    apply()
    from .moto_speed import apply as speed_up  # moto's per-request overheads (moto_speed.py)

    speed_up()

    import moto.server

    make_app = moto.server.DomainDispatcherApplication

    def with_status(*args: Any, **kwargs: Any) -> _WithStatus:
        return _WithStatus(make_app(*args, **kwargs))

    # moto's main builds its WSGI app from this class and offers no hook to wrap it; a factory
    # in its place is what main needs, though not a class as moto's annotation says.
    moto.server.DomainDispatcherApplication = with_status  # type: ignore[assignment,misc]
    sys.argv = [sys.argv[0], *rest]  # moto's main falls back to sys.argv for an empty list
    moto.server.main(rest)


if __name__ == "__main__":
    main()
