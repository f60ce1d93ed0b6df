"""``stream-local new``: the renaming rules on text and a small service folder. (Copying a
real service and running its tests: services/tests/test_new_service.py.)"""

from __future__ import annotations

import pytest

from stream_local.cli import main
from stream_local.newservice import copy_service, rename, validate_name


def test_a_hyphenated_service_renames_its_name_and_its_package():
    text = (
        "service: rest-bff\n"
        "handler: src/rest_bff/rest.handler\n"
        "from rest_bff.rules import x\n"
        'TABLE = "rest-bff-test-orders"  # env REST_BFF, not REST_BFF_URL\n'
        "hub: event-hub  # !ImportValue ${param:hub}-${sls:stage}-stream-arn\n"
        "my-rest-bff rest-bffs rest_bff_extra\n"  # someone else's names, other words
    )
    renamed, count = rename(text, "rest-bff", "orders-api")
    assert renamed == (
        "service: orders-api\n"
        "handler: src/orders_api/rest.handler\n"
        "from orders_api.rules import x\n"
        'TABLE = "orders-api-test-orders"  # env ORDERS_API, not REST_BFF_URL\n'
        "hub: event-hub  # !ImportValue ${param:hub}-${sls:stage}-stream-arn\n"
        "my-rest-bff rest-bffs rest_bff_extra\n"
    )
    assert count == 5


def test_a_one_word_service_is_told_from_its_package_by_context():
    text = (
        "service: control\n"
        "handler: src/control/listener.handler\n"
        "from control.rules import Settings\n"
        "import control\n"
        'log = logging.getLogger("control.rules")\n'
        'cold_start("control.listener"); setenv("SERVICE", "control")\n'
        "TABLE = 'control-test-events'  # control's table\n"
        "see services/control/README.md\n"
        "python -m control.tool; a controller; the control. End\n"
    )
    renamed, _count = rename(text, "control", "my-decider")
    assert renamed == (
        "service: my-decider\n"
        "handler: src/my_decider/listener.handler\n"
        "from my_decider.rules import Settings\n"
        "import my_decider\n"
        'log = logging.getLogger("my_decider.rules")\n'
        'cold_start("my_decider.listener"); setenv("SERVICE", "my-decider")\n'
        "TABLE = 'my-decider-test-events'  # my-decider's table\n"
        "see services/my-decider/README.md\n"
        "python -m my_decider.tool; a controller; the my-decider. End\n"
    )


def make_service(folder):
    (folder / "src" / "old_svc").mkdir(parents=True)
    (folder / "src" / "old_svc" / "__init__.py").write_text('"""old-svc: a service."""\n')
    (folder / "src" / "old_svc" / "__pycache__").mkdir()
    (folder / "src" / "old_svc" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (folder / "tests").mkdir()
    (folder / "tests" / "test_it.py").write_text("from old_svc import x\n")
    (folder / "serverless.yml").write_text("service: old-svc\nhandler: src/old_svc/a.handler\n")
    (folder / ".serverless").mkdir()
    (folder / ".serverless" / "template.json").write_text("old-svc")
    (folder / "logo.png").write_bytes(b"\x89PNG\xff\xfe old-svc")
    return folder


def test_copy_skips_caches_and_renames_files(tmp_path):
    source = make_service(tmp_path / "services" / "old-svc")
    done = copy_service(source, tmp_path / "services" / "new-svc", sort_imports=False)
    target = tmp_path / "services" / "new-svc"
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert files == [
        "logo.png",
        "serverless.yml",
        "src/new_svc/__init__.py",
        "tests/test_it.py",
    ]
    assert (target / "serverless.yml").read_text() == (
        "service: new-svc\nhandler: src/new_svc/a.handler\n"
    )
    assert (target / "tests" / "test_it.py").read_text() == "from new_svc import x\n"
    assert (target / "logo.png").read_bytes() == b"\x89PNG\xff\xfe old-svc"  # binary: as is
    assert done.renamed == [("src/old_svc", "new_svc")]
    assert (source / "src" / "old_svc" / "__init__.py").exists()  # the source is untouched


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("Orders", "not a service name"),
        ("orders_api", "not a service name"),
        ("-orders", "not a service name"),
        ("orders--api", "not a service name"),
        ("x" * 41, "longer than 40"),
        ("json", "shadow Python's own"),
        ("stream-core", "shadow a dependency"),
    ],
)
def test_bad_names_are_refused(name, error):
    with pytest.raises(ValueError, match=error):
        validate_name(name)


def test_the_command_refuses_an_existing_folder(tmp_path, capsys, monkeypatch):
    (tmp_path / "package.json").write_text("{}")
    (tmp_path / "pyproject.toml").write_text("")
    make_service(tmp_path / "services" / "old-svc")
    make_service(tmp_path / "services" / "taken")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="exists already"):
        main(["new", "taken", "--from", "old-svc"])
    assert main(["new", "fresh", "--from", "old-svc"]) == 0
    out = capsys.readouterr().out
    assert "services/fresh: a copy of old-svc" in out
    assert (tmp_path / "services" / "fresh" / "src" / "fresh" / "__init__.py").exists()
