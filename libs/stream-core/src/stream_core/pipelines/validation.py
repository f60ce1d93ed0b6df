"""Validation: a rule may declare a pydantic model (v2) for the events it processes.

>>> from pydantic import BaseModel
>>> class Thing(BaseModel):
...     id: str
...     name: str
>>> class ThingCreated(BaseModel):
...     id: str
...     type: str
...     thing: Thing
>>> rule = {"id": "process-thing", "flavor": task, "event_type": "thing-created",
...         "schema": ThingCreated, "execute": lambda uow, rule: uow["model"].thing.name}
...                                                                      # doctest: +SKIP

What happens, for every flavor (``StreamPipeline`` does it, the flavor is not involved):

- ``initialize_from`` checks that ``schema`` is a ``pydantic.BaseModel`` subclass and that the
  rule has an ``event_type`` (a schema on a rule that receives every event would fault every
  event of another shape), else ``RuleValidationError`` at the cold start;
- each UOW routed to the rule (its ``event_type`` matched) is validated with
  ``schema.model_validate(uow["event"])`` *before* the rule's operator, so before its
  content ``filters``: the schema must accept every event its ``event_type`` selects;
- a valid event goes on; the model instance is attached as ``uow["model"]`` (on the rule's
  own copy of the UOW: other rules do not see it) and ``uow["event"]`` stays the dict;
- an invalid event becomes a fault and the rule never sees it: the error is an
  ``EventValidationError`` whose ``errors`` (``[{"loc": [...], "msg": ..., "type": ...}]``,
  pydantic's errors without the input values, which may be sensitive) appear in the fault
  event as ``err.details``. Other rules are not affected.

pydantic is imported only when a rule declares a ``schema`` (it is an optional dependency:
``pip install 'stream-core[validation]'``); handlers without schemas never import it.
Unknown fields are handled as the model says (pydantic ignores them by default).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ..errors import ConfigurationError, EventValidationError, RuleValidationError

__all__ = ["MODEL_KEY", "SchemaValidator", "check_schema"]

#: Where a valid event's model instance is attached on the UOW.
MODEL_KEY = "model"

#: How many validation errors the fault's message lists (``details`` has them all).
_IN_MESSAGE = 3


def check_schema(rule_id: Any, schema: Any) -> None:
    """Raise ``RuleValidationError`` unless ``schema`` is a pydantic ``BaseModel`` subclass."""
    try:
        from pydantic import BaseModel
    except ImportError:  # pragma: no cover - pydantic is in the dev environment
        raise RuleValidationError(
            rule_id, "schema", "needs pydantic 2 (pip install 'stream-core[validation]')"
        ) from None
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        if isinstance(schema, type):
            shown = f"the class {schema.__name__}"
        elif isinstance(schema, BaseModel):
            shown = f"a {type(schema).__name__} instance (give the class)"
        else:
            shown = f"a {type(schema).__name__}"
        raise RuleValidationError(
            rule_id, "schema", f"must be a pydantic BaseModel subclass, not {shown}"
        )


class SchemaValidator:
    """Validates the events of one rule against its ``schema`` (built once per cold start)."""

    __slots__ = ("_validation_error", "rule_id", "schema")

    def __init__(self, rule_id: str, schema: Any) -> None:
        from pydantic import ValidationError

        self.rule_id = rule_id
        self.schema = schema
        self._validation_error = ValidationError

    def valid(
        self,
        uows: Iterable[dict[str, Any]],
        report: Callable[[Mapping[str, Any], BaseException], Any],
    ) -> Iterator[dict[str, Any]]:
        """The UOWs whose event is valid, each with ``uow["model"]``; ``report(uow, err)``
        is called for the others."""
        validate = self.schema.model_validate
        for uow in uows:
            try:
                model = validate(uow["event"])
            except self._validation_error as err:
                report(uow, self.error(uow, err))
                continue
            except ConfigurationError:
                raise
            except Exception as err:  # a model's own validator broke on this event
                report(uow, err)
                continue
            uow[MODEL_KEY] = model
            yield uow

    def error(self, uow: dict[str, Any], err: Any) -> EventValidationError:
        """The ``EventValidationError`` for pydantic's ``ValidationError`` ``err``."""
        errors = [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
            for e in err.errors(include_url=False, include_context=False, include_input=False)
        ]
        event = uow.get("event") or {}
        shown = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or '(event)'}: {e['msg']}"
            for e in errors[:_IN_MESSAGE]
        )
        more = f" (+{len(errors) - _IN_MESSAGE} more)" if len(errors) > _IN_MESSAGE else ""
        message = (
            f"rule {self.rule_id!r}: event {event.get('id')!r} of type {event.get('type')!r} "
            f"does not match {self.schema.__name__}: {shown}{more}"
        )
        return EventValidationError(message, errors, uow=uow)
