"""``stream-local new NAME --from rest-bff``: the copy is a service whose tests pass without
edits. The copy goes where a user's would, ``services/<name>`` (its requirements find the
stream-core wheel through ``../../dist``, and ruff's settings are the repository's), and is
removed afterwards."""

import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from stream_local.cli import main

SERVICES_DIR = Path(__file__).resolve().parents[1]
ROOT = SERVICES_DIR.parent


@pytest.fixture
def copy_of_rest_bff(monkeypatch, capsys):
    name = f"zz-copy-{uuid.uuid4().hex[:6]}"  # sorts after stream_core: imports re-sorted
    target = SERVICES_DIR / name
    monkeypatch.chdir(ROOT)
    try:
        assert main(["new", name, "--from", "rest-bff"]) == 0
        yield target, capsys.readouterr().out
    finally:
        shutil.rmtree(target, ignore_errors=True)


@pytest.mark.timeout(120)
def test_a_copy_of_rest_bff_passes_its_tests_and_ruff(copy_of_rest_bff):
    target, out = copy_of_rest_bff
    name, pkg = target.name, target.name.replace("-", "_")
    assert "ruff check: ok" in out, out
    assert sorted(p.name for p in (target / "src").iterdir()) == [pkg]
    assert not list(target.rglob("__pycache__")) and not (target / ".serverless").exists()
    serverless = (target / "serverless.yml").read_text()
    assert f"service: {name}\n" in serverless
    assert f"handler: src/{pkg}/listener.handler" in serverless
    assert "hub: event-hub" in serverless  # the hub it imports is not its own
    assert "rest-bff" not in serverless and "rest_bff" not in serverless

    ruff = Path(sys.executable).with_name("ruff")
    done = subprocess.run(
        [str(ruff), "check", "--no-cache", str(target)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "pytest", f"{target}/tests", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout.splitlines()[-1]
