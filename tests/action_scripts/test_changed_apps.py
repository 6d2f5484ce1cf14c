"""factory changed-apps against real git repositories built in tmp."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from action_scripts import app_settings, changed_apps
from factory_bench.act import commit_all, git
from tests.helpers import SUITE_DIR


def pyproject(name: str, *deps: str, extra: str = "") -> str:
    listed = ", ".join(f'"{d}"' for d in deps)
    return f'[project]\nname = "{name}"\nversion = "0.1.0"\ndependencies = [{listed}]\n{extra}'


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    """apps: api (uses runtime), ingest (uses stats -> runtime), web (none), docs-site (no
    pyproject); libs: runtime, stats (uses runtime), unused."""
    repo = tmp_path / "mono"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    files = {
        "README.md": "monorepo\n",
        "apps/api/pyproject.toml": pyproject("api", "Hoopstat_Runtime>=0.1", "boto3"),
        "apps/api/src/api/handler.py": "def handler(e, c):\n    return e\n",
        "apps/ingest/pyproject.toml": pyproject("ingest", "hoopstat-stats[fast]"),
        "apps/ingest/main.py": "print('ingest')\n",
        "apps/web/pyproject.toml": pyproject("web", "flask"),
        "apps/web/app.py": "app = None\n",
        "apps/docs-site/index.html": "<p>docs</p>\n",
        "libs/runtime/pyproject.toml": pyproject("hoopstat-runtime", "boto3"),
        "libs/runtime/src/runtime.py": "X = 1\n",
        "libs/stats/pyproject.toml": pyproject("hoopstat-stats", "hoopstat-runtime"),
        "libs/stats/stats.py": "Y = 1\n",
        "libs/unused/pyproject.toml": pyproject("hoopstat-unused"),
        "libs/unused/u.py": "Z = 1\n",
    }
    write(repo, files)
    commit_all(repo, "initial")
    return repo


def write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def change(repo: Path, files: dict[str, str], *, delete: tuple[str, ...] = ()) -> tuple[str, str]:
    """Commit a change; return (base, head) SHAs."""
    base = git(repo, "rev-parse", "HEAD")
    write(repo, files)
    for name in delete:
        (repo / name).unlink()
    return base, commit_all(repo, "change")


def run_cli(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str
) -> tuple[int, dict[str, str], str]:
    """Run main() as a workflow step would: outputs and summary land in the runner's files."""
    output = tmp_path / "output.txt"
    summary = tmp_path / "summary.md"
    output.write_text("")
    summary.write_text("")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code = changed_apps.main(["--repo", str(repo), *args])
    return code, parse_outputs(output.read_text()), summary.read_text()


