"""The whole local system as one object: moto, the deployed services, the runtime.

>>> with LocalSystem(["services/event-hub", "services/rest-bff"]) as local:   # doctest: +SKIP
...     local.send({"type": "thing-created", "id": "t-1"})
...     local.wait_for(lambda: ...)

Used by ``stream-local up``/``demo`` and by integration tests and scenarios. ``start``
starts ``moto_server`` (or attaches to ``endpoint``), packages every service with serverless,
deploys them in dependency order, stores the registry on moto and starts the runtime.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .cloud import UNPATCHED_WARNING, Cloud, MotoServer
from .deploy import Deployment, deploy, order_services
from .log import DeliveryLog
from .package import Package, package_service
from .registry import STATE_BUCKET, Registry
from .runtime import Clock, Runtime, RuntimeOptions, wait_for

__all__ = ["LocalSystem", "find_services", "load_clock", "save_clock"]

CLOCK_KEY = "clock.json"


def find_services(root: Path) -> list[Path]:
    """``services/*/serverless.yml`` under ``root``, by name."""
    return sorted(p.parent for p in (root / "services").glob("*/serverless.yml"))


class LocalSystem:
    """moto + packaged and deployed services + runtime; see the module docstring."""

    def __init__(
        self,
        service_dirs: Iterable[str | Path],
        *,
        endpoint: str | None = None,
        stage: str = "local",
        options: RuntimeOptions | None = None,
        log: DeliveryLog | None = None,
        clock: Clock | None = None,
        reuse_packages: bool = True,
        out_dirs: Mapping[str, Path] | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        self.service_dirs = [Path(d).resolve() for d in service_dirs]
        self.endpoint = endpoint
        self.stage = stage
        self.options = options or RuntimeOptions()
        self.log = log or DeliveryLog()
        self.clock = clock or Clock()
        self.reuse_packages = reuse_packages
        self.out_dirs = dict(out_dirs or {})
        self.say = say
        self.server: MotoServer | None = None
        self.cloud: Cloud | None = None
        self.registry = Registry()
        self.runtime: Runtime | None = None
        self.deployments: list[Deployment] = []

    # ---- lifecycle ----------------------------------------------------------------------

    def start(self) -> LocalSystem:
        try:
            self.cloud = self._cloud()
            self.deploy_all()
            self.runtime = Runtime(
                self.cloud, self.registry, log=self.log, clock=self.clock, options=self.options
            ).start()
            self.runtime.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _cloud(self) -> Cloud:
        if self.endpoint:
            self.say(f"==> attaching to moto at {self.endpoint}")
            cloud = Cloud.attach(self.endpoint)
            if cloud.patches is None:
                self.log.notice(
                    "warning: " + UNPATCHED_WARNING.format(endpoint=cloud.endpoint), error=True
                )
            return cloud
        started = time.monotonic()
        self.server = MotoServer()
        cloud = self.server.start()
        self.say(
            f"==> moto_server on {cloud.endpoint} (pid {self.server.pid}, "
            f"{time.monotonic() - started:.1f} s; log {self.server.log_path})"
        )
        return cloud

    def package_all(self) -> list[Package]:
        packages = []
        for service_dir in self.service_dirs:
            self.say(f"==> packaging {service_dir.name} (serverless package --stage {self.stage})")
            package = package_service(
                service_dir,
                stage=self.stage,
                out_dir=self.out_dirs.get(service_dir.name),
                reuse=self.reuse_packages,
            )
            how = "unchanged, reused" if package.reused else f"{package.seconds:.1f} s"
            self.say(f"    {package.service}: stack {package.stack_name} ({how})")
            packages.append(package)
        return packages

    def deploy_all(self) -> list[Deployment]:
        assert self.cloud is not None
        packages = order_services(self.package_all())
        if len(packages) > 1:
            self.say("==> deploy order: " + " → ".join(p.service for p in packages))
        for package in packages:
            self.say(f"==> deploying {package.service}")
            deployment = deploy(self.cloud, package, log=lambda m: self.say(f"    {m}"))
            verb = "created" if deployment.created else "updated"
            self.say(f"    stack {deployment.stack_name} {verb} in {deployment.seconds:.1f} s")
            self.registry.add(deployment)
            self.registry.save(self.cloud, deployment)
            self.deployments.append(deployment)
        return self.deployments

    def stop(self) -> None:
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None
        if self.server is not None:
            self.server.stop()
            self.server = None

    def __enter__(self) -> LocalSystem:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- scenario helpers ---------------------------------------------------------------

    def bus(self, name: str | None = None) -> str:
        """The bus named ``name``, or the only bus, or the one of a service called
        ``event-hub``."""
        buses = self.registry.buses()
        if name:
            return name
        if len(buses) == 1:
            return buses[0]
        hub = [b for b in buses if "event-hub" in b]
        if len(hub) == 1:
            return hub[0]
        raise ValueError(f"which bus? deployed buses: {buses}")

    def send(self, event: Mapping[str, Any], *, bus: str | None = None, source: str = "") -> str:
        """Put a domain event on the bus (``detail-type`` = its ``type``)."""
        return send_event(self._client("events"), self.bus(bus), event, source=source)

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
        return wait_for(predicate, timeout)

    def _client(self, service: str) -> Any:
        assert self.cloud is not None, "start() first"
        return self.cloud.client(service)


def send_event(events: Any, bus: str, event: Mapping[str, Any], *, source: str = "") -> str:
    """``PutEvents`` of one domain event; returns the EventBridge event id."""
    raw_tags = event.get("tags")
    tags: Mapping[str, Any] = raw_tags if isinstance(raw_tags, Mapping) else {}
    response = events.put_events(
        Entries=[
            {
                "EventBusName": bus,
                "Source": source or str(tags.get("source") or "stream-local"),
                "DetailType": str(event.get("type") or "event"),
                "Detail": json.dumps(event),
            }
        ]
    )
    entry = response["Entries"][0]
    if "ErrorCode" in entry:
        raise RuntimeError(f"PutEvents failed: {entry['ErrorCode']}: {entry.get('ErrorMessage')}")
    return entry["EventId"]


def save_clock(cloud: Cloud, offset: float) -> None:
    """Store the clock offset on moto, where a running ``up`` picks it up."""
    s3 = cloud.client("s3")
    try:
        s3.create_bucket(Bucket=STATE_BUCKET)
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        pass
    s3.put_object(Bucket=STATE_BUCKET, Key=CLOCK_KEY, Body=json.dumps({"offset": offset}))


def load_clock(cloud: Cloud) -> float | None:
    s3 = cloud.client("s3")
    try:
        body = s3.get_object(Bucket=STATE_BUCKET, Key=CLOCK_KEY)["Body"].read()
    except (s3.exceptions.NoSuchKey, s3.exceptions.NoSuchBucket):
        return None
    return float(json.loads(body)["offset"])
