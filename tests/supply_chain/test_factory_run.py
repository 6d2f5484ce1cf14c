"""actions/factory-run.sh: a hash-checked, binary-only install from the committed lock, a venv
root another user cannot plant, and the suite imported from its own checkout only.

These run the real script against the package index (no mock): the cold install is the one a
runner job does.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from factory_bench import act
from tests.helpers import SUITE_DIR

USAGE = "usage: python -m action_scripts <action>"


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The suite as `uses:` sees it: its git-visible files only."""
    return act.export_suite(SUITE_DIR, tmp_path_factory.mktemp("suite") / "suite")


def factory_run(suite: Path, *, root: Path, cwd: Path | None = None,
                args: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run factory-run.sh with no action (setup, then the usage message) in a venv root."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOOPSTAT_", "UV_"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["HOOPSTAT_FACTORY_VENV_ROOT"] = str(root)
    return subprocess.run(
        ["bash", str(suite / "actions" / "factory-run.sh"), *args], env=env, cwd=cwd or root.parent,
        capture_output=True, text=True, timeout=300, check=False,
    )


@pytest.fixture(scope="module")
def warm_root(suite: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv root after one cold install from the lock."""
    root = tmp_path_factory.mktemp("warm") / "venvs"
    done = factory_run(suite, root=root)
    assert done.returncode == 2 and USAGE in done.stderr, done.stdout + done.stderr
    assert "Python environment ready" in done.stdout
    return root


def test_cold_install_is_the_lock_exactly(warm_root: Path) -> None:
    """The venv holds exactly the lock's pinned distributions (no suite wheel, nothing resolved)."""
    (venv,) = warm_root.glob("venv-*")
    assert (venv / ".ready").is_file()
    locked = {
        (m[1].lower().replace("_", "-"), m[2])
        for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)",
                             (SUITE_DIR / "requirements/runtime.txt").read_text(), re.M)
    }
    installed = {
        (p.name.split("-")[0].lower().replace("_", "-"), p.name.split("-")[1].removesuffix(".dist"))
        for p in venv.glob("lib/python*/site-packages/*.dist-info")
    }
    assert installed == locked
    assert not list(venv.glob("lib/python*/site-packages/action_scripts*"))


def test_warm_run_reuses_the_venv_and_imports_this_checkout(
    suite: Path, warm_root: Path, tmp_path: Path
) -> None:
    """A second step reuses the venv; a module planted in the working directory (the app's
    workspace) is not imported: the suite comes from its checkout, and cwd is off sys.path."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    marker = tmp_path / "shadowed"
    (workspace / "dataclasses.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    done = factory_run(suite, root=warm_root, cwd=workspace)
    assert done.returncode == 2 and USAGE in done.stderr, done.stdout + done.stderr
    assert "Python environment ready" not in done.stdout
    assert not marker.exists(), "a module in the workspace shadowed the stdlib"


def test_tampered_lock_hash_fails_and_runs_nothing(suite: Path, tmp_path: Path) -> None:
    """A lock whose sha256 for one package no longer matches the index's file stops the step with
    a `::error` naming the hash mismatch; no venv is kept and the action never starts."""
    tampered = tmp_path / "suite"
    shutil.copytree(suite, tampered)
    lock = tampered / "requirements" / "runtime.txt"
    text = lock.read_text()
    entry = re.search(r"^six==\S+ \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", text, re.M)
    assert entry, "six is no longer in the lock: tamper with another package"
    forged = re.sub(r"[0-9a-f]{64}", "0" * 64, entry[1])
    lock.write_text(text.replace(entry[1], forged))
    root = tmp_path / "venvs"
    done = factory_run(tampered, root=root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "::error title=Dependency hash mismatch::" in done.stdout, done.stdout + done.stderr
    assert USAGE not in done.stderr
    assert not list(root.glob("venv-*")) and not list(root.glob("staging-*"))


def test_key_follows_the_lock(suite: Path, warm_root: Path, tmp_path: Path) -> None:
    """Any change to the lock gives a new venv: a venv is never reused for another lock."""
    changed = tmp_path / "suite"
    shutil.copytree(suite, changed)
    lock = changed / "requirements" / "runtime.txt"
    lock.write_text(lock.read_text() + "# changed\n")
    before = set(warm_root.glob("venv-*"))
    done = factory_run(changed, root=warm_root)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Python environment ready" in done.stdout
    assert len(set(warm_root.glob("venv-*")) - before) == 1


def _plant(root: Path, marker: Path) -> None:
    """What another user could do in a root they can write: swap the venv's interpreter."""
    (venv,) = root.glob("venv-*")
    python = venv / "bin" / "python"
    python.unlink()
    python.write_text(f"#!/bin/sh\ntouch {marker}\n")
    python.chmod(0o755)


def test_planted_venv_in_a_world_writable_root_is_not_run(suite: Path, tmp_path: Path) -> None:
    """A venv root writable by others is refused with an `::error` naming the fix, so an
    interpreter planted there never runs (with the root made private, the same plant does run:
    the refusal is what stops it)."""
    root = tmp_path / "venvs"
    assert factory_run(suite, root=root).returncode == 2
    marker = tmp_path / "planted-python-ran"
    _plant(root, marker)
    root.chmod(0o777)
    done = factory_run(suite, root=root)
    assert done.returncode == 1
    assert "::error title=Unsafe venv root::" in done.stdout, done.stdout + done.stderr
    assert "writable by group or others" in done.stdout and "chmod go-w" in done.stdout
    assert not marker.exists()
    root.chmod(0o700)
    factory_run(suite, root=root)
    assert marker.exists(), "the plant should run from a private root: the test proves nothing"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand a directory to another user")
def test_venv_root_owned_by_another_user_is_refused(suite: Path, tmp_path: Path) -> None:
    """A venv root owned by another user is refused before anything is installed or run."""
    root = tmp_path / "venvs"
    root.mkdir(mode=0o755)
    os.chown(root, 65534, 65534)
    done = factory_run(suite, root=root)
    assert done.returncode == 1
    assert "::error title=Unsafe venv root::" in done.stdout, done.stdout + done.stderr
    assert "owned by uid 65534" in done.stdout and "HOOPSTAT_FACTORY_VENV_ROOT" in done.stdout
    assert list(root.iterdir()) == []


def test_default_root_is_created_private(suite: Path, tmp_path: Path) -> None:
    """Without HOOPSTAT_FACTORY_VENV_ROOT the root is made under RUNNER_TEMP, mode 0700."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOOPSTAT_", "UV_"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["RUNNER_TEMP"] = str(tmp_path)
    env["HOOPSTAT_FACTORY_BASE_PYTHON"] = "/nonexistent/python3"
    done = subprocess.run(["bash", str(suite / "actions/factory-run.sh")], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and "::error title=Hoopstat Factory setup failed::" in done.stdout
    env["HOOPSTAT_FACTORY_BASE_PYTHON"] = sys.executable
    subprocess.run(["bash", str(suite / "actions/factory-run.sh")], env=env,
                   capture_output=True, text=True, timeout=300, check=False)
    mode = stat.S_IMODE((tmp_path / "hoopstat-factory").stat().st_mode)
    assert mode == 0o700, oct(mode)
