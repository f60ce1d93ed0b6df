"""What the sink flavors share: where they write, how a rule's ``to_*`` becomes entries, and
the batch-sink operator of ``sns``, ``sqs``, ``kinesis`` and ``firehose``.

``batch_sink(rule, field, write, label)`` collects the UOWs of a rule until the upstream
completes, sends the entries of all of them (``uow[field]``, a UOW may carry several) in
one ``write(entries) -> [FailedEntry]`` call (the connector batches them to the API's
limits and runs the requests concurrently), then settles each UOW:

* all its entries written -> the UOW is passed on;
* an entry failed for good (too large, rejected by the service) -> the UOW becomes a fault
  (``RecordError``); its other entries may have been written (at least once);
* an entry still failing transiently after the connector's retries -> ``PublishError``
  (a ``RetryableError``): the record goes back to Lambda in the partial batch response.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reactivex import Observable, abc

from ..connectors._batch import FailedEntry
from ..connectors._retry import is_retryable
from ..errors import ConfigurationError, PublishError, RecordError, RetryableError
from ..faults import current_collector
from ..utils.concurrency import DEFAULT_MAX_IN_FLIGHT
from ..utils.operators import rx_filter, rx_map
from ..utils.print import rule_logger
from ._steps import Operator, call_rule_fn, pipe

__all__ = [
    "RuleCheck",
    "all_of",
    "as_list",
    "batch_sink",
    "connector_for",
    "entries_step",
    "exactly_one",
    "needs_target",
]

RuleCheck = Callable[[Mapping[str, Any]], str | None]
Entry = Mapping[str, Any]


# --- rule checks (run by initialize_from) ---------------------------------------------------


def needs_target(field: str, env: str | None = None) -> RuleCheck:
    """Check: the rule names its destination in ``field`` (or gives a ``connector``), or
    the environment does in ``env``."""

    def check(rule: Mapping[str, Any]) -> str | None:
        if rule.get(field) or rule.get("connector") is not None:
            return None
        if env and os.environ.get(env):
            return None
        where = f" (or {env} in the environment)" if env else ""
        return f"needs {field!r}{where}"

    return check


def exactly_one(*fields: str) -> RuleCheck:
    """Check: the rule sets exactly one of ``fields``."""

    def check(rule: Mapping[str, Any]) -> str | None:
        if sum(1 for name in fields if rule.get(name)) == 1:
            return None
        return "needs exactly one of " + " and ".join(repr(name) for name in fields)

    return check


def all_of(*checks: RuleCheck) -> RuleCheck:
    """Check: every check passes (the first problem is reported)."""

    def check(rule: Mapping[str, Any]) -> str | None:
        return next((problem for c in checks if (problem := c(rule))), None)

    return check


def as_list(value: Any) -> list[Any]:
    """What a rule's ``to_*`` returned, as a list: ``None`` -> ``[]``, a list or tuple -> its
    items, anything else -> ``[value]``."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


# --- building the operator ------------------------------------------------------------------


def connector_for(
    rule: Mapping[str, Any], field: str, env: str | None, build: Callable[..., Any]
) -> Any:
    """``rule["connector"]``, else ``build(name, max_in_flight=...)`` for the destination
    named by ``rule[field]`` or, failing that, the environment variable ``env`` (read now,
    when the rule's operator is built)."""
    connector = rule.get("connector")
    if connector is not None:
        return connector
    name = rule.get(field) or (os.environ.get(env) if env else None)
    if not name:
        raise ConfigurationError(needs_target(field, env)(rule) or f"needs {field!r}")
    return build(name, max_in_flight=rule.get("max_in_flight") or DEFAULT_MAX_IN_FLIGHT)


