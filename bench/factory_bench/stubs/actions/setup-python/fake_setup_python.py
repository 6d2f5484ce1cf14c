"""FAKE setup-python (bench stub, see action.yml): a fresh environment with the Python asked for.

Run by the runner's own ``python3`` with the standard library only (it is a stand-in for a
third-party action, not suite code, and must not import the suite). It writes the runner's
command files itself, as the real action does.

What a runner gives a job after ``actions/setup-python``: an interpreter of the requested version
with pip and nothing else installed. Here: an interpreter of that version found on this machine
(``PATH``, ``pythonX.Y``, pyenv's versions, ``uv python find``), never a virtualenv, turned into a
pristine venv once per patch version (the "tool cache", ``HOOPSTAT_BENCH_TOOLCACHE``) and copied
for every job, so no job sees what another installed. The copy hard-links the files (~0.2 s
instead of ~1.3 s for pip's ~1100 files here): pip and Python replace a file (a new inode), never
write into one, and the scripts this stub edits are replaced too. A job that wrote into an existing
file of its Python in place would change the tool cache: each job first checks the entry against
the sizes and times recorded when it was built, and rebuilds a changed one (saying so).
No version found: the step fails naming the version and how to install it. No
``PIP_IGNORE_REQUIRES_PYTHON``: pip enforces ``requires-python`` as on a runner.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REQUEST = re.compile(r"(?P<major>3)\.(?P<minor>\d{1,2})(?:\.(?P<patch>\d{1,2}))?")
PROBE = ("import json, sys; print(json.dumps([list(sys.version_info[:3]), "
         "sys.prefix != sys.base_prefix, sys.executable]))")
# Modules of the suite; a job that can import one is not in a runner's environment.
SUITE_MODULES = ("factory_bench", "factory_cli", "action_scripts", "hoopstat_runtime")


class SetupError(Exception):
    """The step fails with this title and message."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(message)
        self.title = title


def candidates(minor: str) -> list[Path]:
    """Interpreters that may be Python 3.<minor>, most specific first, without duplicates."""
    found: list[Path] = []
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        for name in (f"python3.{minor}", "python3"):
            path = Path(directory or ".") / name
            if path.is_file() and os.access(path, os.X_OK):
                found.append(path)
    roots = {Path(os.environ.get("PYENV_ROOT", "/root/.pyenv")), Path("/root/.pyenv"),
             Path.home() / ".pyenv"}
    for root in sorted(roots):
        for version in sorted((root / "versions").glob(f"3.{minor}*"), reverse=True):
            found.append(version / "bin" / "python3")
    uv = shutil.which("uv")
    if uv:
        done = subprocess.run([uv, "python", "find", "--system", f"3.{minor}"],
                              capture_output=True, text=True, timeout=30, check=False)
        if done.returncode == 0 and done.stdout.strip():
            found.append(Path(done.stdout.strip()))
    unique: list[Path] = []
    for path in found:
        if path.exists() and path not in unique:
            unique.append(path)
    return unique


def probe(python: Path) -> tuple[tuple[int, int, int], bool, str] | None:
    try:
        done = subprocess.run([str(python), "-I", "-c", PROBE], capture_output=True, text=True,
                              timeout=30, check=False)
    except OSError:
        return None
    if done.returncode != 0:
        return None
    version, in_venv, executable = json.loads(done.stdout)
    return (version[0], version[1], version[2]), bool(in_venv), str(executable)


def find_interpreter(requested: str) -> tuple[str, str]:
    """(version, path) of a base interpreter (not a venv) matching ``requested``."""
    match = REQUEST.fullmatch(requested.strip())
    if not match:
        raise SetupError("FAKE setup-python: unsupported version",
                         f"python-version '{requested}' is not 3.X or 3.X.Y; the bench stub "
                         "resolves only those forms.")
    minor, patch = int(match["minor"]), match["patch"]
    best: tuple[tuple[int, int, int], str] | None = None
    for path in candidates(match["minor"]):
        probed = probe(path)
        if probed is None:
            continue
        version, in_venv, executable = probed
        # A virtualenv (the suite's own, say) is not what a runner's tool cache holds.
        if in_venv or version[:2] != (3, minor) or (patch and version[2] != int(patch)):
            continue
        if best is None or version > best[0]:
            best = (version, executable)
    if best is None:
        raise SetupError(
            f"Python {requested} is not installed on this machine",
            f"The workflow asks actions/setup-python for Python {requested}; the bench has no "
            f"such interpreter (looked on PATH for python3.{minor}, in pyenv's versions and "
            f"with `uv python find`). Install it, e.g. `pyenv install {requested}`, "
            f"`uv python install {requested}` or your distribution's python3.{minor} package, "
            "then re-run; or change the app's python-version.",
        )
    return ".".join(map(str, best[0])), best[1]


