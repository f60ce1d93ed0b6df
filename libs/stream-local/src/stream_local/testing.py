"""pytest fixtures for integration tests against the whole local system.

In a ``conftest.py``::

    pytest_plugins = ["stream_local.testing"]

    def test_order_flow(local_system):
        local_system.send({"type": "order-submitted", "id": "o-1"})
        assert local_system.wait_for(lambda: ...)

``local_system`` is one ``LocalSystem`` per test session: its own ``moto_server``, every
service of ``local_services`` packaged (cached in pytest's cache folder, so serverless runs
again only for a changed service) and deployed, the runtime with the REST API and Lambda's
Invoke API (``local_system.runtime.lambda_api.url``, for ``AWS_ENDPOINT_URL_LAMBDA``) on
free ports and a quiet log (``local_system.log.lines`` keeps what it would have printed).
Tests share it: use unique ids. Override ``local_services`` to choose the services (default:
``services/*`` of the repository that holds the pytest root), and ``local_chaos`` to run the
session's system with chaos (``stream_local.chaos.Chaos``; default ``None``: off)::

    @pytest.fixture(scope="session")
    def local_chaos():
        return Chaos(handler_error_rate=0.05, throttle_rate=0.05, duplicate_rate=0.05, seed=1)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .chaos import Chaos
from .cli import find_root
from .local import LocalSystem, find_services
from .log import DeliveryLog
from .runtime import RuntimeOptions

__all__ = ["local_chaos", "local_services", "local_system"]


@pytest.fixture(scope="session")
def local_services(request: pytest.FixtureRequest) -> list[Path]:
    """The service folders to deploy (override this fixture to choose)."""
    return find_services(find_root(Path(str(request.config.rootpath))))


@pytest.fixture(scope="session")
def local_chaos() -> Chaos | None:
    """The chaos of ``local_system`` (override this fixture to turn it on): off."""
    return None


@pytest.fixture(scope="session")
def local_system(
    request: pytest.FixtureRequest, local_services: list[Path], local_chaos: Chaos | None
) -> Iterator[LocalSystem]:
    """moto + the deployed services + the runtime, for the whole session."""
    if not local_services:
        pytest.skip("no services to deploy")
    cache = Path(request.config.cache.mkdir("stream-local-packages"))
    system = LocalSystem(
        local_services,
        options=RuntimeOptions(
            rest_port=0, lambda_port=0, ttl_interval=0.2, watch_faults=True, chaos=local_chaos
        ),
        log=DeliveryLog(stream=None),
        out_dirs={path.name: cache / path.name for path in local_services},
        say=lambda _: None,
    )
    with system:
        yield system
