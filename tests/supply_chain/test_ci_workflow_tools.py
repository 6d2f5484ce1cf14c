"""python-app-ci.yml installs uv (and through it Poetry) only as a hash-checked wheel: the default
uv-version's hashes are requirements/uv.txt's, another version needs its own hashes, and a wheel
that matches none is refused before anything else is installed.

These run the workflow's own install script with bash, as the runner does (``shell: bash`` is
``bash -eo pipefail``), with the step's environment; pip talks to the real package index.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import SUITE_DIR

WORKFLOW = SUITE_DIR / ".github" / "workflows" / "python-app-ci.yml"
UV_LOCK = SUITE_DIR / "requirements" / "uv.txt"


def install_step() -> dict[str, Any]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    (step,) = [s for s in workflow["jobs"]["ci"]["steps"]
               if str(s.get("name", "")).startswith("Install")]
    return dict(step)


def uv_inputs() -> dict[str, Any]:
    inputs: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())[True]["workflow_call"]["inputs"]
    return inputs


def locked_uv() -> tuple[str, list[str]]:
    text = UV_LOCK.read_text()
    version = re.search(r"^uv==(\S+)", text, re.MULTILINE)
    assert version, text
    return version.group(1), re.findall(r"--hash=sha256:([0-9a-f]{64})", text)


def run_install(tmp_path: Path, *, installer: str, uv_version: str, uv_hashes: str = "",
                extra_env: dict[str, str] | None = None
                ) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The install step's script in an app with no dependencies; returns the run and the tools
    root it may write."""
    step = install_step()
    app = tmp_path / "app"
    app.mkdir()
    (app / "pyproject.toml").write_text(
        '[project]\nname = "tiny"\nversion = "0.1.0"\nrequires-python = ">=3.8"\n'
        '[project.optional-dependencies]\ntest = ["iniconfig"]\n')
    tools, temp = tmp_path / "tools", tmp_path / "runner-temp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HOOPSTAT_", "UV_", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"))}
    env.update({
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        "COMMAND": "", "INSTALLER": installer, "POETRY_VERSION": "2.1.3",
        "POETRY_EXCLUDE_NEWER": "",
        "DEFAULT_POETRY_VERSION": str(step["env"]["DEFAULT_POETRY_VERSION"]),
        "DEFAULT_POETRY_EXCLUDE_NEWER": str(step["env"]["DEFAULT_POETRY_EXCLUDE_NEWER"]),
        "UV_VERSION": uv_version, "UV_HASHES": uv_hashes,
        "DEFAULT_UV_VERSION": str(step["env"]["DEFAULT_UV_VERSION"]),
        "DEFAULT_UV_HASHES": str(step["env"]["DEFAULT_UV_HASHES"]),
        "HOOPSTAT_FACTORY_TOOLS_ROOT": str(tools), "RUNNER_TEMP": str(temp),
        "GITHUB_ENV": str(temp / "env"), "GITHUB_PATH": str(temp / "path"),
        **(extra_env or {}),
    })
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                          cwd=app, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    return done, tools


def installed_uvs(tools: Path) -> list[Path]:
    return sorted(tools.glob("uv-*/bin/uv")) if tools.exists() else []


def test_default_uv_hashes_are_the_lock_files() -> None:
    """The workflow's recorded uv version and hashes are requirements/uv.txt's, and the
    uv-version input defaults to that version, so a lock update cannot leave the workflow
    trusting other files."""
    version, hashes = locked_uv()
    env = install_step()["env"]
    assert str(env["DEFAULT_UV_VERSION"]) == version
    assert str(env["DEFAULT_UV_HASHES"]).split() == hashes
    assert str(uv_inputs()["uv-version"]["default"]) == version
    assert uv_inputs()["uv-hashes"]["default"] == ""


def test_another_uv_version_without_hashes_is_refused(tmp_path: Path) -> None:
    """uv-version other than the default with no uv-hashes fails naming uv-hashes, and nothing
    is installed."""
    done, tools = run_install(tmp_path, installer="uv", uv_version="0.9.0")
    assert done.returncode == 1
    assert "::error title=uv-hashes needed::uv-version 0.9.0" in done.stdout
    assert not tools.exists()


@pytest.mark.parametrize(("version", "hashes", "title"), [
    ("0.9.0", "not-a-hash", "Invalid uv-hashes"),
    ("latest", "a" * 64, "Invalid uv-version"),
])
def test_malformed_uv_inputs_are_refused(tmp_path: Path, version: str, hashes: str,
                                         title: str) -> None:
    """A uv-hashes entry that is not a sha256 digest, or a uv-version that is not a release, is
    refused before anything is installed."""
    done, tools = run_install(tmp_path, installer="poetry", uv_version=version, uv_hashes=hashes)
    assert done.returncode == 1
    assert f"::error title={title}::" in done.stdout
    assert not tools.exists()


@pytest.mark.parametrize("installer", ["uv", "uv-pip"])
def test_a_uv_wheel_matching_no_hash_is_refused(tmp_path: Path, installer: str) -> None:
    """With hashes that match none of the release's wheels (a tampered index, say), pip refuses
    the download and the job fails before uv or anything else is installed."""
    version, _ = locked_uv()
    done, tools = run_install(tmp_path, installer=installer, uv_version=version,
                              uv_hashes="0" * 64)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "DO NOT MATCH THE HASHES" in done.stderr.upper(), done.stderr
    assert "::error title=uv install failed::" in done.stdout
    assert installed_uvs(tools) == []
    assert not (tmp_path / "runner-temp" / "env").exists()