def entries_step(
    rule: Mapping[str, Any],
    field: str,
    to_entries: Callable[..., Any],
    problem_of: Callable[[Any], str | None],
    name: str,
) -> Operator:
    """Step: ``uow[field] = [entries]`` from ``to_entries(uow[, rule])`` (an entry, a list
    of them, or ``None``/``[]``: the UOW is skipped). An entry for which ``problem_of``
    says something faults its UOW before any call, naming the rule and ``name``."""
    entries_of = call_rule_fn(to_entries)
    rule_id = rule.get("id")

    def step(uow: dict[str, Any]) -> dict[str, Any]:
        entries = as_list(entries_of(uow, rule))
        for entry in entries:
            problem = problem_of(entry)
            if problem:
                raise RecordError(f"rule {rule_id!r}: {name} {problem}")
        uow[field] = entries
        return uow

    return pipe(rx_map(step), rx_filter(lambda uow: bool(uow[field])))


def batch_sink(
    rule: Mapping[str, Any],
    field: str,
    write: Callable[[Sequence[Entry]], list[FailedEntry]],
    label: str,
) -> Operator:
    """The operator that writes ``uow[field]`` of every UOW in one ``write`` call at
    completion and settles each UOW (see the module doc). ``label`` names the API in
    errors (``"PublishBatch"``)."""
    log = rule_logger(rule)

    def operator(source: Observable[dict[str, Any]]) -> Observable[dict[str, Any]]:
        def subscribe(
            observer: abc.ObserverBase[dict[str, Any]], scheduler: Any = None
        ) -> abc.DisposableBase:
            pending: list[dict[str, Any]] = []

            def on_completed() -> None:
                entries: list[Entry] = []
                owners: list[int] = []
                for position, uow in enumerate(pending):
                    entries.extend(uow[field])
                    owners.extend([position] * len(uow[field]))
                try:
                    failures = write(entries) if entries else []
                except ConfigurationError as err:
                    observer.on_error(err)
                    return
                except Exception as err:  # the call as a whole: every UOW shares the error
                    error = _whole_call_error(label, err)
                    errors = dict.fromkeys(range(len(pending)), error)
                else:
                    errors = _errors_by_uow(label, failures, owners)
                if not _settle(observer, pending, errors):
                    return
                if errors and log.isEnabledFor(logging.WARNING):
                    log.warning(
                        "rule %s: %d of %d UOWs not written (%s)",
                        rule.get("id"),
                        len(errors),
                        len(pending),
                        label,
                    )
                observer.on_completed()

            return source.subscribe(
                pending.append, observer.on_error, on_completed, scheduler=scheduler
            )

        return Observable(subscribe)

    return operator


def _errors_by_uow(
    label: str, failures: Sequence[FailedEntry], owners: Sequence[int]
) -> dict[int, Exception]:
    """One error per UOW with failed entries: a ``RecordError`` if any failed for good,
    else a ``PublishError`` (retry the record)."""
    by_uow: dict[int, list[FailedEntry]] = {}
    for failure in failures:
        by_uow.setdefault(owners[failure.index], []).append(failure)
    errors: dict[int, Exception] = {}
    for position, failed in by_uow.items():
        final = [f for f in failed if not f.retryable]
        first = (final or failed)[0]
        message = (
            f"{label} failed for {len(failed)} entr{'y' if len(failed) == 1 else 'ies'}: "
            f"{first.code}: {first.message}"
        )
        errors[position] = RecordError(message) if final else PublishError(message)
    return errors


def _whole_call_error(label: str, err: Exception) -> Exception:
    message = f"{label} failed: {type(err).__name__}: {err}"
    if isinstance(err, RetryableError) or is_retryable(err):
        return PublishError(message)
    return RecordError(message)


def _settle(
    observer: abc.ObserverBase[dict[str, Any]],
    pending: Sequence[dict[str, Any]],
    errors: Mapping[int, Exception],
) -> bool:
    """Pass on the written UOWs and report the others; ``False`` if the stream ended."""
    collector = current_collector() if errors else None
    for position, uow in enumerate(pending):
        error = errors.get(position)
        if error is None:
            observer.on_next(uow)
        elif collector is None:  # outside StreamPipeline.assemble: never drop silently
            observer.on_error(error)
            return False
        else:
            collector.report(uow, error)
    return True