def parse_outputs(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        name, _, delimiter = line.partition("<<")
        body = []
        for inner in lines:
            if inner == delimiter:
                break
            body.append(inner)
        values[name] = "\n".join(body)
    return values


def listed(repo: Path, base: str, head: str, **kw: str) -> list[str]:
    options = changed_apps.Options(
        repo=str(repo),
        base=base,
        head=head,
        event_name=kw.get("event_name", "push"),
        apps_dir="apps",
        libs_dir="libs",
        all_if_changed=tuple(filter(None, kw.get("all_if_changed", "").split(","))),
    )
    return list(changed_apps.compute(options).apps)


def test_app_change_lists_only_that_app(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A change inside one app lists exactly that app, as outputs a job matrix can use."""
    base, head = change(monorepo, {"apps/web/app.py": "app = 1\n"})
    code, out, summary = run_cli(monorepo, monkeypatch, tmp_path, "--base", base, "--head", head)
    assert code == 0
    assert json.loads(out["apps"]) == ["web"]
    assert json.loads(out["matrix"]) == {
        "include": [
            {
                "app": "web",
                "path": "apps/web",
                "deploy": False,
                "python": "3.12",
                "installer": "uv-pip",
                "test-command": "python -m pytest",
                "lint-command": "",
            }
        ]
    }
    assert out["count"] == "1"
    assert out["any"] == "true"
    assert json.loads(out["deploy-matrix"]) == {"include": []}
    assert out["deploy-any"] == "false"
    assert json.loads(out["ci-only-apps"]) == ["web"]
    assert "| `web` | CI only (no deploy settings) | its files changed |" in summary


def test_lib_change_lists_direct_and_transitive_users(monorepo: Path) -> None:
    """A change to a lib lists the apps using it directly and through another lib, no others."""
    base, head = change(monorepo, {"libs/runtime/src/runtime.py": "X = 2\n"})
    assert listed(monorepo, base, head) == ["api", "ingest"]
    options = changed_apps.Options(str(monorepo), base, head, "push", "apps", "libs", ())
    reasons = changed_apps.compute(options).reasons
    assert reasons["api"] == "uses libs/runtime"
    assert reasons["ingest"] == "uses libs/stats (which uses libs/runtime)"


def test_lib_used_only_by_one_app(monorepo: Path) -> None:
    """A change to libs/stats lists ingest (its only user), not api which uses only runtime."""
    base, head = change(monorepo, {"libs/stats/stats.py": "Y = 2\n"})
    assert listed(monorepo, base, head) == ["ingest"]


def test_unused_lib_and_root_files_list_nothing(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Changes to an unused lib and to root files list no app, and `any` says so."""
    base, head = change(monorepo, {"libs/unused/u.py": "Z = 2\n", "README.md": "new\n"})
    code, out, summary = run_cli(monorepo, monkeypatch, tmp_path, "--base", base, "--head", head)
    assert code == 0
    assert json.loads(out["apps"]) == []
    assert json.loads(out["matrix"]) == {"include": []}
    assert out["any"] == "false"
    assert "_No app changed._" in summary


def test_workflow_dispatch_lists_every_app(monorepo: Path) -> None:
    """On workflow_dispatch every app is listed, whatever changed (here: nothing)."""
    head = git(monorepo, "rev-parse", "HEAD")
    assert listed(monorepo, head, head, event_name="workflow_dispatch") == [
        "api",
        "docs-site",
        "ingest",
        "web",
    ]


def test_null_base_lists_every_app(monorepo: Path) -> None:
    """A first push (github.event.before is all zeros) lists every app."""
    head = git(monorepo, "rev-parse", "HEAD")
    assert len(listed(monorepo, "0" * 40, head)) == 4


def test_base_missing_from_history_lists_every_app_with_warning(
    monorepo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A base not in the checkout (shallow clone) lists every app and warns about fetch-depth."""
    head = git(monorepo, "rev-parse", "HEAD")
    assert len(listed(monorepo, "f" * 40, head)) == 4
    assert "fetch-depth: 0" in capsys.readouterr().out


def test_uv_path_source_and_depends_on_paths(monorepo: Path) -> None:
    """[tool.uv.sources] path entries and [tool.hoopstat-factory] depends-on paths count."""
    uv = '[tool.uv.sources]\nvendored = { path = "../../libs/unused" }\n'
    extra = '[tool.hoopstat-factory]\ndepends-on = ["shared/schemas"]\n'
    _, _ = change(
        monorepo,
        {
            "apps/web/pyproject.toml": pyproject("web", "flask", extra=uv),
            "apps/api/pyproject.toml": pyproject("api", "hoopstat-runtime", extra=extra),
            "shared/schemas/game.json": "{}\n",
        },
    )
    base, head = change(monorepo, {"libs/unused/u.py": "Z = 3\n"})
    assert listed(monorepo, base, head) == ["web"]
    base, head = change(monorepo, {"shared/schemas/game.json": '{"v": 2}\n'})
    assert listed(monorepo, base, head) == ["api"]


def test_dependencies_are_read_at_head_not_in_the_working_tree(monorepo: Path) -> None:
    """The dependency declared in the head commit counts, even if the working tree differs."""
    base, head = change(
        monorepo,
        {
            "apps/web/pyproject.toml": pyproject("web", "hoopstat-unused"),
            "libs/unused/u.py": "Z = 4\n",
        },
    )
    (monorepo / "apps/web/pyproject.toml").write_text(pyproject("web"))  # uncommitted
    assert listed(monorepo, base, head) == ["web"]
    # Only the lib changed now: web still uses it at head.
    base, head = change(monorepo, {"libs/unused/u.py": "Z = 5\n"})
    assert listed(monorepo, base, head) == ["web"]


def test_deleted_app_is_not_listed_and_moved_file_counts_twice(monorepo: Path) -> None:
    """An app deleted at head is not listed; a file moved between apps lists both apps."""
    base, head = change(monorepo, {}, delete=("apps/docs-site/index.html",))
    assert listed(monorepo, base, head) == []
    git(monorepo, "mv", "apps/web/app.py", "apps/ingest/app.py")
    base = git(monorepo, "rev-parse", "HEAD")
    head = commit_all(monorepo, "move")
    assert listed(monorepo, base, head) == ["ingest", "web"]


def test_all_if_changed_glob(monorepo: Path) -> None:
    """A changed path matching --all-if-changed lists every app; a non-matching one does not."""
    base, head = change(monorepo, {".github/workflows/deploy.yml": "on: push\n"})
    assert len(listed(monorepo, base, head, all_if_changed=".github/**")) == 4
    assert listed(monorepo, base, head, all_if_changed="docker/*.txt") == []


def test_branch_names_and_pr_merge_base(monorepo: Path) -> None:
    """Refs may be branch names; a PR lists only what its branch changed since the fork point."""
    git(monorepo, "checkout", "-q", "-b", "feature")
    change(monorepo, {"apps/web/app.py": "app = 'feature'\n"})
    git(monorepo, "checkout", "-q", "main")
    change(monorepo, {"apps/api/src/api/handler.py": "x = 1\n"})  # main moved on meanwhile
    assert listed(monorepo, "main", "feature") == ["web"]


def test_inputs_from_environment_like_an_action(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """INPUT_* variables work as inputs when no flags are given (the composite-action path)."""
    base, head = change(monorepo, {"apps/web/app.py": "app = 9\n"})
    monkeypatch.setenv("INPUT_BASE", base)
    monkeypatch.setenv("INPUT_HEAD", head)
    monkeypatch.setenv("INPUT_EVENT_NAME", "push")
    code, out, _ = run_cli(monorepo, monkeypatch, tmp_path)
    assert code == 0
    assert json.loads(out["apps"]) == ["web"]


@pytest.mark.parametrize(
    "args,name",
    [
        (["--base", "--upload-pack=touch /tmp/x"], "base"),
        (["--base", "main", "--head=-x"], "head"),
        (["--base", "main", "--apps-dir", "../outside"], "apps-dir"),
        (["--base", "main", "--libs-dir", "/abs"], "libs-dir"),
        (["--base", "a b"], "base"),
    ],
)
def test_bad_inputs_fail_naming_the_input(
    monorepo: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    name: str,
) -> None:
    """Option-like refs and paths leaving the repo fail invalid-input, naming the input."""
    code, out, _ = run_cli(monorepo, monkeypatch, tmp_path, *args)
    assert code == 1
    assert out["failure-reason"] == "invalid-input"
    assert f"::error title=Invalid input {name}::" in capsys.readouterr().out
    assert "apps" not in out


def test_unknown_head_fails(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A head that is not a commit fails with a fix, not with an empty list."""
    code, out, summary = run_cli(monorepo, monkeypatch, tmp_path, "--head", "no-such-branch")
    assert code == 1
    assert out["failure-reason"] == "invalid-input"
    assert "Head ref not found" in summary


def test_broken_pyproject_warns_naming_the_file_and_lists_the_app_for_ci(
    monorepo: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An app's invalid pyproject.toml is a warning naming the file; on a lib change the app is
    still listed for CI (its dependencies are unknown), never silently dropped, and not deployed."""
    change(monorepo, {"apps/web/pyproject.toml": "[project\n"})
    base, head = change(monorepo, {"libs/unused/u.py": "Z = 9\n"})
    code, out, summary = run_cli(monorepo, monkeypatch, tmp_path, "--base", base, "--head", head)
    assert code == 0
    assert "web" in json.loads(out["apps"])
    assert json.loads(out["deploy-apps"]) == []
    warnings = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith("::warning")
    ]
    assert any(
        "unreadable manifest" in w and "apps/web/pyproject.toml is not valid TOML" in w
        for w in warnings
    ), warnings
    assert "unreadable manifest" in summary


def test_three_git_processes_whatever_the_size(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One diff, one ls-tree and one cat-file for all apps and libs: no per-file processes."""
    write(monorepo, {f"apps/web/f{i}.py": f"x = {i}\n" for i in range(300)})
    base = git(monorepo, "rev-parse", "HEAD~0")
    head = commit_all(monorepo, "many")
    calls: list[list[str]] = []
    real = subprocess.run

    def counting(argv: list[str], **kw: object) -> subprocess.CompletedProcess[bytes]:
        calls.append(argv)
        return real(argv, **kw)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(changed_apps.subprocess, "run", counting)
    assert listed(monorepo, base, head) == ["web"]
    verbs = [argv[3] for argv in calls]
    assert verbs.count("diff") == 1
    assert verbs.count("cat-file") == 1
    assert verbs.count("ls-tree") == 1
    assert len(calls) == 5  # + rev-parse of head and base


# --- the Hoopstat Haus-shaped fixture (tests/fixtures/hoopstat-monorepo) ----------------------

HOOPSTAT = SUITE_DIR / "tests" / "fixtures" / "hoopstat-monorepo"
LAMBDA_APPS = ["box-score-api", "standings-api"]


@pytest.fixture
def hoopstat(tmp_path: Path) -> Path:
    """A git repository made from the fixture, committed once."""
    repo = tmp_path / "hoopstat-haus"
    shutil.copytree(HOOPSTAT, repo)
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "hoopstat-haus monorepo")
    return repo


def run_in(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str
) -> tuple[int, dict[str, str], str]:
    return run_cli(repo, monkeypatch, tmp_path, *args)


def sets(out: dict[str, str]) -> tuple[list[str], list[str]]:
    """(CI set, deploy set) from the outputs, checked against their matrices."""
    ci, deploy = json.loads(out["apps"]), json.loads(out["deploy-apps"])
    assert [e["app"] for e in json.loads(out["matrix"])["include"]] == ci
    assert [e["app"] for e in json.loads(out["deploy-matrix"])["include"]] == deploy
    assert out["any"] == ("true" if ci else "false")
    assert out["deploy-any"] == ("true" if deploy else "false")
    return ci, deploy


def edit(repo: Path, path: str, old: str, new: str) -> None:
    target = repo / path
    text = target.read_text()
    assert old in text, (path, old)
    target.write_text(text.replace(old, new))


def test_hoopstat_lib_change_deploys_the_lambda_apps_and_runs_ci_for_the_batch_job(
    hoopstat: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A code change to hoopstat-s3 (Poetry path deps) lists both Lambda apps and the non-Lambda
    game-ingest for CI, and only the two Lambda apps for deploy, each with its settings."""
    base = git(hoopstat, "rev-parse", "HEAD")
    edit(hoopstat, "libs/hoopstat-s3/hoopstat_s3/__init__.py", "s3-v1", "s3-v2")
    head = commit_all(hoopstat, "s3: v2")
    code, out, summary = run_in(hoopstat, monkeypatch, tmp_path, "--base", base, "--head", head)
    assert code == 0
    assert sets(out) == (["box-score-api", "game-ingest", "standings-api"], LAMBDA_APPS)
    assert json.loads(out["ci-only-apps"]) == ["game-ingest"]
    assert json.loads(out["changed-libs"]) == ["libs/hoopstat-s3", "libs/hoopstat-testkit"]
    deploy = json.loads(out["deploy-matrix"])["include"]
    assert deploy[0] == {
        "app": "box-score-api",
        "path": "apps/box-score-api",
        "function-name": "hoopstat-box-score-api",
        "ecr-repository": "hoopstat-haus/prod",
        "tag-prefix": "box-score-api-",
        "dockerfile": "apps/box-score-api/Dockerfile",
        "context": ".",
        "platform": "linux/amd64",
        "strategy": "canary-10-5",
        "alarm-names": "hoopstat-box-score-api-errors",
        "smoke-payload": '{"source":"smoke-test"}',
        "smoke-expect": '"app": "box-score-api"',
    }
    assert deploy[1]["tag-prefix"] == "standings-api-"
    ci = {e["app"]: e for e in json.loads(out["matrix"])["include"]}
    assert ci["game-ingest"]["deploy"] is False and ci["box-score-api"]["deploy"] is True
    assert ci["game-ingest"]["installer"] == "poetry" and ci["game-ingest"]["python"] == "3.12"
    assert ci["game-ingest"]["test-command"] == "python -m pytest -q"
    assert ci["box-score-api"]["lint-command"] == "ruff check ."
    assert "| `game-ingest` | CI only (no deploy settings) | uses libs/hoopstat-s3 |" in summary
    assert "::warning" not in capsys.readouterr().out


def test_hoopstat_test_only_lib_change_runs_ci_and_deploys_nothing(
    hoopstat: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A change to hoopstat-testkit, used only from dev groups, lists its users for CI and
    deploys nothing."""
    base = git(hoopstat, "rev-parse", "HEAD")
    edit(hoopstat, "libs/hoopstat-testkit/hoopstat_testkit/__init__.py", '"g1"', '"g2"')
    head = commit_all(hoopstat, "testkit: new default game")
    code, out, summary = run_in(hoopstat, monkeypatch, tmp_path, "--base", base, "--head", head)
    assert code == 0
    assert sets(out) == (["box-score-api", "game-ingest"], [])
    assert (
        "| `box-score-api` | CI only (no runtime change) | its tests use libs/hoopstat-testkit"
        in (summary)
    )


def test_hoopstat_lib_to_lib_change_reaches_apps_through_the_other_lib(
    hoopstat: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A change to hoopstat-core, used by apps only through hoopstat-stats, deploys the two apps
    that use hoopstat-stats and leaves game-ingest out."""
    base = git(hoopstat, "rev-parse", "HEAD")
    edit(hoopstat, "libs/hoopstat-core/hoopstat_core/__init__.py", "core-v1", "core-v2")
    head = commit_all(hoopstat, "core: v2")
    code, out, _ = run_in(hoopstat, monkeypatch, tmp_path, "--base", base, "--head", head)
    assert code == 0
    assert sets(out) == (LAMBDA_APPS, LAMBDA_APPS)
    options = changed_apps.Options(str(hoopstat), base, head, "push", "apps", "libs", ())
    reasons = changed_apps.compute(options).reasons
    assert reasons["standings-api"] == "uses libs/hoopstat-stats (which uses libs/hoopstat-core)"


def test_hoopstat_app_only_change_deploys_that_app(
    hoopstat: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A change inside apps/standings-api lists and deploys exactly that app."""
    base = git(hoopstat, "rev-parse", "HEAD")
    edit(hoopstat, "apps/standings-api/app/handler.py", "**versions()", '"v": 2, **versions()')
    head = commit_all(hoopstat, "standings: v2")
    code, out, _ = run_in(hoopstat, monkeypatch, tmp_path, "--base", base, "--head", head)
    assert code == 0
    assert sets(out) == (["standings-api"], ["standings-api"])


def test_hoopstat_dependabot_bump_across_all_libs(
    hoopstat: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A dependabot-style bump of every lib's pyproject.toml lists every app using a lib for CI
    and deploys the Lambda ones; local-proxy, which uses none, is not listed."""
    base = git(hoopstat, "rev-parse", "HEAD")
    for lib in ("hoopstat-core", "hoopstat-stats", "hoopstat-s3", "hoopstat-testkit"):
        edit(hoopstat, f"libs/{lib}/pyproject.toml", 'pytest = "^8.3.0"', 'pytest = "^8.4.1"')
    head = commit_all(hoopstat, "Bump pytest from 8.3.0 to 8.4.1 in /libs")
    code, out, _ = run_in(hoopstat, monkeypatch, tmp_path, "--base", base, "--head", head)
    assert code == 0
    assert sets(out) == (["box-score-api", "game-ingest", "standings-api"], LAMBDA_APPS)
    assert len(json.loads(out["changed-libs"])) == 4


def test_hoopstat_workflow_dispatch_lists_every_app_and_deploys_the_deployable(
    hoopstat: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """workflow_dispatch lists all four apps for CI and the two with deploy settings for deploy."""
    head = git(hoopstat, "rev-parse", "HEAD")
    code, out, _ = run_in(
        hoopstat, monkeypatch, tmp_path, "--base", head, "--event-name", "workflow_dispatch"
    )
    assert code == 0
    assert sets(out) == (
        ["box-score-api", "game-ingest", "local-proxy", "standings-api"],
        LAMBDA_APPS,
    )
    assert json.loads(out["ci-only-apps"]) == ["game-ingest", "local-proxy"]


def test_hoopstat_unreadable_manifest_warns_naming_the_file(
    hoopstat: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A Lambda app whose pyproject.toml is broken gets a warning naming that file; a lib change
    still lists it for CI, and it is not deployed while its settings cannot be read."""
    edit(hoopstat, "apps/standings-api/pyproject.toml", "[tool.poetry.dependencies]", "[tool.po")
    base = commit_all(hoopstat, "broken manifest")
    edit(hoopstat, "libs/hoopstat-core/hoopstat_core/__init__.py", "core-v1", "core-v2")
    head = commit_all(hoopstat, "core: v2")
    code, out, _ = run_in(hoopstat, monkeypatch, tmp_path, "--base", base, "--head", head)
    assert code == 0
    assert sets(out) == (LAMBDA_APPS, ["box-score-api"])
    warnings = [x for x in capsys.readouterr().out.splitlines() if x.startswith("::warning")]
    assert len(warnings) == 1
    assert "unreadable manifest::apps/standings-api/pyproject.toml is not valid TOML" in warnings[0]


def test_hoopstat_app_without_local_deps_while_libs_exist_warns(
    hoopstat: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An app naming no library while libs/ exist gets a warning naming its manifest, unless it
    says `depends-on = []` (which the fixture's local-proxy does)."""
    base = git(hoopstat, "rev-parse", "HEAD")
    code, _, _ = run_in(hoopstat, monkeypatch, tmp_path, "--base", base, "--head", base)
    assert code == 0
    assert "::warning" not in capsys.readouterr().out  # depends-on = [] says "none, on purpose"
    edit(hoopstat, "apps/local-proxy/pyproject.toml", "depends-on = []\n", "")
    head = commit_all(hoopstat, "proxy: forget depends-on")
    code, out, _ = run_in(hoopstat, monkeypatch, tmp_path, "--base", base, "--head", head)
    assert code == 0
    assert sets(out) == (["local-proxy"], [])
    warnings = [x for x in capsys.readouterr().out.splitlines() if x.startswith("::warning")]
    assert len(warnings) == 1
    assert (
        "app without local dependencies::apps/local-proxy/pyproject.toml names no library"
        in (warnings[0])
    )


def test_hoopstat_lib_change_reaching_no_app_is_reported(
    hoopstat: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A change to a library no app uses lists nothing, and says so in a notice and the summary."""
    write(
        hoopstat,
        {
            "libs/hoopstat-sandbox/pyproject.toml": '[tool.poetry]\nname = "hoopstat-sandbox"\n',
            "libs/hoopstat-sandbox/sandbox.py": "X = 1\n",
        },
    )
    base = commit_all(hoopstat, "sandbox lib")
    write(hoopstat, {"libs/hoopstat-sandbox/sandbox.py": "X = 2\n"})
    head = commit_all(hoopstat, "sandbox: change")
    code, out, summary = run_in(hoopstat, monkeypatch, tmp_path, "--base", base, "--head", head)
    assert code == 0
    assert sets(out) == ([], [])
    assert (
        "::notice title=changed-apps%3A library change reaches no app::libs/hoopstat-sandbox"
        in (capsys.readouterr().out)
    )
    assert "`libs/hoopstat-sandbox` changed but reaches no app." in summary


def test_hoopstat_fixture_is_shaped_like_the_real_repository() -> None:
    """The fixture has the facts issue 12 lists: Lambda and slim images built from the root,
    offline bench stand-ins, Poetry path deps with develop = true, one shared ECR repository."""
    apps = sorted(p.name for p in (HOOPSTAT / "apps").iterdir())
    assert len(apps) >= 4 and len(list((HOOPSTAT / "libs").iterdir())) >= 4
    bases = {a: (HOOPSTAT / "apps" / a / "Dockerfile").read_text() for a in apps}
    assert [a for a in apps if "FROM public.ecr.aws/lambda/python:3.12" in bases[a]] == LAMBDA_APPS
    assert all("FROM python:3.12-slim" in bases[a] for a in apps if a not in LAMBDA_APPS)
    for app in apps:
        assert f"COPY apps/{app}/" in bases[app]
        bench = (HOOPSTAT / "apps" / app / "Dockerfile.bench").read_text()
        assert "FROM scratch" in bench and "TEST-ONLY" in bench
    assert "COPY libs/hoopstat-core/" in bases["box-score-api"]
    settings = {a: app_settings.load(HOOPSTAT / "apps" / a, repo_root=HOOPSTAT) for a in apps}
    deploys = {a: s.deploy for a, s in settings.items() if s and s.deploy}
    assert sorted(deploys) == LAMBDA_APPS
    assert {d.ecr_repository for d in deploys.values()} == {"hoopstat-haus/prod"}
    assert {d.tag_prefix for d in deploys.values()} == {"box-score-api-", "standings-api-"}
    assert "develop = true" in (HOOPSTAT / "apps/game-ingest/pyproject.toml").read_text()


# --- one manifest kind at a time, in the shapes real projects write ----------------------------

LIBS = {
    "libs/core/pyproject.toml": '[project]\nname = "acme-core"\nversion = "1"\n',
    "libs/core/acme_core.py": "X = 1\n",
    "libs/testkit/pyproject.toml": '[project]\nname = "acme-testkit"\nversion = "1"\n',
    "libs/testkit/acme_testkit.py": "X = 1\n",
}
SETTINGS = '[deploy]\nfunction = "acme-api"\necr-repository = "acme/api"\n'

MANIFESTS: dict[str, dict[str, str]] = {
    "poetry": {
        "pyproject.toml": """\
[tool.poetry]
name = "api"
version = "0.1.0"
package-mode = false

[tool.poetry.dependencies]
python = ">=3.12,<3.13"
acme-core = {path = "../../libs/core", develop = true}
boto3 = "^1.35"

[tool.poetry.group.test.dependencies]
pytest = "^8"
acme-testkit = {path = "../../libs/testkit", develop = true}
""",
    },
    "poetry-legacy-dev": {
        "pyproject.toml": """\
[tool.poetry]
name = "api"
version = "0.1.0"

[tool.poetry.dependencies]
python = "^3.11"
acme-core = [
    {path = "../../libs/core", develop = true, markers = "sys_platform == 'linux'"},
    {version = "^1", markers = "sys_platform != 'linux'"},
]

[tool.poetry.dev-dependencies]
acme-testkit = {path = "../../libs/testkit"}
""",
    },
    "pep621-uv": {
        "pyproject.toml": """\
[project]
name = "api"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = ["acme-core", "boto3>=1.35"]

[dependency-groups]
dev = ["pytest>=8", "acme-testkit", {include-group = "lint"}]
lint = ["ruff"]

[tool.uv.sources]
acme-core = { path = "../../libs/core", editable = true }
acme-testkit = { path = "../../libs/testkit" }
""",
    },
    "uv-workspace": {
        "pyproject.toml": """\
[project]
name = "api"
version = "0.1.0"
dependencies = ["acme-core"]

[project.optional-dependencies]
test = ["acme-testkit"]

[tool.uv.sources]
acme-core = { workspace = true }
acme-testkit = { workspace = true }
""",
    },
    "pdm": {
        "pyproject.toml": """\
[project]
name = "api"
version = "0.1.0"
dependencies = ["acme-core @ file:///${PROJECT_ROOT}/../../libs/core"]

[tool.pdm.dev-dependencies]
test = ["-e file:///${PROJECT_ROOT}/../../libs/testkit#egg=acme-testkit", "pytest"]
""",
    },
    "hatch": {
        "pyproject.toml": """\
[project]
name = "api"
version = "0.1.0"
dependencies = ["acme-core @ {root:uri}/../../libs/core"]

[tool.hatch.metadata]
allow-direct-references = true

[tool.hatch.envs.default]
dependencies = ["acme-testkit @ {root:uri}/../../libs/testkit", "pytest"]
""",
    },
    "requirements": {
        "requirements.txt": """\
# runtime
boto3==1.35.0 \\
    --hash=sha256:0000
-r requirements/base.txt
""",
        "requirements/base.txt": "-e ../../libs/core  # local lib\n",
        "requirements-dev.txt": (
            "-r requirements.txt\npytest>=8\nacme-testkit @ file:../../libs/testkit\n"
        ),
    },
    "requirements-bare-paths": {
        "requirements.txt": "--index-url https://pypi.org/simple\n../../libs/core\n",
        "dev-requirements.txt": "./../../libs/testkit\n",
    },
}


@pytest.fixture(params=sorted(MANIFESTS))
def kind_repo(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    repo = tmp_path / "acme"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    files = {f"apps/api/{name}": text for name, text in MANIFESTS[request.param].items()}
    write(
        repo,
        {
            **LIBS,
            **files,
            "apps/api/hoopstat-factory.toml": SETTINGS,
            "apps/api/main.py": "",
        },
    )
    commit_all(repo, "initial")
    return repo


def test_each_manifest_kind_runtime_dep_deploys_and_dev_dep_runs_ci_only(
    kind_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """For Poetry, PEP 621 + uv, uv workspaces, PDM, Hatch and requirements files: a change to
    the runtime lib lists the app for CI and deploy, a change to the test lib for CI only."""
    base, head = change(kind_repo, {"libs/core/acme_core.py": "X = 2\n"})
    result = changed_apps.compute(
        changed_apps.Options(str(kind_repo), base, head, "push", "apps", "libs", ())
    )
    assert (result.apps, result.deploy) == (("api",), ("api",)), result.reasons
    base, head = change(kind_repo, {"libs/testkit/acme_testkit.py": "X = 2\n"})
    result = changed_apps.compute(
        changed_apps.Options(str(kind_repo), base, head, "push", "apps", "libs", ())
    )
    assert (result.apps, result.deploy) == (("api",), ()), result.reasons
    assert "::warning" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("acme-core>=1; python_version >= '3.12'", ("acme-core", None)),
        ("Acme_Core[s3] @ file:///${PROJECT_ROOT}/../../libs/core", ("acme-core", "libs/core")),
        ("acme-core @ file:../../libs/core", ("acme-core", "libs/core")),
        ("acme-core @ {root:uri}/../../libs/core", ("acme-core", "libs/core")),
        ("file:../../libs/core#egg=acme_core", ("acme-core", "libs/core")),
        ("../../libs/core", ("", "libs/core")),
        ("acme-core @ file:///home/dev/acme/libs/core", ("acme-core", None)),
        ("acme-core @ git+https://github.com/acme/core@v1", ("acme-core", None)),
        ("../../../outside", ("", None)),
    ],
)
def test_requirement_strings(spec: str, expected: tuple[str, str | None]) -> None:
    """Requirement strings give the normalized name and the repo-relative local path (none for
    remote, absolute or out-of-repo targets)."""
    assert changed_apps.requirement(spec, base="apps/api") == expected


def test_lib_cycle_and_lib_dev_deps(tmp_path: Path) -> None:
    """Libraries depending on each other in a cycle are fine; a library's own dev dependency is
    not followed to the apps that use it (it is never installed into them)."""
    repo = tmp_path / "cycle"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write(
        repo,
        {
            "libs/a/pyproject.toml": '[project]\nname = "a"\ndependencies = ["b"]\n',
            "libs/b/pyproject.toml": '[project]\nname = "b"\ndependencies = ["a"]\n'
            '[dependency-groups]\ndev = ["c"]\n',
            "libs/c/pyproject.toml": '[project]\nname = "c"\n',
            "apps/api/pyproject.toml": '[project]\nname = "api"\ndependencies = ["a"]\n',
        },
    )
    commit_all(repo, "initial")
    base, head = change(repo, {"libs/b/b.py": "X = 1\n"})
    assert listed(repo, base, head) == ["api"]
    base, head = change(repo, {"libs/c/c.py": "X = 1\n"})
    assert listed(repo, base, head) == []
