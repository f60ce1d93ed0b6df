"""``stream-local new NAME --from SERVICE``: start a service by copying one as a template.

    stream-local new orders-api --from rest-bff      # services/rest-bff -> services/orders-api

The copy is the service with its own names replaced, and its tests pass as they are:

- the **service name** (``rest-bff`` -> ``orders-api``): ``service:`` in serverless.yml, and
  with it every physical name and export of the stack (``${self:service}-${sls:stage}-...``),
  names written out in tests (``rest-bff-test-orders``), tags (``source``), the README;
- the **Python package** (``rest_bff`` -> ``orders_api``): the folder ``src/<pkg>``, handler
  paths, imports, logger names and module paths in strings (``"rest_bff.listener"``).

What belongs to other services stays: the hub it imports (``params.hub: event-hub``,
``!ImportValue ${param:hub}-...``), event types, other services named in the text. A service
whose package name is its name (``control``) is renamed by context: ``src/control``,
``from control ...``, ``import control`` and ``control.<module>`` are the package, anything
else is the service name.

Caches and build output are not copied (``.serverless``, ``__pycache__``, ``.pytest_cache``,
``node_modules``, ``.requirements*``, ``*.pyc``, ``*.egg-info``). The imports of the copy are
sorted again with ruff (the package's new name may sort elsewhere) when ruff is installed.
"""

from __future__ import annotations

import argparse
import keyword
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Copy", "add_parser", "copy_service", "package_name", "rename", "validate_name"]

SKIP_DIRS = {".serverless", "__pycache__", ".pytest_cache", "node_modules", ".ruff_cache"}
SKIP_PATTERNS = ("*.pyc", "*.egg-info", ".requirements*", ".stream-local-fingerprint")
NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
MAX_NAME = 40  # <name>-<stage>-<function>-dlq stays within AWS's 64/80 character names


def package_name(service: str) -> str:
    """The Python package of a service: ``rest-bff`` -> ``rest_bff``."""
    return service.replace("-", "_")


def validate_name(name: str) -> None:
    """A service name: lower-case words joined by ``-``, a usable package name."""
    if not NAME.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a service name: lower-case letters and digits, words joined by "
            "'-', starting with a letter (e.g. orders-api)"
        )
    if len(name) > MAX_NAME:
        raise ValueError(f"{name!r} is longer than {MAX_NAME} characters (AWS name limits)")
    pkg = package_name(name)
    if keyword.iskeyword(pkg) or pkg in sys.stdlib_module_names:
        raise ValueError(f"{name!r}: its package {pkg!r} would shadow Python's own")
    if pkg in {"stream_core", "stream_local", "boto3", "botocore", "pydantic", "reactivex"}:
        raise ValueError(f"{name!r}: its package {pkg!r} would shadow a dependency")


def rename(text: str, old: str, new: str) -> tuple[str, int]:
    """``text`` with service ``old``'s own names (name and package) made ``new``'s;
    ``(text, number of replacements)``."""
    old_pkg, new_pkg = package_name(old), package_name(new)
    names = sorted({old, old_pkg, old_pkg.upper()}, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, names)) + r")(?!\w)")

    def replace(match: re.Match[str]) -> str:
        found = match.group(1)
        if found == old_pkg.upper() and found != old:
            return new_pkg.upper()
        if old == old_pkg:  # one word: the package or the service name, by context
            return new_pkg if _is_package(text, match.start(), match.end()) else new
        return new_pkg if found == old_pkg else new

    return pattern.subn(replace, text)


def _is_package(text: str, start: int, end: int) -> bool:
    before, after = text[max(0, start - 8) : start], text[end : end + 2]
    return before.endswith(("src/", "from ", "import ", "-m ")) or bool(
        re.match(r"\.[A-Za-z_]", after)
    )


@dataclass
class Copy:
    """What ``copy_service`` did."""

    source: Path
    target: Path
    files: int = 0
    replacements: int = 0
    renamed: list[tuple[str, str]] = field(default_factory=list)
    imports_sorted: bool = False


