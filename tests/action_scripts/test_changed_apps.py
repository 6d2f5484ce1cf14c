"""factory changed-apps against real git repositories built in tmp."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from action_scripts import changed_apps
from factory_bench.act import commit_all, git


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
    assert json.loads(out["matrix"]) == {"include": [{"app": "web", "path": "apps/web"}]}
    assert out["count"] == "1"
    assert out["any"] == "true"
    assert "| `web` | its files changed |" in summary


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


def test_broken_pyproject_fails_readably(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An app's invalid pyproject.toml fails naming the file, instead of guessing."""
    base, head = change(monorepo, {"apps/web/pyproject.toml": "[project\n"})
    code, out, summary = run_cli(monorepo, monkeypatch, tmp_path, "--base", base, "--head", head)
    assert code == 1
    assert out["failure-reason"] == "invalid-input"
    assert "apps/web/pyproject.toml is not valid TOML" in summary


def test_three_git_processes_whatever_the_size(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One diff, and per directory one ls-tree and one cat-file: no per-file processes."""
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
    assert verbs.count("cat-file") == 2  # apps, then libs
    assert verbs.count("ls-tree") == 2
    assert len(calls) == 7  # + rev-parse of head and base
