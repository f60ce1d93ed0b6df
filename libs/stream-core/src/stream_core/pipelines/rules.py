"""Rules: checked once by ``initialize_from`` so a typo fails the cold start, not a record.

A rule is a dict::

    {"id": "process-thing", "flavor": task, "event_type": "thing-created",
     "filters": [...], ...flavor fields...}

Checked here: ``id`` (a non-empty string, unique), ``flavor`` (a callable, or the name of a
built-in flavor such as ``"task"``), ``event_type`` (string, list of strings, regex or
callable; required by most flavors), ``filters`` (a list of callables or dot-path dicts),
``schema`` (a pydantic model for the rule's events, see ``pipelines.validation``; it needs
an ``event_type``), and, for flavors that declare a spec, their required fields, the types
of their fields and near-miss typos of field names (``"excute"`` -> did you mean ``"execute"``?).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..errors import RuleValidationError
from ..filters.content import compile_filters
from ..filters.event_type import EventTypeMatcher, event_type_matcher
from ..flavors._spec import FlavorSpec, spec_of
from .validation import SchemaValidator, check_schema

__all__ = ["COMMON_FIELDS", "FLAVORS", "Pipeline", "initialize_from", "resolve_flavor"]

#: Fields every rule may carry (the options merged into a rule use these names too).
COMMON_FIELDS = frozenset(
    {
        "id",
        "flavor",
        "event_type",
        "filters",
        "description",
        "logger",
        "publish",
        "bus_name",
        "source",
        "max_in_flight",
        "schema",
        "claim_check_bucket",
        "compress_threshold",
    }
)

#: Built-in flavors by name, imported on first use.
FLAVORS: Mapping[str, str] = {
    name: f"stream_core.flavors.{name}:{name}"
    for name in (
        "task",
        "materialize",
        "update",
        "cdc",
        "collect",
        "correlate",
        "evaluate",
        "expired",
        "job",
        "s3",
        "sns",
        "sqs",
        "kinesis",
        "firehose",
        "eventbridge",
    )
} | {"lambda": "stream_core.flavors.lambda_:lambda_"}  # `lambda` is a keyword


class Pipeline:
    """A checked rule, ready to build its operator for an invocation's options."""

    __slots__ = ("flavor", "id", "matcher", "rule", "validator")

    def __init__(self, rule: Mapping[str, Any], flavor: Callable[..., Any]) -> None:
        self.rule = rule
        self.id: str = rule["id"]
        self.flavor = flavor
        event_type = rule.get("event_type")
        flavor_spec = spec_of(flavor)
        routed = flavor_spec is None or flavor_spec.routed
        #: how the pipeline routes UOWs to this rule; ``None``: every UOW
        self.matcher: EventTypeMatcher | None = (
            event_type_matcher(event_type, self.id) if event_type is not None and routed else None
        )
        schema = rule.get("schema")
        #: validates the rule's events before its operator (``StreamPipeline`` applies it)
        self.validator: SchemaValidator | None = (
            None if schema is None else SchemaValidator(self.id, schema)
        )

    def __call__(self, options: Mapping[str, Any]) -> Callable[[Any], Any]:
        """The operator of this rule, with ``options`` under the rule's own fields."""
        return self.flavor({**options, **self.rule, "flavor": self.flavor})

    def __repr__(self) -> str:
        return f"Pipeline({self.id!r})"


def resolve_flavor(value: Any, rule_id: Any = None) -> Callable[..., Any]:
    """The flavor function for ``value`` (a callable or a built-in flavor's name)."""
    if isinstance(value, str):
        target = FLAVORS.get(value)
        if target is None:
            known = ", ".join(sorted(FLAVORS))
            raise RuleValidationError(
                rule_id, "flavor", f"names an unknown flavor {value!r} (built-in: {known})"
            )
        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module), attribute)
    if callable(value):
        return value
    raise RuleValidationError(rule_id, "flavor", "must be a flavor function or a flavor name")


def initialize_from(rules: Iterable[Mapping[str, Any]]) -> dict[str, Pipeline]:
    """Check ``rules`` and return their pipelines by rule id, in rule order.

    Raises ``RuleValidationError`` (a ``ConfigurationError``) naming the rule and the field.
    """
    pipelines: dict[str, Pipeline] = {}
    for position, rule in enumerate(rules):
        if not isinstance(rule, Mapping):
            raise RuleValidationError(f"#{position}", "rule", "must be a dict")
        rule_id = rule.get("id")
        if not isinstance(rule_id, str) or not rule_id:
            raise RuleValidationError(f"#{position}", "id", "is required (a non-empty string)")
        if rule_id in pipelines:
            raise RuleValidationError(rule_id, "id", "is used by more than one rule")
        if "flavor" not in rule:
            raise RuleValidationError(rule_id, "flavor", "is required")
        flavor_fn = resolve_flavor(rule["flavor"], rule_id)
        _check_rule(rule, spec_of(flavor_fn))
        pipelines[rule_id] = Pipeline(rule, flavor_fn)
    return pipelines


def _check_rule(rule: Mapping[str, Any], spec: FlavorSpec | None) -> None:
    rule_id = rule["id"]
    if rule.get("event_type") is not None:
        event_type_matcher(rule["event_type"], rule_id)  # raises when unsupported
    elif spec is not None and spec.requires_event_type:
        raise RuleValidationError(rule_id, "event_type", f"is required by flavor {spec.name!r}")
    compile_filters(rule)  # raises when a filter is neither callable nor a dict
    if rule.get("schema") is not None:
        check_schema(rule_id, rule["schema"])  # imports pydantic only here
        if rule.get("event_type") is None:
            raise RuleValidationError(
                rule_id, "schema", "needs an 'event_type' (it validates the events it selects)"
            )
    if spec is None:
        return
    for name, check in spec.required.items():
        if rule.get(name) is None:
            raise RuleValidationError(rule_id, name, f"is required by flavor {spec.name!r}")
        _check_value(rule_id, name, rule[name], check)
    for name, check in spec.optional.items():
        if rule.get(name) is not None:
            _check_value(rule_id, name, rule[name], check)
    known = COMMON_FIELDS | spec.fields
    for name in rule:
        if name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
        if close:
            raise RuleValidationError(
                rule_id, name, f"is not a field of flavor {spec.name!r}; did you mean {close[0]!r}?"
            )
    if spec.check is not None:
        problem = spec.check(rule)
        if problem:
            raise RuleValidationError(rule_id, "rule", problem)


def _describe(check: Any) -> str:
    if check is callable:
        return "a callable"
    if isinstance(check, tuple):
        return " or ".join(_describe(c) for c in check)
    return f"a {getattr(check, '__name__', check)}"


def _matches(value: Any, check: Any) -> bool:
    if check is None:
        return True
    if check is callable:
        return callable(value)
    if isinstance(check, tuple):
        return any(_matches(value, c) for c in check)
    return isinstance(value, check)


def _check_value(rule_id: str, name: str, value: Any, check: Any) -> None:
    if not _matches(value, check):
        raise RuleValidationError(
            rule_id, name, f"must be {_describe(check)}, not {type(value).__name__}"
        )
