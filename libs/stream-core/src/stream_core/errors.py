"""The exception hierarchy: what kind of failure decides what happens to the record.

=====================  =============================================================
class                  what stream-core does with it
=====================  =============================================================
``ConfigurationError`` the rule set or the environment is wrong: the cold start (or the
                       invocation) fails loudly, no record is processed.
``RecordError``        one record cannot be processed: it becomes a fault event, the
                       rest of the batch goes on (``MalformedRecordError``: undecodable;
                       ``EventValidationError``: the event does not match its rule's
                       ``schema``, the fault carries the errors in ``err.details``).
``RetryableError``     a transient failure (throttling, 5xx, timeouts) that survived the
                       connector's own retries: the record is reported in the partial
                       batch response so Lambda delivers it again.
=====================  =============================================================

Any other exception raised inside a rule's function (``execute``, ``emit``, a filter...)
is treated as a ``RecordError``: it faults that record only.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigurationError",
    "EventValidationError",
    "MalformedRecordError",
    "PublishError",
    "RecordError",
    "RetryableError",
    "RuleValidationError",
    "StreamCoreError",
]


class StreamCoreError(Exception):
    """Base of every error raised by stream-core."""


class ConfigurationError(StreamCoreError):
    """The code or its environment is misconfigured; retrying a record cannot help."""


class RuleValidationError(ConfigurationError):
    """A rule is invalid. Raised by ``initialize_from`` so a typo fails the cold start.

    >>> str(RuleValidationError("collect-orders", "event_type", "is required"))
    "rule 'collect-orders': field 'event_type' is required"
    """

    def __init__(self, rule_id: Any, field: str, problem: str) -> None:
        self.rule_id = rule_id
        self.field = field
        self.problem = problem
        super().__init__(f"rule {rule_id!r}: field {field!r} {problem}")


class RecordError(StreamCoreError):
    """One record failed; it becomes a fault event and the batch goes on.

    ``uow`` is the unit of work the error belongs to, when known (``faulty`` sets it).
    ``details``, when not ``None``, is JSON-ready data the fault event carries as
    ``err.details`` (e.g. the validation errors of ``EventValidationError``).
    """

    details: Any = None

    def __init__(self, message: str, *, uow: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.uow = uow


class MalformedRecordError(RecordError):
    """A source record could not be decoded into an event (bad base64, JSON, shape)."""


class EventValidationError(RecordError):
    """An event does not match the ``schema`` (pydantic model) of the rule it was routed to.

    ``errors`` (also ``details``) is ``[{"loc": [...], "msg": "...", "type": "..."}, ...]``.
    """

    def __init__(
        self,
        message: str,
        errors: list[dict[str, Any]],
        *,
        uow: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, uow=uow)
        self.errors = errors
        self.details = errors


class RetryableError(StreamCoreError):
    """A transient failure that outlived the retries; Lambda should redeliver the record."""


class PublishError(RetryableError):
    """Events (or fault events) could not be delivered to their destination."""
