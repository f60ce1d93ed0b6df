"""What every poller shares: the invoke callback, a stoppable thread, on-failure
destinations and the partial batch response."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from ..cloud import Cloud
from ..worker import Invocation

__all__ = ["Invoke", "PollerThread", "failed_identifiers", "send_to_destination"]

logger = logging.getLogger("stream_local.pollers")


class Invoke(Protocol):
    """The runtime's synchronous invoke: runs ``function`` on ``event`` and logs it."""

    def __call__(
        self, function: str, event: Any, *, source: str, records: int = 0
    ) -> Invocation: ...


class PollerThread:
    """A daemon thread running ``self.run()`` until ``stop()``; ``run`` checks
    ``self.stopping`` (an ``Event``, so sleeps can be ``self.stopping.wait(s)``) and sets
    ``self.ready`` once it reads its source (a LATEST iterator is taken by then)."""

    name = "poller"

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.ready = threading.Event()
        self.failures = 0
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        try:
            self.run()
        except Exception as err:  # a poller must never die silently
            self.error = err
            if not self.stopping.is_set():
                logger.exception("%s stopped on an error", self.name)
        finally:
            self.ready.set()

    def run(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def attempt(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``call(...)``, or None after waiting a second when moto fails to answer (a read is
        retried by the caller's loop; the poller must outlive a hiccup)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            result = call(*args, **kwargs)
        except (BotoCoreError, ClientError, OSError) as err:
            self.failures += 1
            if self.failures == 1:
                logger.warning("%s: %s (retrying every second)", self.name, err)
            self.stopping.wait(1.0)
            return None
        self.failures = 0
        return result

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def failed_identifiers(result: Invocation, enabled: bool) -> list[str | None] | None:
    """The ``itemIdentifier``s of a partial batch response.

    None when the response reports no failure (or ``ReportBatchItemFailures`` is off: the
    response is then ignored, like Lambda does). A malformed response counts as the whole
    batch failing, as on Lambda: ``[None]``.
    """
    if not enabled or not result.ok:
        return None
    response = result.response
    if not isinstance(response, Mapping) or "batchItemFailures" not in response:
        return None
    failures = response["batchItemFailures"]
    if failures is None:
        return None
    if not isinstance(failures, Sequence) or isinstance(failures, str):
        return [None]
    if not failures:
        return None
    ids: list[str | None] = []
    for failure in failures:
        item = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        ids.append(item if isinstance(item, str) and item else None)
    return ids


def send_to_destination(
    cloud: Cloud, arn: str, payload: Mapping[str, Any], log: Callable[[str], None]
) -> None:
    """Deliver an on-failure record to an SQS queue or SNS topic (by ARN)."""
    body = json.dumps(payload, default=str)
    service = arn.split(":")[2] if arn.count(":") >= 5 else ""
    try:
        if service == "sqs":
            sqs = cloud.client("sqs")
            url = sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=body)
        elif service == "sns":
            cloud.client("sns").publish(TopicArn=arn, Message=body)
        else:
            log(f"on-failure destination {arn}: only SQS and SNS are supported locally")
    except Exception as err:  # a broken destination must not stop the shard
        log(f"on-failure destination {arn} failed: {err}")
