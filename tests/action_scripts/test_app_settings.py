"""app_settings: the one reader of an app's CI and deploy settings, and its errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from action_scripts import app_settings, changed_apps
from action_scripts.errors import FactoryError
from factory_bench.act import commit_all, git
from tests.helpers.runner_files import parse_file_commands

FULL = """\
[tool.poetry]
name = "box-score-api"

[tool.poetry.dependencies]
python = "^3.12"

[tool.hoopstat-factory]
depends-on = ["shared/schemas/"]
python = "3.13"
installer = "uv"
test-command = "python -m pytest -q tests"
lint-command = "ruff check ."

[tool.hoopstat-factory.deploy]
function = "hoopstat-box-score-api"
ecr-repository = "hoopstat-haus/prod"
tag-prefix = "box-score-api-"
dockerfile = "apps/box-score-api/Dockerfile"
context = "."
platform = "linux/arm64"
strategy = "linear-25-2"
alarms = ["box-errors", "box-throttles"]
smoke-payload = '{"game": "g1"}'
smoke-expect = '"ok": true'
"""


def make_app(root: Path, app: str, files: dict[str, str]) -> Path:
    app_dir = root / app
    for name, text in files.items():
        (app_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (app_dir / name).write_text(text)
    return app_dir


def error_of(root: Path, app: str, files: dict[str, str]) -> FactoryError:
    with pytest.raises(FactoryError) as raised:
        app_settings.load(make_app(root, app, files), repo_root=root)
    assert raised.value.reason == "invalid-input"
    return raised.value


def test_every_key_from_the_pyproject_table(tmp_path: Path) -> None:
    """Every documented key is read from [tool.hoopstat-factory] and its deploy table."""
    settings = app_settings.load(
        make_app(tmp_path, "apps/box-score-api", {"pyproject.toml": FULL}), repo_root=tmp_path
    )
    assert settings is not None and settings.deployable
    assert settings.source == "apps/box-score-api/pyproject.toml"
    assert (settings.python, settings.installer) == ("3.13", "uv")
    assert settings.depends_on == ("shared/schemas",) and settings.depends_on_declared
    assert (settings.test_command, settings.lint_command) == (
        "python -m pytest -q tests",
        "ruff check .",
    )
    assert settings.deploy == app_settings.Deploy(
        function="hoopstat-box-score-api",
        ecr_repository="hoopstat-haus/prod",
        tag_prefix="box-score-api-",
        dockerfile="apps/box-score-api/Dockerfile",
        context=".",
        platform="linux/arm64",
        strategy="linear-25-2",
        alarms=("box-errors", "box-throttles"),
        smoke_payload='{"game": "g1"}',
        smoke_expect='"ok": true',
    )


def test_settings_file_for_an_app_without_pyproject_and_its_defaults(tmp_path: Path) -> None:
    """apps/<app>/hoopstat-factory.toml holds the same keys at its top level; omitted deploy
    keys take their defaults (Dockerfile in the app, root context, amd64, all-at-once)."""
    settings = app_settings.load(
        make_app(
            tmp_path,
            "apps/scores",
            {
                "requirements.txt": "boto3\n",
                "hoopstat-factory.toml": '[deploy]\nfunction = "scores"\n'
                'ecr-repository = "hs/prod"\nsmoke-payload = { game = { id = 1 } }\n',
            },
        ),
        repo_root=tmp_path,
    )
    assert settings is not None and settings.deploy is not None
    assert settings.source == "apps/scores/hoopstat-factory.toml"
    assert (settings.installer, settings.python, settings.test_command) == (
        "uv-pip",
        "3.12",
        "python -m pytest",
    )
    inputs = settings.deploy.workflow_inputs()
    assert inputs == {
        "function-name": "scores",
        "ecr-repository": "hs/prod",
        "tag-prefix": "",
        "dockerfile": "apps/scores/Dockerfile",
        "context": ".",
        "platform": "linux/amd64",
        "strategy": "all-at-once",
        "alarm-names": "",
        "smoke-payload": '{"game":{"id":1}}',
        "smoke-expect": "",
    }


def test_app_without_settings_is_none_and_ci_defaults_follow_the_manifest(tmp_path: Path) -> None:
    """An app declaring nothing loads as None (CI-only); its CI defaults come from the manifest:
    Poetry's python constraint and installer, uv's lock, requires-python; a plain pyproject gets
    uv-pip, and an installer the app names wins."""
    poetry = make_app(
        tmp_path, "apps/a", {"pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\n'}
    )
    assert app_settings.load(poetry, repo_root=tmp_path) is None
    parsed = app_settings.parse(
        "apps/a",
        pyproject={"tool": {"poetry": {"dependencies": {"python": "^3.11"}}}},
        settings_file=None,
    )
    assert (parsed.configured, parsed.installer, parsed.python) == (False, "poetry", "3.11")
    uv = app_settings.parse(
        "apps/b",
        pyproject={"project": {"requires-python": ">=3.13"}},
        settings_file=None,
        files=["uv.lock"],
    )
    assert (uv.installer, uv.python) == ("uv", "3.13")
    plain = app_settings.parse(
        "apps/c", pyproject={"project": {"name": "c"}}, settings_file=None, files=["pyproject.toml"]
    )
    assert plain.installer == "uv-pip"
    chosen = app_settings.parse(
        "apps/d", pyproject={"tool": {"hoopstat-factory": {"installer": "pip"}}}, settings_file=None
    )
    assert chosen.installer == "pip"


def test_unknown_key_fails_naming_file_key_and_likely_fix(tmp_path: Path) -> None:
    """A misspelt key fails with the file, the key as written and the key it probably meant."""
    err = error_of(
        tmp_path,
        "apps/api",
        {
            "pyproject.toml": '[tool.hoopstat-factory.deploy]\nfunction = "api"\n'
            'ecr-repository = "hs/api"\necr-repo-prefix = "x"\n'
            '[tool.hoopstat-factory]\npyton = "3"\n',
        },
    )
    assert err.message.startswith("apps/api/pyproject.toml: ")
    assert "`tool.hoopstat-factory.pyton` is not a known key; did you mean `python`?" in err.fix
    assert "`tool.hoopstat-factory.deploy.ecr-repo-prefix` is not a known key" in err.fix


@pytest.mark.parametrize(
    "key,value,says",
    [
        ("platform", '"linux/arm"', "linux/amd64 or linux/arm64"),
        ("strategy", '"canary-150-5"', "percent 150"),
        ("function", '"my function"', "a Lambda function name"),
        ("ecr-repository", '"Hoopstat/Prod"', "an ECR repository name"),
        ("tag-prefix", '"-api"', "letters, digits"),
        ("tag-prefix", '"api"', "ending in `-`"),
        ("tag-prefix", '"my-src-"', "without `src-`"),
        ("tag-prefix", '"lambda-api-"', "not starting with `lambda-`"),
        ("dockerfile", '"../other/Dockerfile"', "relative to the repository root"),
        ("context", '"/abs"', "relative to the repository root"),
        ("alarms", '"one-alarm"', "list of alarm names"),
        ("smoke-payload", "'{not json'", "not valid JSON"),
        ("smoke-expect", "3", "text the reply must contain"),
    ],
)
def test_bad_deploy_values_fail_naming_the_key(
    tmp_path: Path, key: str, value: str, says: str
) -> None:
    """Each bad deploy value fails invalid-input naming the file, the key and what it must be."""
    base = {"function": '"api"', "ecr-repository": '"hs/api"', key: value}
    body = "\n".join(f"{k} = {v}" for k, v in base.items())
    err = error_of(tmp_path, "apps/api", {"hoopstat-factory.toml": f"[deploy]\n{body}\n"})
    assert err.message.startswith("apps/api/hoopstat-factory.toml: ")
    assert f"`deploy.{key}`" in err.fix and says in err.fix


@pytest.mark.parametrize(
    "text,says",
    [
        ('installer = "pipenv"', "poetry, uv, uv-pip, pip"),
        ('python = "3"', 'a Python version such as "3.12"'),
        ('depends-on = "libs/x"', "not a list of paths"),
        ('depends-on = ["../x"]', "no `..`"),
        ('lint-command = "a\\nb"', "a one-line shell command"),
        ("deploy = 1", "is not a table"),
        ('[deploy]\nplatform = "linux/amd64"', "`deploy.function` is missing"),
    ],
)
def test_bad_top_level_values_fail(tmp_path: Path, text: str, says: str) -> None:
    """Bad CI keys and a deploy table without its required keys fail naming the key."""
    err = error_of(tmp_path, "apps/api", {"hoopstat-factory.toml": text + "\n"})
    assert says in err.fix, err.fix


def test_settings_in_two_places_fail(tmp_path: Path) -> None:
    """Settings in both hoopstat-factory.toml and the pyproject table fail: one must go."""
    err = error_of(
        tmp_path,
        "apps/api",
        {
            "pyproject.toml": '[tool.hoopstat-factory]\npython = "3.12"\n',
            "hoopstat-factory.toml": 'python = "3.12"\n',
        },
    )
    assert err.title == "App settings in two places"


def test_unreadable_pyproject_fails_load_naming_it(tmp_path: Path) -> None:
    """load() (factory init's path) refuses an invalid pyproject.toml, naming the file."""
    err = error_of(tmp_path, "apps/api", {"pyproject.toml": "[tool.poetry\n"})
    assert err.message.startswith("apps/api/pyproject.toml is not valid TOML")


def test_two_apps_naming_one_function_fail(tmp_path: Path) -> None:
    """Two apps deploying to the same function (by name or ARN) fail naming both files."""
    deploy = '[deploy]\nfunction = "{f}"\necr-repository = "hs/prod"\ntag-prefix = "{p}"\n'
    a = app_settings.parse(
        "apps/a", pyproject=None, settings_file=deploy.format(f="stats", p="a-").encode()
    )
    b = app_settings.parse(
        "apps/b",
        pyproject=None,
        settings_file=deploy.format(
            f="arn:aws:lambda:us-east-1:123456789012:function:stats", p="b-"
        ).encode(),
    )
    with pytest.raises(FactoryError) as raised:
        app_settings.check_apart([a, b])
    assert "apps/a/hoopstat-factory.toml and apps/b/hoopstat-factory.toml" in raised.value.message
    assert raised.value.reason == "invalid-input"
    c = app_settings.parse(
        "apps/c", pyproject=None, settings_file=deploy.format(f="other", p="a-").encode()
    )
    with pytest.raises(FactoryError, match="same tag-prefix"):
        app_settings.check_apart([a, c])
    app_settings.check_apart(
        [
            a,
            app_settings.parse(
                "apps/d", pyproject=None, settings_file=(deploy.format(f="other", p="d-").encode())
            ),
        ]
    )


def test_app_dir_symlinked_outside_the_repository_fails(tmp_path: Path) -> None:
    """An app directory that is a symlink to a place outside the repository is refused."""
    outside = make_app(tmp_path, "elsewhere/api", {"hoopstat-factory.toml": 'python = "3.12"\n'})
    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    os.symlink(outside, repo / "apps" / "api")
    with pytest.raises(FactoryError) as raised:
        app_settings.load(repo / "apps" / "api", repo_root=repo)
    assert raised.value.title == "App directory outside the repository"
    assert "apps/api" in raised.value.message


# --- through changed-apps: every app's settings are checked on every run --------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "mono"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    make_app(root, "libs/core", {"pyproject.toml": '[project]\nname = "core"\n'})
    for app in ("a", "b"):
        make_app(
            root,
            f"apps/{app}",
            {
                "pyproject.toml": f'[project]\nname = "{app}"\ndependencies = ["core"]\n'
                f'[tool.hoopstat-factory.deploy]\nfunction = "fn-{app}"\n'
                f'ecr-repository = "hs/{app}"\n',
            },
        )
    commit_all(root, "initial")
    return root


def run(repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[int, str, str]:
    output, summary = tmp_path / "out.txt", tmp_path / "summary.md"
    output.write_text("")
    summary.write_text("")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    head = git(repo, "rev-parse", "HEAD")
    code = changed_apps.main(["--repo", str(repo), "--base", f"{head}~1", "--head", head])
    return code, output.read_text(), summary.read_text()


def test_changed_apps_fails_on_bad_settings_of_any_app(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A bad key in one app's settings fails the run (::error, invalid-input, summary with file,
    key and fix) even when only another app changed: no matrix is produced."""
    make_app(
        repo,
        "apps/b",
        {
            "pyproject.toml": '[project]\nname = "b"\n'
            '[tool.hoopstat-factory.deploy]\nfunction = "fn-b"\necr-repository = "hs/b"\n'
            'platfrom = "linux/arm64"\n'
        },
    )
    commit_all(repo, "b: typo")
    make_app(repo, "apps/a", {"main.py": "x = 1\n"})
    commit_all(repo, "a: change")
    code, output, summary = run(repo, monkeypatch, tmp_path)
    assert code == 1
    assert "failure-reason<<" in output and "invalid-input" in output
    assert "deploy-matrix" not in output
    assert "::error title=Invalid app settings::apps/b/pyproject.toml:" in capsys.readouterr().out
    assert (
        "`tool.hoopstat-factory.deploy.platfrom` is not a known key; did you mean `platform`?"
        in (summary)
    )


def test_changed_apps_fails_when_two_apps_name_one_function(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two apps naming the same function fail the run naming both files; nothing is listed."""
    make_app(
        repo,
        "apps/b",
        {
            "pyproject.toml": '[project]\nname = "b"\n'
            '[tool.hoopstat-factory.deploy]\nfunction = "fn-a"\necr-repository = "hs/b"\n'
        },
    )
    commit_all(repo, "b: same function as a")
    code, output, summary = run(repo, monkeypatch, tmp_path)
    assert code == 1 and "invalid-input" in output and "deploy-apps" not in output
    assert "apps/a/pyproject.toml and apps/b/pyproject.toml both set deploy.function" in summary


def test_changed_apps_fails_on_app_dir_linked_outside_the_repository(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An app directory committed as a symlink leaving the repository fails naming it."""
    os.symlink("../../../elsewhere", repo / "apps" / "c")
    commit_all(repo, "c: a link")
    code, output, summary = run(repo, monkeypatch, tmp_path)
    assert code == 1 and "invalid-input" in output
    assert "apps/c is a symlink to ../../../elsewhere, outside the repository." in summary


def test_deploy_matrix_carries_each_apps_settings(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A lib change deploys both apps, each matrix entry with its own function and repository."""
    make_app(repo, "libs/core", {"core.py": "X = 2\n"})
    commit_all(repo, "core: change")
    code, output, _ = run(repo, monkeypatch, tmp_path)
    assert code == 0
    entries = json.loads(parse_file_commands(output)["deploy-matrix"])["include"]
    assert [(e["app"], e["function-name"], e["ecr-repository"]) for e in entries] == [
        ("a", "fn-a", "hs/a"),
        ("b", "fn-b", "hs/b"),
    ]