def toolcache_entry(version: str, base: str) -> Path:
    """A pristine venv of ``base`` with pip only, made once per version, like a tool cache."""
    root = Path(os.environ.get("HOOPSTAT_BENCH_TOOLCACHE")
                or Path.home() / ".cache" / "hoopstat-bench" / "setup-python")
    # v2: entries carry a current pip (see below); v3: their scripts name the entry, not the
    # temporary directory it was built in (a job's `pip` had a dangling shebang).
    entry = root / f"{version}-{hashlib.sha256(base.encode()).hexdigest()[:12]}-v3"
    if (entry / "ready").exists():
        changed = changed_file(entry)
        if not changed:
            return entry
        # A job wrote into a file it shares with the entry by a hard link: never hand that on.
        print(f"FAKE setup-python: the tool cache entry {entry} changed since it was built "
              f"({changed}); rebuilding it", flush=True)
        trash = Path(tempfile.mkdtemp(prefix=".changed-", dir=root))
        entry.rename(trash / "entry")
        shutil.rmtree(trash, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=root))
    subprocess.run([base, "-m", "venv", "--clear", str(building / "venv")], check=True,
                   capture_output=True, timeout=300)
    # A runner's tool-cache Python comes with a current pip, not the one ensurepip bundled with
    # an older patch release (pip 23.2 backtracks for minutes where a current pip refuses an
    # unsatisfiable requires-python at once). From the package index, once per entry.
    upgraded = subprocess.run(
        [str(building / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", "--upgrade", "pip"],
        capture_output=True, text=True, timeout=300, check=False)
    if upgraded.returncode != 0:
        print(f"FAKE setup-python: could not upgrade pip from the index, keeping ensurepip's: "
              f"{upgraded.stderr.strip().splitlines()[-1:] or upgraded.returncode}", flush=True)
    relocate(building / "venv", old=building / "venv", new=entry / "venv")
    (building / "files.json").write_text(json.dumps(manifest(building / "venv")))
    (building / "ready").write_text(base + "\n")
    try:
        building.rename(entry)
    except OSError:  # another job made it first
        shutil.rmtree(building, ignore_errors=True)
    return entry


def manifest(venv: Path) -> dict[str, list[int]]:
    """Size and modification time of every regular file under ``venv``, by relative path."""
    found: dict[str, list[int]] = {}
    for directory, _, files in os.walk(venv):
        for name in files:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                info = os.stat(path)
                found[os.path.relpath(path, venv)] = [info.st_size, info.st_mtime_ns]
    return found


def changed_file(entry: Path) -> str:
    """The first file of ``entry`` that differs from its build-time manifest, or ""."""
    try:
        recorded = json.loads((entry / "files.json").read_text())
    except (OSError, ValueError):
        return "files.json unreadable"
    current = manifest(entry / "venv")
    for path in sorted(set(recorded) | set(current)):
        if recorded.get(path) != current.get(path):
            return path
    return ""


def fresh_environment(entry: Path, dest: Path) -> Path:
    """A hard-linked copy of the cached venv at ``dest`` (pyvenv.cfg names only the base, so it
    moves)."""
    shutil.copytree(entry / "venv", dest, symlinks=True, copy_function=os.link)
    relocate(dest, old=entry / "venv", new=dest)
    return dest / "bin" / "python"


def relocate(venv: Path, *, old: Path, new: Path) -> None:
    """Point the scripts in ``venv/bin`` that name ``old`` (pip's shebangs, activate's
    VIRTUAL_ENV) at ``new``; each is written as a new file, never into a hard link."""
    for script in (venv / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            text = script.read_bytes()
            if str(old).encode() in text:
                mode = script.stat().st_mode
                script.unlink()
                script.write_bytes(text.replace(str(old).encode(), str(new).encode()))
                script.chmod(mode)


def importable_suite(python: Path) -> list[str]:
    code = ("import importlib.util, sys; print(' '.join(m for m in sys.argv[1:] "
            "if importlib.util.find_spec(m)))")
    done = subprocess.run([str(python), "-c", code, *SUITE_MODULES], capture_output=True,
                          text=True, timeout=30, check=True, cwd=tempfile.gettempdir())
    return done.stdout.split()


def append(variable: str, text: str) -> None:
    with open(os.environ[variable], "a", encoding="utf-8") as handle:
        handle.write(text)


def main() -> int:
    requested = os.environ.get("REQUESTED", "")
    try:
        version, base = find_interpreter(requested)
        entry = toolcache_entry(version, base)
        runner_temp = Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir())
        dest = Path(tempfile.mkdtemp(prefix=f"setup-python-{version}-", dir=runner_temp))
        shutil.rmtree(dest)
        python = fresh_environment(entry, dest)
        leaked = importable_suite(python)
        if leaked:
            raise SetupError("FAKE setup-python: the suite leaks into the job",
                             f"{python} can import {', '.join(leaked)}; a runner's Python "
                             "could not.")
    except SetupError as exc:
        print(f"::error title={exc.title}::{exc}", flush=True)
        return 1
    print(f"FAKE setup-python: asked for '{requested}', providing Python {version} from {base} "
          f"in a fresh environment {dest} (pip only; nothing downloaded)", flush=True)
    append("GITHUB_PATH", f"{dest / 'bin'}\n")
    append("GITHUB_ENV", f"pythonLocation={dest}\nPIP_DISABLE_PIP_VERSION_CHECK=1\n")
    append("GITHUB_OUTPUT", f"python-version={version}\npython-path={python}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
