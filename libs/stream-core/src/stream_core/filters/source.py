"""Loop prevention: leave out the events this service emitted itself.

Every event a stream-core function emits carries ``tags.source``, the name of the service
that emitted it (``SERVICE``, else ``SERVERLESS_PROJECT``; see ``stream_core.utils.tags``).
A listener that consumes the hub's stream also sees its own service's events; a rule that
reacts to them may emit again and loop. Put ``out_source_is_self`` in its ``filters``:

>>> rule = {"id": "materialize-thing", "flavor": materialize, "event_type": "thing-created",
...         "filters": [out_source_is_self], ...}                         # doctest: +SKIP

Two forms, both usable in ``filters: [...]`` (called as ``(uow, rule)``) and with
``rx_filter`` (called as ``(uow)``):

- ``out_source_is_self``: reads the service name from the environment at each call (one
  dict lookup), so a test that sets ``SERVICE`` later is honoured;
- ``out_source_is_self_for(service=None)``: a predicate bound to ``service`` (when omitted,
  the environment is read once, when the predicate is built).

An event is kept when it has no ``tags.source``, when its source differs from the service,
or when the service name is unknown (neither variable set): with no name nothing can be
recognised as "self", and dropping nothing is the safe answer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["out_source_is_self", "out_source_is_self_for", "service_name"]

UowFilter = Callable[..., bool]


def service_name(environ: Mapping[str, str] | None = None) -> str | None:
    """This service's name as stamped in ``tags.source`` (``SERVICE``, else
    ``SERVERLESS_PROJECT``), or ``None`` when neither is set."""
    env = os.environ if environ is None else environ
    return env.get("SERVICE") or env.get("SERVERLESS_PROJECT") or None


def _keep(uow: Mapping[str, Any], service: str | None) -> bool:
    if service is None:
        return True
    tags = (uow.get("event") or {}).get("tags")
    if not isinstance(tags, Mapping):
        return True
    return tags.get("source") != service


def out_source_is_self(uow: Mapping[str, Any], rule: Any = None) -> bool:
    """``False`` for an event whose ``tags.source`` is this service (read from the
    environment now), ``True`` otherwise.

    >>> # with SERVICE=orders in the environment
    >>> out_source_is_self({"event": {"type": "t", "tags": {"source": "orders"}}})  # doctest: +SKIP
    False
    """
    return _keep(uow, service_name())


def out_source_is_self_for(service: str | None = None) -> UowFilter:
    """A filter like ``out_source_is_self`` bound to ``service`` (default: the service name
    in the environment when this is called, e.g. when the rules module is imported).

    >>> keep = out_source_is_self_for("orders")
    >>> keep({"event": {"type": "t", "tags": {"source": "orders"}}})
    False
    """
    bound = service if service is not None else service_name()

    def out_source_is_self_bound(uow: Mapping[str, Any], rule: Any = None) -> bool:
        return _keep(uow, bound)

    return out_source_is_self_bound
