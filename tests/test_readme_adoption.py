"""The README's "Adopt in your app" section, followed command by command.

Every ```bash block of the section runs, in order, through bash in a scratch directory that holds
what the README assumes the reader has: an existing one-app repository (``box-scores``) and a
clone of a Hoopstat Haus-shaped monorepo (``hoopstat-haus``, from tests/fixtures). A block that
starts with ``cd`` starts where the reader's terminal would (the scratch directory); any other
block continues where the previous one ended, as in one terminal session. ``factory`` is this
checkout's CLI; nothing else is stubbed.
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
import yaml

from tests.helpers import SUITE_DIR

README = SUITE_DIR / "README.md"
FIXTURE = SUITE_DIR / "tests" / "fixtures" / "hoopstat-monorepo"
GIT_ENV = {"GIT_AUTHOR_NAME": "reader", "GIT_AUTHOR_EMAIL": "reader@example.com",
           "GIT_COMMITTER_NAME": "reader", "GIT_COMMITTER_EMAIL": "reader@example.com"}


def section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else len(text)]


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True, env={**os.environ, **GIT_ENV})
    return done.stdout


def reader_repo(path: Path, files: dict[str, str] | None = None, *, copy: Path | None = None,
                ) -> None:
    if copy is not None:
        shutil.copytree(copy, path)
    path.mkdir(exist_ok=True)
    for name, text in (files or {}).items():
        (path / name).write_text(text)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "the reader's code")


@pytest.fixture
def followed(tmp_path: Path) -> Path:
    """The scratch directory after every command of the section ran (each must succeed)."""
    blocks = bash_blocks(section(README.read_text(), "Adopt in your app"))
    assert len(blocks) == 4, "the section's commands changed: update this test's setup"
    reader_repo(tmp_path / "box-scores", {
        "pyproject.toml": '[project]\nname = "box-scores"\nversion = "0.1.0"\n',
        "handler.py": "def handler(event, context):\n    return {}\n",
    })
    reader_repo(tmp_path / "hoopstat-haus", copy=FIXTURE)
    env = {**os.environ, **GIT_ENV,
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    env.pop("GITHUB_ACTIONS", None)
    cwd = tmp_path
    for number, block in enumerate(blocks, start=1):
        if block.lstrip().startswith("cd "):
            cwd = tmp_path
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", block + '\npwd > "$PWD_FILE"\n'],
                              cwd=cwd, env={**env, "PWD_FILE": str(tmp_path / ".pwd")},
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, f"block {number}:\n{block}\n{done.stdout}{done.stderr}"
        cwd = Path((tmp_path / ".pwd").read_text().strip())
    return tmp_path


def test_every_command_of_the_adoption_section_works(followed: Path) -> None:
    """Each block ran as written, and each repository got its workflows at its root only."""
    assert (followed / "shot-charts" / ".github" / "workflows" / "deploy.yml").is_file()
    assert (followed / "shot-charts" / "Dockerfile").is_file()
    box = sorted(p.name for p in (followed / "box-scores" / ".github" / "workflows").iterdir())
    assert box == ["deploy.yml", "rollback.yml"]
    haus = followed / "hoopstat-haus"
    assert sorted(p.name for p in (haus / ".github" / "workflows").iterdir()) == [
        "deploy.yml", "rollback.yml", "terraform.yml"]
    assert not list((haus / "apps").rglob(".github"))


def test_monorepo_rerun_added_the_app_and_kept_the_options(followed: Path) -> None:
    """After the bare re-run, the rollback offers the new app, and the builder, Terraform
    directory and templates given the first time are still in force; both steps committed."""
    haus = followed / "hoopstat-haus"
    workflows = haus / ".github" / "workflows"
    rollback = yaml.safe_load((workflows / "rollback.yml").read_text())
    options = rollback[True]["workflow_dispatch"]["inputs"]["app"]["options"]
    assert options == ["box-score-api", "play-by-play", "standings-api"]
    assert "builder: docker" in (workflows / "deploy.yml").read_text()
    assert "infrastructure" in (workflows / "terraform.yml").read_text()
    manifest = json.loads((haus / ".github" / "hoopstat-factory.json").read_text())
    assert manifest["layout"] == "monorepo"
    assert manifest["values"]["terraform-dir"] == "infrastructure"
    assert git(haus, "status", "--porcelain") == ""
    assert git(haus, "log", "--format=%s").splitlines()[:2] == [
        "play-by-play", "Hoopstat Factory pipeline"]
