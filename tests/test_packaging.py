"""The three distributions: runners install only the runtime; the CLI and the bench ship apart.

See docs/adr/0006-the-suites-architecture.md for who installs what and why.
"""

from __future__ import annotations

import ast
import email.message
import email.parser
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from factory_bench import act
from tests.helpers import SUITE_DIR

# What the runtime may import besides itself and the standard library: what its wheel declares.
RUNTIME_THIRD_PARTY = {"boto3", "botocore", "github"}
NEVER_IN_RUNTIME = {"jinja2", "moto", "pytest", "yaml", "factory_bench", "factory_cli", "tests"}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build each distribution's wheel from a clean export (git-visible files only)."""
    export = act.export_suite(SUITE_DIR, tmp_path_factory.mktemp("export") / "suite")
    out = tmp_path_factory.mktemp("wheels")
    built: dict[str, Path] = {}
    for name, source in (("runtime", export), ("cli", export / "cli"),
                         ("bench", export / "bench")):
        dest = out / name
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dest),
             str(source)], capture_output=True, text=True, timeout=300, check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        (built[name],) = dest.glob("*.whl")
    return built


def _metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(archive.read(name).decode())


def test_runtime_wheel_holds_only_the_runtime(wheels: dict[str, Path]) -> None:
    """The runtime wheel holds action_scripts' modules and nothing of the bench, the local run,
    init or its templates."""
    with zipfile.ZipFile(wheels["runtime"]) as archive:
        names = archive.namelist()
    payload = [n for n in names if ".dist-info/" not in n]
    assert payload, names
    assert all(n.startswith("action_scripts/") for n in payload), payload
    assert all(n.endswith((".py", "py.typed")) for n in payload), payload
    forbidden = ("bench", "local_run", "init_repo", "templates", ".j2", "docs.py", "stubs")
    assert not [n for n in payload if any(word in n for word in forbidden)], payload
    assert "action_scripts/actions.py" in payload and "action_scripts/__main__.py" in payload


def test_runtime_requires_only_boto3_and_pygithub(wheels: dict[str, Path]) -> None:
    """The runtime's requirements name boto3 and PyGithub only: no jinja2, moto or pytest, not
    even behind an extra."""
    requires = _metadata(wheels["runtime"]).get_all("Requires-Dist") or []
    names = sorted(r.split(";")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower()
                   for r in requires)
    assert names == ["boto3", "pygithub"], requires


def test_cli_and_bench_ship_what_they_read(wheels: dict[str, Path]) -> None:
    """The CLI wheel carries its templates; the bench wheel its FAKE action stubs, the rehearsal's
    Terraform root and the pytest plugin entry point — nothing is read from a checkout's tests/."""
    with zipfile.ZipFile(wheels["cli"]) as archive:
        cli = archive.namelist()
    assert "factory_cli/templates/deploy-lambda-app.yml.j2" in cli
    assert "factory_cli/templates/release.json" in cli
    assert any(n.startswith("factory_cli/templates/app/") for n in cli)
    with zipfile.ZipFile(wheels["bench"]) as archive:
        bench = archive.namelist()
        entry_points = archive.read(next(n for n in bench if n.endswith("entry_points.txt")))
    assert "factory_bench/stubs/actions/setup-python/action.yml" in bench
    assert "factory_bench/local_run_terraform/main.tf" in bench
    assert b"factory_bench = factory_bench.testing" in entry_points
    cli_requires = " ".join(_metadata(wheels["cli"]).get_all("Requires-Dist") or [])
    assert "jinja2" in cli_requires.lower() and "hoopstat-factory" in cli_requires


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_runtime_imports_nothing_it_does_not_declare() -> None:
    """No runtime module imports the bench, the CLI, jinja2, moto, YAML or pytest — not even
    lazily inside a function."""
    stdlib = set(sys.stdlib_module_names)
    for path in sorted((SUITE_DIR / "action_scripts").glob("*.py")):
        imported = _imports(path) - stdlib - {"action_scripts", "__future__"}
        assert not imported & NEVER_IN_RUNTIME, (path.name, imported & NEVER_IN_RUNTIME)
        assert imported <= RUNTIME_THIRD_PARTY, (path.name, imported - RUNTIME_THIRD_PARTY)


def test_no_test_module_imports_another() -> None:
    """Tests share helpers through tests/helpers and fixtures, never by importing a test module
    or a conftest."""
    offenders = []
    for root in (SUITE_DIR / "tests", SUITE_DIR / "bench" / "tests"):
        for path in sorted(root.rglob("*.py")):
            for module in _dotted_imports(path):
                last = module.rsplit(".", 1)[-1]
                if last.startswith("test_") or last == "conftest":
                    offenders.append(f"{path.relative_to(SUITE_DIR)} imports {module}")
    assert offenders == []


def _dotted_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found
