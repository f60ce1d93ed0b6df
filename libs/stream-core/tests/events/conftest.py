"""Shared checks for the event-source tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stream_core.errors import MalformedRecordError


def _check_malformed(uow: dict[str, Any], record: Any, reason: str | None = None) -> None:
    """``uow`` is the malformed UOW of ``record``: no event, a MalformedRecordError that
    carries the raw record (the very object of the trigger event) and names ``reason``."""
    assert uow["event"] is None
    assert uow["record"] is record
    err = uow["malformed"]
    assert isinstance(err, MalformedRecordError)
    assert err.uow is uow
    assert err.uow["record"] is record
    if reason is not None:
        assert reason in str(err), str(err)


@pytest.fixture
def assert_malformed() -> Callable[..., None]:
    return _check_malformed
