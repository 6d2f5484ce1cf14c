"""factory_cli.vendor_runtime: the runtime library copied into an app repo (ADR 0011)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from action_scripts.errors import FactoryError
from factory_cli import init_repo, vendor_runtime
from tests.helpers import SUITE_DIR

LIBRARY = SUITE_DIR / "libs" / "hoopstat-runtime"
NEW_APP = [
    "--function", "box-scores", "--ecr-repository", "hoopstat/box-scores",
    "--role-arn", "arn:aws:iam::123456789012:role/hoopstat-deploy-box-scores",
    "--region", "us-east-1", "--ref", "0123456789abcdef0123456789abcdef01234567",
    "--version", "v1.2.3",
]  # fmt: skip


def test_vendor_copies_the_library_source_only(tmp_path: Path) -> None:
    """The copy holds the library's pyproject, README and src package with a VENDORED.md naming
    its origin and fingerprint, and none of its tests, caches or build leftovers."""
    written = vendor_runtime.vendor(tmp_path, source=LIBRARY, origin="hoopstat-factory@abc")
    copy = tmp_path / "libs" / "hoopstat-runtime"
    names = {p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file()}
    assert {"pyproject.toml", "README.md", "VENDORED.md",
            "src/hoopstat_runtime/__init__.py", "src/hoopstat_runtime/py.typed"} <= names
    assert not [n for n in names if n.startswith("tests/") or "__pycache__" in n
                or ".egg-info" in n or n.endswith(".pyc")]  # fmt: skip
    assert sorted(written) == sorted(f"libs/hoopstat-runtime/{n}" for n in names)
    marker = (copy / "VENDORED.md").read_text()
    assert "- from: hoopstat-factory@abc" in marker
    assert "- content: sha256:" in marker
    assert (copy / "src/hoopstat_runtime/storage.py").read_bytes() == (
        LIBRARY / "src/hoopstat_runtime/storage.py").read_bytes()


def test_check_reports_edits_and_revendoring_restores(tmp_path: Path) -> None:
    """An edited, an extra and a missing file are each reported as stale; vendoring again
    restores the exact copy (the extra file removed)."""
    vendor_runtime.vendor(tmp_path, source=LIBRARY)
    copy = tmp_path / "libs" / "hoopstat-runtime"
    assert vendor_runtime.stale(tmp_path, source=LIBRARY) == []
    (copy / "src/hoopstat_runtime/errors.py").write_text("# edited\n")
    (copy / "src/hoopstat_runtime/extra.py").write_text("x = 1\n")
    (copy / "README.md").unlink()
    assert vendor_runtime.stale(tmp_path, source=LIBRARY) == [
        "README.md", "src/hoopstat_runtime/errors.py", "src/hoopstat_runtime/extra.py"]
    vendor_runtime.vendor(tmp_path, source=LIBRARY)
    assert vendor_runtime.stale(tmp_path, source=LIBRARY) == []
    assert not (copy / "src/hoopstat_runtime/extra.py").exists()


def test_vendor_replaces_the_examples_symlink(tmp_path: Path) -> None:
    """A copy of the example, whose libs/hoopstat-runtime links to the suite, gets real files
    (the link itself is removed, the suite's library untouched)."""
    (tmp_path / "libs").mkdir()
    (tmp_path / "libs" / "hoopstat-runtime").symlink_to(LIBRARY)
    vendor_runtime.vendor(tmp_path, source=LIBRARY)
    copy = tmp_path / "libs" / "hoopstat-runtime"
    assert not copy.is_symlink() and (copy / "VENDORED.md").is_file()
    assert not (LIBRARY / "VENDORED.md").exists()


def test_not_a_library_is_refused(tmp_path: Path) -> None:
    """A source without pyproject.toml and src/ is refused with a fix, and nothing is written."""
    with pytest.raises(FactoryError, match="is not the hoopstat-runtime library"):
        vendor_runtime.vendor(tmp_path / "app", source=tmp_path)
    assert not (tmp_path / "app").exists()


def test_scaffolded_app_names_the_vendored_copy_and_builds_it(tmp_path: Path) -> None:
    """A new app from `factory init --new-app`, plus the vendored copy, declares the runtime as a
    path dependency under libs/ and its Dockerfile and requirements install it from the build
    context: no git URL anywhere (the rehearsal's CI job shows pip installing it)."""
    app = tmp_path / "box-scores"
    assert init_repo.main(["--new-app", "box-scores", "--dir", str(app), *NEW_APP]) == 0
    vendor_runtime.vendor(app, source=LIBRARY)
    project = tomllib.loads((app / "pyproject.toml").read_text())
    assert project["project"]["dependencies"] == [
        "hoopstat-runtime @ {root:uri}/libs/hoopstat-runtime"]
    assert project["build-system"]["build-backend"] == "hatchling.build"
    assert "factory_bench" not in (app / "tests" / "conftest.py").read_text()
    test_deps = " ".join(project["project"]["optional-dependencies"]["test"])
    assert "moto[s3,secretsmanager]" in test_deps and "flask" in test_deps
    for name in ("Dockerfile", "requirements.txt", "pyproject.toml"):
        assert "git+" not in (app / name).read_text(), name
    assert "COPY libs/ ./libs/" in (app / "Dockerfile").read_text()
    assert "./libs/hoopstat-runtime" in (app / "requirements.txt").read_text()


def test_command_line_check_exits_1_on_a_stale_copy(tmp_path: Path) -> None:
    """`python -m factory_cli.vendor_runtime APP --check` exits 1 naming a stale file, 0 after
    `python -m factory_cli.vendor_runtime APP`."""
    vendor_runtime.vendor(tmp_path, source=LIBRARY)
    (tmp_path / "libs/hoopstat-runtime/pyproject.toml").write_text("[project]\n")
    argv = [sys.executable, "-m", "factory_cli.vendor_runtime", str(tmp_path), "--source",
            str(LIBRARY)]
    check = subprocess.run([*argv, "--check"], capture_output=True, text=True, check=False)
    assert check.returncode == 1 and "libs/hoopstat-runtime/pyproject.toml differs" in check.stdout
    assert subprocess.run(argv, capture_output=True, check=False).returncode == 0
    assert subprocess.run([*argv, "--check"], capture_output=True, check=False).returncode == 0
