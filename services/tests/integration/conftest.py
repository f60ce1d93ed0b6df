"""Shared fixtures of the integration suite: the five reference services deployed once per
session on one ``moto_server`` through stream-local.

- ``five_services``: ``five_services(log, **runtime_options)``, a new (not yet started)
  ``stream_local.LocalSystem`` of the five services on a moto server of its own, for a test
  that needs a system apart (the no-loss test).
- ``system``: a started ``stream_local.LocalSystem`` (session scope). The services are packaged
  by serverless into the template tests' cache (``.pytest_cache``, reused while a service
  folder is unchanged), deployed in dependency order, and run by the runtime: the REST API and
  Lambda's Invoke API on free ports, a fast TTL sweeper, Firehose buffers capped at 2 s, the
  live log kept in memory (``system.log.lines``, ``system.log.deliveries``).
- ``api``: rest-bff's REST API, ``api("POST", "/orders", body) -> (status, json)``.
- ``aws_env``: points this process's boto3 (and stream-core's connectors) at the system for
  one test, for the services' commands (``event_fault_monitor.faults``,
  ``event_lake_s3.replay``): ``AWS_ENDPOINT_URL`` at its moto server,
  ``AWS_ENDPOINT_URL_LAMBDA`` at the runtime's Invoke API (moto cannot run a function
  without Docker). ``boto3_at(local)`` does the same for another system.

Tests share one system. Use ids of your own and assert on your own entities only. The clock
(``system.clock``) is shared too and only moves forward: moving it expires every pending TTL
item of the system (control times out every unpaid order submitted before).
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

SERVICES_DIR = Path(__file__).resolve().parents[2]
SERVICES = ["event-hub", "event-lake-s3", "event-fault-monitor", "rest-bff", "control"]

# the services' packages (event_fault_monitor, event_lake_s3, ...) for their commands
for _src in sorted(SERVICES_DIR.glob("*/src")):
    if str(_src) not in sys.path:
        sys.path.append(str(_src))


@pytest.fixture(scope="session")
def five_services(packaged):
    """``five_services(log, **runtime_options)``: a ``LocalSystem`` of the five services,
    packaged by serverless (cached), with the REST API and Lambda's Invoke API on free ports
    and Firehose buffers capped at 2 s; start it with ``with``."""
    from stream_local.local import LocalSystem
    from stream_local.runtime import RuntimeOptions

    def make(log: Any, **options: Any) -> Any:
        packages = {name: packaged(name) for name in SERVICES}
        return LocalSystem(
            [SERVICES_DIR / name for name in SERVICES],
            options=RuntimeOptions(
                **{"rest_port": 0, "lambda_port": 0, "firehose_interval_cap": 2.0, **options}
            ),
            log=log,
            out_dirs={name: package.out_dir for name, package in packages.items()},
            say=lambda _: None,
        )

    return make


@pytest.fixture(scope="session")
def system(five_services):
    """moto + the five services + the runtime, for the whole session."""
    from stream_local.log import DeliveryLog

    with five_services(DeliveryLog(stream=None), ttl_interval=0.2, watch_faults=True) as local:
        yield local


class Api:
    """rest-bff's REST API as served by stream-local."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"content-type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as err:
            status, text = err.code, err.read()
        return status, json.loads(text) if text else None


@pytest.fixture(scope="session")
def api(system):
    return Api(system.runtime.rest.url)


@pytest.fixture
def boto3_at(monkeypatch):
    """``boto3_at(local)``: boto3 in this process talks to ``local`` (for this test only):
    Lambda to the runtime's Invoke API, everything else to moto."""

    def point(local: Any) -> None:
        monkeypatch.setenv("AWS_ENDPOINT_URL", local.cloud.endpoint)
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", local.runtime.lambda_api.url)
        for name, value in (
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", local.cloud.region),
            ("AWS_DEFAULT_REGION", local.cloud.region),
        ):
            monkeypatch.setenv(name, value)
        for name in (
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "BUS_NAME",
            "FAULTS_TABLE_NAME",
            "FAULTS_BUCKET_NAME",
            "LAKE_BUCKET_NAME",
        ):
            monkeypatch.delenv(name, raising=False)

    return point


@pytest.fixture
def aws_env(system, boto3_at):
    """boto3 in this process talks to the shared system, for this test."""
    boto3_at(system)
    return system.cloud.endpoint
