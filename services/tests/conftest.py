"""Packaging for the template tests: ``serverless package --stage local`` once per service
and session, and reused across sessions while the service folder is unchanged (stream-local's
fingerprint), in pytest's cache folder. The stream-core wheel the services' requirements
resolve is built first (``make wheel``)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SERVICES_DIR = HERE.parent
ROOT = SERVICES_DIR.parent
STAGE = "local"


@pytest.fixture(scope="session")
def stream_core_wheel():
    """``make wheel``: dist/stream_core-<version>-py3-none-any.whl, rebuilt if the library
    changed (a no-op otherwise)."""
    if shutil.which("make") is None:
        pytest.skip("make is needed to build the stream-core wheel")
    # not the jobserver of a `make test` that runs us
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = subprocess.run(
        ["make", "-s", "wheel"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    wheels = sorted((ROOT / "dist").glob("stream_core-*.whl"))
    assert wheels, "make wheel built nothing"
    return wheels[-1]


@pytest.fixture(scope="session")
def packaged(request, stream_core_wheel, tmp_path_factory):
    """``packaged(name)``: the ``stream_local.package.Package`` of ``services/<name>``."""
    from stream_local.package import package_service

    cache = getattr(request.config, "cache", None)
    root = cache.mkdir("service-templates") if cache else tmp_path_factory.mktemp("templates")
    done = {}

    def package(name):
        if name not in done:
            done[name] = package_service(
                SERVICES_DIR / name, stage=STAGE, out_dir=Path(root) / name, reuse=True
            )
        return done[name]

    return package
