"""Integration-test events: leave out events tagged ``tags.skip``.

Events produced while recording or running integration tests against a shared
environment can carry ``"skip": True`` in their tags; downstream rules that must not act
on them put ``out_skip`` in their ``filters``. ``skip_tag()`` gives the tag to merge into
the tags of emitted events (``skip`` is true while pytest runs a test).

>>> out_skip({"event": {"type": "t", "tags": {"skip": True}}})
False
>>> out_skip({"event": {"type": "t", "tags": {"source": "orders"}}}, {})
True
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

__all__ = ["out_skip", "skip_tag"]


def out_skip(uow: Mapping[str, Any], rule: Any = None) -> bool:
    """``False`` for an event whose ``tags.skip`` is truthy. Usable in ``filters: [...]``
    and with ``rx_filter``."""
    tags = (uow.get("event") or {}).get("tags")
    return not (isinstance(tags, Mapping) and tags.get("skip"))


def skip_tag(environ: Mapping[str, str] | None = None) -> dict[str, bool]:
    """``{"skip": True}`` while pytest runs a test (``PYTEST_CURRENT_TEST`` is set), else
    ``{"skip": False}``; read from the environment when called."""
    env = os.environ if environ is None else environ
    return {"skip": bool(env.get("PYTEST_CURRENT_TEST"))}
