"""How a flavor declares the rule fields it reads, so ``initialize_from`` can check rules.

>>> @flavor("task", optional={"execute": callable, "emit": (str, callable)})
... def task(rule): ...

A flavor without a spec (a user's custom flavor, a plain ``rule -> operator`` function)
still works; only the common fields of its rules are checked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = ["FieldCheck", "FlavorSpec", "flavor", "spec_of"]

#: A field check: a type, ``callable`` (the builtin, meaning "must be callable"), a tuple
#: of those (any may match), or ``None`` (any value).
FieldCheck = Any

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class FlavorSpec:
    """The rule fields a flavor requires and accepts, and an optional extra check."""

    name: str
    required: Mapping[str, FieldCheck] = field(default_factory=dict)
    optional: Mapping[str, FieldCheck] = field(default_factory=dict)
    requires_event_type: bool = True
    check: Callable[[Mapping[str, Any]], str | None] | None = None
    #: ``False`` for flavors whose ``event_type`` names an event they derive from the record
    #: (e.g. the domain event stored in an events-table item): the pipeline then delivers
    #: every UOW to them and they match the type themselves, after deriving it.
    routed: bool = True

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(self.required) | frozenset(self.optional)


def flavor(
    name: str,
    *,
    required: Mapping[str, FieldCheck] | None = None,
    optional: Mapping[str, FieldCheck] | None = None,
    requires_event_type: bool = True,
    check: Callable[[Mapping[str, Any]], str | None] | None = None,
    routed: bool = True,
) -> Callable[[F], F]:
    """Attach a ``FlavorSpec`` to a flavor function."""

    def decorate(function: F) -> F:
        function.__flavor_spec__ = FlavorSpec(  # type: ignore[attr-defined]
            name, dict(required or {}), dict(optional or {}), requires_event_type, check, routed
        )
        return function

    return decorate


def spec_of(flavor_fn: Any) -> FlavorSpec | None:
    """The spec of ``flavor_fn``, if it declares one."""
    return getattr(flavor_fn, "__flavor_spec__", None)