def copy_service(source: Path, target: Path, *, sort_imports: bool = True) -> Copy:
    """Copy the service folder ``source`` to ``target`` (which must not exist), renaming
    ``source.name``'s own names to ``target.name``'s."""
    source, target = source.resolve(), target.resolve()
    old, new = source.name, target.name
    validate_name(new)
    if not (source / "serverless.yml").exists():
        raise ValueError(f"{source} is not a service (no serverless.yml)")
    if target.exists():
        raise ValueError(f"{target} exists already")
    done = Copy(source, target)
    ignore = shutil.ignore_patterns(*SKIP_DIRS, *SKIP_PATTERNS)
    staging = target.with_name(f".{new}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        shutil.copytree(source, staging, ignore=ignore)
        for path in sorted(staging.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if path.is_file():
                done.files += 1
                try:
                    text = path.read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    continue  # binary: copied as it is
                changed, count = rename(text, old, new)
                if count:
                    path.write_text(changed, encoding="utf-8")
                    done.replacements += count
            relative = path.relative_to(staging).as_posix()  # the context: src/<pkg>
            renamed = rename(relative, old, new)[0].rsplit("/", 1)[-1]
            if renamed != path.name:
                path.rename(path.with_name(renamed))
                done.renamed.append((relative, renamed))
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if sort_imports:
        done.imports_sorted = _sort_imports(target)
    return done


def _sort_imports(folder: Path) -> bool:
    """``ruff check --select I --fix``: the renamed package may sort elsewhere among the
    first-party imports. False if ruff is not installed."""
    return _ruff(folder, "--select", "I", "--fix") is not None


def _ruff(folder: Path, *args: str) -> str | None:
    """``ruff check ARGS folder`` with the repository's settings: its output, or None if
    ruff is not installed."""
    ruff = Path(sys.executable).with_name("ruff")
    command = str(ruff) if ruff.exists() else shutil.which("ruff")
    if command is None:
        return None
    root = next((p for p in folder.parents if (p / "pyproject.toml").exists()), folder)
    done = subprocess.run(
        [command, "check", "--quiet", "--no-cache", *args, str(folder)],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return (done.stdout + done.stderr).strip()


# ---- the command ---------------------------------------------------------------------------


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """``stream-local new``: added to the CLI's subcommands."""
    help_text = "copy a service folder as the template of a new service, names replaced"
    sub = commands.add_parser(
        "new",
        help=help_text,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.add_argument("name", help="the new service's name (orders-api); package: orders_api")
    sub.add_argument(
        "--from",
        dest="source",
        default="rest-bff",
        metavar="SERVICE",
        help="the service to copy: a folder name under services/ or a path (rest-bff)",
    )
    sub.add_argument("--to", help="the new folder (default: services/NAME next to SERVICE)")
    sub.set_defaults(handler=cmd_new)
    return sub


def cmd_new(args: argparse.Namespace) -> int:
    from .cli import find_root

    root = find_root()
    source = Path(args.source)
    if not source.exists() and (root / "services" / args.source).exists():
        source = root / "services" / args.source
    target = Path(args.to) if args.to else source.resolve().parent / args.name
    if target.name != args.name:
        raise SystemExit(f"--to must end in the service's name: {target} is not .../{args.name}")
    try:
        done = copy_service(source, target)
    except ValueError as err:
        raise SystemExit(f"stream-local new: {err}") from None
    old, new = source.resolve().name, args.name
    shown = target.relative_to(root) if target.is_relative_to(root) else target
    print(f"==> {shown}: a copy of {old}, {done.files} files")
    print(
        f"    {old} -> {new}, {package_name(old)} -> {package_name(new)}: "
        f"{done.replacements} replacements; renamed "
        + (", ".join(f"{a} -> {b}" for a, b in done.renamed) or "nothing")
    )
    if not done.imports_sorted:
        print("    ruff not found: sort the imports yourself (ruff check --select I --fix)")
    else:
        issues = _ruff(target, "--output-format", "concise")
        print("    ruff check: " + ("ok" if not issues else "to fix by hand (a longer name?)"))
        for line in (issues or "").splitlines():
            print(f"      {line}")
    print("next:")
    if (target / "tests").is_dir():
        print(f"    .venv/bin/pytest {shown}/tests          # its tests pass as copied")
        print(f'    add "{shown}/tests" to testpaths in pyproject.toml (make test runs them)')
    print(f'    add "{new}" to SERVICES in services/tests/test_templates.py (template checks)')
    print(f"    then make it yours: events, rules, tables, routes; see {shown}/README.md")
    return 0
