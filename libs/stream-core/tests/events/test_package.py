from __future__ import annotations

import subprocess
import sys

import stream_core


def _modules_after(code: str) -> set[str]:
    src = stream_core.__path__[0].rsplit("/", 1)[0]
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; {code}; print(' '.join(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": src},
    ).stdout
    return set(out.split())


def test_importing_the_package_imports_no_source():
    modules = _modules_after("import stream_core.events")

    assert "stream_core.events" in modules
    assert not {m for m in modules if m.startswith("stream_core.events.")}
    assert "boto3" not in modules


def test_sources_other_than_dynamodb_do_not_import_boto3():
    modules = _modules_after(
        "import stream_core.events.kinesis, stream_core.events.sqs, stream_core.events.sns, "
        "stream_core.events.s3, stream_core.events.eventbridge"
    )

    assert "stream_core.events.s3" in modules
    assert "boto3" not in modules
    assert "stream_core.events.dynamodb" not in modules
