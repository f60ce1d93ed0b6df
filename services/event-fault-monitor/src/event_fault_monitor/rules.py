"""The listener's rules: every ``fault`` event is saved (S3 + index, once per fault key)."""

from __future__ import annotations

from functools import cache
from typing import Any

from stream_core.flavors.task import task

from .store import FaultStore

__all__ = ["rules", "save_fault", "store"]


@cache
def store() -> FaultStore:
    """The store of this function (from its environment), created on first use."""
    return FaultStore.from_env()


def save_fault(uow: dict[str, Any], rule: Any) -> dict[str, Any]:
    saved = store().save(uow["event"])
    return {"outcome": saved.outcome, "key": saved.key, "s3_key": saved.s3_key}


rules = [
    {
        "id": "save-fault",
        "flavor": task,
        "event_type": "fault",
        "execute": save_fault,
        "result_key": "saved",
    },
]
