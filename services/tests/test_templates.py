"""The guarantees of services/README.md, checked on the CloudFormation template that
``serverless package --stage local`` writes for each service (the template ``sls deploy``
sends to AWS): IAM scoped to the service's own resources, encryption at rest, private and
versioned buckets, batch failure settings on every event source, DLQ alarms, log retention.
And each function's zip imports its handler with nothing but the zip and what the Lambda
runtime provides.

Add a service by adding its folder name to ``SERVICES``.
"""

import json
import os
import shutil
import subprocess
import sysconfig
import zipfile
from pathlib import Path

import pytest
from guarantees import (
    alarm_problems,
    encryption_problems,
    event_source_problems,
    function_role_problems,
    iam_problems,
    log_problems,
    s3_problems,
)

SERVICES = [
    "event-hub",
    "event-lake-s3",
    "event-fault-monitor",
    "rest-bff",
    "control",
]

SERVICES_DIR = Path(__file__).resolve().parent.parent

#: The services that deploy functions (event-hub and the lake are resources only).
FUNCTION_SERVICES = [
    name
    for name in SERVICES
    if "\nfunctions:" in (SERVICES_DIR / name / "serverless.yml").read_text()
]

#: What the Lambda Python runtime provides: kept out of the zips (noDeploy), so the zip
#: test puts these, and only these, beside the zip.
RUNTIME_PACKAGES = ["boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"]

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(params=SERVICES)
def package(request, packaged):
    return packaged(request.param)


@pytest.fixture(params=FUNCTION_SERVICES)
def function_package(request, packaged):
    return packaged(request.param)


def lambda_python() -> str | None:
    """An interpreter of the Lambda runtime's version (3.12), if this machine has one:
    ``LAMBDA_PYTHON``, ``python3.12`` on the PATH, or a pyenv 3.12 install."""
    candidates = [os.environ.get("LAMBDA_PYTHON"), shutil.which("python3.12")]
    candidates += sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.12*/bin/python3"))
    for candidate in filter(None, candidates):
        try:
            done = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
                capture_output=True, text=True, timeout=30,
            )
        except OSError:
            continue
        if done.stdout.strip() == "True":
            return candidate
    return None


def own_prefix(package):
    return f"{package.service}-{package.stage}"


def test_iam_is_scoped_to_the_services_own_resources(package):
    assert iam_problems(package.template, own_prefix(package)) == []


def test_every_function_has_its_own_role(package):
    assert function_role_problems(package.template) == []


def test_data_at_rest_is_encrypted(package):
    assert encryption_problems(package.template) == []


def test_buckets_are_private_and_versioned(package):
    assert s3_problems(package.template) == []


def test_event_sources_report_batch_failures_and_give_up_somewhere(package):
    assert event_source_problems(package.template) == []


def test_dead_letter_queues_have_alarms(package):
    assert alarm_problems(package.template) == []


def test_log_groups_have_a_retention(package):
    assert log_problems(package.template) == []
    functions = [
        r for r in package.template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    groups = [
        r for r in package.template["Resources"].values() if r["Type"] == "AWS::Logs::LogGroup"
    ]
    assert len(groups) >= len(functions)  # serverless creates one per function


def test_functions_run_python_3_12_with_the_stage_environment(package):
    for logical_id, resource in package.template["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        props = resource["Properties"]
        assert props["Runtime"] == "python3.12", logical_id
        variables = props["Environment"]["Variables"]
        assert variables["STAGE"] == package.stage
        assert variables["SERVICE"] == package.service
        assert variables["POWERTOOLS_SERVICE_NAME"] == package.service
        assert "BUS_NAME" in variables


def test_each_zip_imports_its_handlers_with_only_what_lambda_provides(function_package, tmp_path):
    """On a Python 3.12 (the runtime's) the handlers are imported from the unpacked zip.
    Without one, the same zip checks run and every compiled module must be built for
    CPython 3.12 on x86_64 Linux (what the import would need), so the test never passes on
    less than a check of the zip."""
    package = function_package
    handlers = [
        r["Properties"]["Handler"]
        for r in package.template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    ]
    assert handlers, f"{package.service} is listed as having functions"
    python = lambda_python()
    runtime = tmp_path / "runtime"  # stands in for the Lambda runtime's boto3
    runtime.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for name in RUNTIME_PACKAGES:
        (runtime / name).symlink_to(site / name)
    for zip_path in set(package.artifacts.values()):
        task = tmp_path / zip_path.stem
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(task)
            names = archive.namelist()
        assert not [n for n in names if n.split("/")[0] in {"boto3", "botocore"}]
        assert not [n for n in names if n.startswith(("tests/", ".serverless/", "node_modules/"))]
        modules = [h.rsplit(".", 1)[0].replace("/", ".") for h in handlers]
        for module in modules:
            assert module.replace(".", "/") + ".py" in names, module
        if python is None:
            compiled = [n for n in names if n.endswith(".so")]
            wrong = [n for n in compiled if "cpython-312-x86_64-linux-gnu" not in n]
            assert wrong == [], f"compiled modules not built for the Lambda runtime: {wrong}"
            continue
        script = (
            "import importlib, json, sys\n"
            f"sys.path[:0] = [{str(task)!r}, {str(runtime)!r}]\n"
            f"for name in {modules!r}:\n"
            "    assert callable(importlib.import_module(name).handler), name\n"
            "import stream_core; print(json.dumps(stream_core.__file__))\n"
        )
        env = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "BUS_NAME": "bus",
        }
        done = subprocess.run(  # -S: no site-packages, -I: no user site, no PYTHON* variables
            [python, "-S", "-I", "-c", script],
            capture_output=True,
            text=True,
            env=env,
            cwd=task,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout).startswith(str(task))  # the zip's stream-core