def test_the_default_uv_installs_hash_checked_and_syncs(tmp_path: Path) -> None:
    """The default uv-version with no uv-hashes installs the locked wheel, marks it checked, and
    `uv sync` builds the app's environment, handed to later steps."""
    version, _ = locked_uv()
    done, tools = run_install(tmp_path, installer="uv", uv_version=version)
    assert done.returncode == 0, done.stdout + done.stderr
    (uv,) = installed_uvs(tools)
    assert (uv.parents[1] / ".hash-checked").exists()
    assert "--hash=sha256:" in uv.parents[1].with_name(uv.parents[1].name + ".txt").read_text()
    assert subprocess.run([str(uv), "--version"], capture_output=True, text=True,
                          check=True).stdout.split()[1] == version
    assert "VIRTUAL_ENV=" in (tmp_path / "runner-temp" / "env").read_text()


def test_uv_pip_installs_the_test_extra_with_the_hash_checked_uv(tmp_path: Path) -> None:
    """installer uv-pip installs the app's `.[test]` with ruff and pytest into a fresh
    environment through the hash-checked uv, and hands that environment to later steps."""
    version, _ = locked_uv()
    done, tools = run_install(tmp_path, installer="uv-pip", uv_version=version)
    assert done.returncode == 0, done.stdout + done.stderr
    (uv,) = installed_uvs(tools)
    assert (uv.parents[1] / ".hash-checked").exists()
    env_dir = tmp_path / "runner-temp" / "hoopstat-app-env"
    assert f"VIRTUAL_ENV={env_dir}" in (tmp_path / "runner-temp" / "env").read_text()
    assert (tmp_path / "runner-temp" / "path").read_text().strip() == str(env_dir / "bin")
    listed = subprocess.run([str(uv), "pip", "list", "--python", str(env_dir / "bin" / "python")],
                            capture_output=True, text=True, check=True).stdout
    names = {line.split()[0].lower() for line in listed.splitlines()[2:]}
    assert {"tiny", "iniconfig", "ruff", "pytest"} <= names
    assert "pip" not in names  # uv's environment: no ensurepip (~4 s a job)


def test_uv_pip_refuses_a_pip_index_it_would_ignore(tmp_path: Path) -> None:
    """With PIP_INDEX_URL set (a private index) and no uv index, installer uv-pip fails naming
    uv's settings instead of looking for the private packages on PyPI; nothing is installed."""
    version, _ = locked_uv()
    done, tools = run_install(tmp_path, installer="uv-pip", uv_version=version,
                              extra_env={"PIP_INDEX_URL": "https://pypi.example.internal/simple"})
    assert done.returncode == 1
    assert "::error title=Package index not passed to uv::" in done.stdout
    assert "UV_DEFAULT_INDEX" in done.stdout
    assert not tools.exists()
    assert not (tmp_path / "runner-temp" / "env").exists()


def test_poetry_defaults_match_the_inputs() -> None:
    """The workflow's recorded Poetry release is the poetry-version input's default, and its
    resolution instant is a UTC RFC 3339 time after that release (2.1.3: May 2025)."""
    env = install_step()["env"]
    assert str(uv_inputs()["poetry-version"]["default"]) == str(env["DEFAULT_POETRY_VERSION"])
    assert uv_inputs()["poetry-exclude-newer"]["default"] == ""
    instant = str(env["DEFAULT_POETRY_EXCLUDE_NEWER"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", instant)
    assert instant > "2025-05-05"


@pytest.mark.parametrize(("poetry_version", "exclude_newer", "title"), [
    ("2.2.1", "", "poetry-exclude-newer needed"),
    ("2.1.3", "yesterday\n::add-mask::x", "Invalid poetry-exclude-newer"),
    ("2.1.3; echo pwned", "", "Invalid poetry-version"),
])
def test_bad_poetry_inputs_are_refused(tmp_path: Path, poetry_version: str, exclude_newer: str,
                                       title: str) -> None:
    """Another poetry-version without a resolution instant, a malformed instant, or a malformed
    version is refused by name before anything is installed."""
    version, _ = locked_uv()
    done, tools = run_install(tmp_path, installer="poetry", uv_version=version, extra_env={
        "POETRY_VERSION": poetry_version, "POETRY_EXCLUDE_NEWER": exclude_newer})
    assert done.returncode == 1
    assert f"::error title={title}::" in done.stdout
    assert "pwned" not in done.stdout.replace("'2.1.3; echo pwned'", "")
    assert "\n::add-mask::" not in done.stdout  # the input's text cannot start a command line
    assert not tools.exists()


def test_poetry_is_resolved_from_the_index_as_it_stood(tmp_path: Path) -> None:
    """Poetry's resolution is frozen at poetry-exclude-newer: an instant before Poetry 2.1.3 was
    published finds no such release, and the job fails naming the instant (without the cutoff
    uv would install it)."""
    version, _ = locked_uv()
    done, tools = run_install(tmp_path, installer="poetry", uv_version=version, extra_env={
        "POETRY_EXCLUDE_NEWER": "2025-01-01T00:00:00Z"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "::error title=Poetry install failed::" in done.stdout
    assert "2025-01-01T00:00:00Z" in done.stdout
    assert not list(tools.glob("poetry-*/.installed"))
    assert not (tmp_path / "runner-temp" / "env").exists()
