"""pytest fixtures for stream-core users: ``pytest_plugins = ["stream_core.testing.fixtures"]``.

* ``aws``: moto's in-process mock of every AWS service, with dummy credentials and region
  ``us-east-1``; no request leaves the process.
* ``event_bus``: a ``BusCapture`` on a fresh bus (``BUS_NAME`` is set to it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["aws", "event_bus"]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run the test against moto's in-process AWS."""
    from moto import mock_aws

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    # botocore sends DynamoDB Streams calls to account-based hosts
    # (<account>.streams-ddb.<region>...) that moto's in-process mock does not route
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    with mock_aws():
        yield


@pytest.fixture
def event_bus(aws: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fresh EventBridge bus whose events can be read back; ``BUS_NAME`` points at it."""
    from .bus import BusCapture

    capture = BusCapture.create("test-bus")
    monkeypatch.setenv("BUS_NAME", capture.bus_name)
    return capture
