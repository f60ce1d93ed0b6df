"""``serverless package --stage local`` for one service folder, and reading its output.

>>> pkg = package_service("services/event-hub")           # doctest: +SKIP
>>> pkg.stack_name, sorted(pkg.template["Resources"])[:3]  # doctest: +SKIP

Serverless v3 runs from the repository's ``node_modules`` (``make node``) with dummy AWS
credentials, telemetry and notifications off: packaging never reaches AWS. The output
directory (``<service>/.serverless`` unless ``out_dir`` is given) holds the CloudFormation
templates, ``serverless-state.json`` and the artifact zips; nothing in it is edited.
A fingerprint of the service folder lets ``package_service(..., reuse=True)`` skip
serverless when nothing changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cloud import DUMMY_CREDENTIALS

__all__ = ["Package", "PackageError", "find_serverless", "load_package", "package_service"]

CREATE_TEMPLATE = "cloudformation-template-create-stack.json"
UPDATE_TEMPLATE = "cloudformation-template-update-stack.json"
STATE = "serverless-state.json"
FINGERPRINT = ".stream-local-fingerprint"
_IGNORED_DIRS = {".serverless", "node_modules", "__pycache__", ".pytest_cache", ".git", "tests"}


class PackageError(RuntimeError):
    """serverless could not package the service."""


@dataclass
class Package:
    """What ``serverless package`` wrote for one service."""

    service_dir: Path
    out_dir: Path
    stage: str
    service: str
    stack_name: str
    region: str
    template: dict[str, Any] = field(repr=False)
    create_template: dict[str, Any] = field(repr=False)
    state: dict[str, Any] = field(repr=False)
    seconds: float = 0.0
    reused: bool = False

    @property
    def artifacts(self) -> dict[str, Path]:
        """``{S3Key: local zip}`` for every function and layer of the template."""
        found: dict[str, Path] = {}
        for resource in self.template.get("Resources", {}).values():
            props = resource.get("Properties") or {}
            code = props.get("Code") or props.get("Content")
            if isinstance(code, dict) and isinstance(code.get("S3Key"), str):
                key = code["S3Key"]
                found[key] = self.out_dir / key.rsplit("/", 1)[-1]
        return found

    @property
    def functions(self) -> dict[str, dict[str, Any]]:
        """serverless' own view of the functions (handler, events such as ``http``)."""
        return self.state.get("service", {}).get("functions") or {}


def find_serverless(start: Path) -> list[str]:
    """The serverless command: ``node_modules/.bin/serverless`` in ``start`` or a parent
    folder (the repository root has it after ``make node``), else ``npx serverless``."""
    for folder in [start, *start.parents]:
        candidate = folder / "node_modules" / ".bin" / "serverless"
        if candidate.exists():
            return [str(candidate)]
    npx = shutil.which("npx")
    if npx is None:
        raise PackageError("serverless not found: run `make node` (node >= 20 and npm needed)")
    return [npx, "--no-install", "serverless"]


def serverless_env() -> dict[str, str]:
    """The environment serverless runs in: dummy credentials, nothing phoning home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(DUMMY_CREDENTIALS)
    env.update(
        {
            "SLS_TELEMETRY_DISABLED": "1",
            "SLS_NOTIFICATIONS_MODE": "off",
            "SLS_DEPRECATION_DISABLE": "*",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
    )
    return env


def package_service(
    service_dir: str | os.PathLike[str],
    *,
    stage: str = "local",
    out_dir: str | os.PathLike[str] | None = None,
    reuse: bool = False,
    timeout: float = 300.0,
    log: Callable[[str], None] | None = None,
) -> Package:
    """Run ``serverless package --stage STAGE`` in ``service_dir`` and load the result.

    With ``reuse=True`` the previous output is loaded instead when the service folder (its
    files' paths, sizes and modification times) and the stage are unchanged.
    """
    service_dir = Path(service_dir).resolve()
    if not (service_dir / "serverless.yml").exists():
        raise PackageError(f"{service_dir} has no serverless.yml")
    out = Path(out_dir).resolve() if out_dir else service_dir / ".serverless"
    fingerprint = _fingerprint(service_dir, stage)
    if reuse and _read(out / FINGERPRINT) == fingerprint and (out / UPDATE_TEMPLATE).exists():
        package = load_package(service_dir, out_dir=out, stage=stage)
        package.reused = True
        return package
    command = [*find_serverless(service_dir), "package", "--stage", stage, "--package", str(out)]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command,
            cwd=service_dir,
            env=serverless_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as err:
        raise PackageError(
            f"serverless package timed out after {timeout}s in {service_dir}"
        ) from err
    output = "\n".join(
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip() and not line.startswith("npm warn")
    )
    if done.returncode != 0:
        raise PackageError(f"serverless package failed in {service_dir}:\n{output}")
    if log is not None and output:
        log(output)
    (out / FINGERPRINT).write_text(fingerprint)
    package = load_package(service_dir, out_dir=out, stage=stage)
    package.seconds = time.monotonic() - started
    return package


def load_package(
    service_dir: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str] | None = None,
    stage: str = "local",
) -> Package:
    """Read a packaged service (``serverless package`` must have run)."""
    service_dir = Path(service_dir).resolve()
    out = Path(out_dir).resolve() if out_dir else service_dir / ".serverless"
    try:
        template = json.loads((out / UPDATE_TEMPLATE).read_text())
        create = json.loads((out / CREATE_TEMPLATE).read_text())
        state = json.loads((out / STATE).read_text())
    except FileNotFoundError as err:
        raise PackageError(f"{out} holds no packaged service: {err.filename} missing") from err
    service = state["service"]
    provider = service.get("provider") or {}
    name = service.get("service")
    if isinstance(name, dict):  # older state files: {"name": ...}
        name = name.get("name")
    stage = provider.get("stage") or stage
    return Package(
        service_dir=service_dir,
        out_dir=out,
        stage=stage,
        service=str(name),
        stack_name=provider.get("stackName") or f"{name}-{stage}",
        region=provider.get("region") or "us-east-1",
        template=template,
        create_template=create,
        state=state,
    )


def _fingerprint(service_dir: Path, stage: str) -> str:
    digest = hashlib.sha256(stage.encode())
    for root, dirs, files in os.walk(service_dir):
        dirs[:] = sorted(d for d in dirs if d not in _IGNORED_DIRS and not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            stat = path.stat()
            rel = path.relative_to(service_dir).as_posix()
            digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None
