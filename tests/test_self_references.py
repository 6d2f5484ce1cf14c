"""The suite's references to itself: one ref everywhere, existing targets, matching inputs,
and a release that rewrites them (run in a scratch copy of the repo)."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from factory_bench.act import commit_all, git
from factory_bench.testing import need_tool
from factory_cli import init_repo
from tests.helpers import SUITE_DIR


def load_release() -> ModuleType:
    spec = importlib.util.spec_from_file_location("release", SUITE_DIR / "scripts" / "release.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["release"] = module  # dataclasses look their module up while decorating
    spec.loader.exec_module(module)
    return module


release = load_release()
WORKFLOWS = sorted((SUITE_DIR / ".github" / "workflows").glob("*.yml"))
TEMPLATES = sorted((SUITE_DIR / "workflow-templates").glob("*.yml"))


def references(paths: list[Path]) -> list[re.Match[str]]:
    return [m for p in paths for m in release.SELF_REFERENCE.finditer(p.read_text())]


def test_reusable_workflows_use_one_ref() -> None:
    """Every self-reference in .github/workflows points at the same ref."""
    found = references(WORKFLOWS)
    assert len(found) >= 10
    assert {m["ref"] for m in found} == {m["ref"] for m in found[:1]}, sorted(
        {m["ref"] for m in found}
    )


def test_workflow_templates_use_one_pin() -> None:
    """The org templates pin one ref; a SHA pin carries a vX.Y.Z comment, else it is the
    workflows' ref (unreleased)."""
    found = references(TEMPLATES)
    assert len(found) >= 4
    pins = {(m["ref"], (m["comment"] or "").strip()) for m in found}
    assert len(pins) == 1, pins
    ((ref, comment),) = pins
    if re.fullmatch(r"[0-9a-f]{40}", ref):
        assert re.fullmatch(r"#\s*v\d+\.\d+\.\d+", comment), comment
    else:
        assert ref == references(WORKFLOWS)[0]["ref"]


def test_workflow_templates_are_up_to_date() -> None:
    """workflow-templates/*.yml are exactly the Jinja sources rendered with the recorded release."""
    sha, version = init_repo.released()
    expected = init_repo.render_workflow_templates(
        suite=release.SUITE, ref=sha or "main", version=version
    )
    actual = {p.name: p.read_text() for p in TEMPLATES}
    assert actual == expected, (
        "stale: run `python -m factory_cli.init_repo --workflow-templates workflow-templates`"
    )
    for name in expected:
        props_path = SUITE_DIR / "workflow-templates" / name.replace(".yml", ".properties.json")
        props = json.loads(props_path.read_text())
        assert {"name", "description", "iconName", "categories", "filePatterns"} <= set(props)


def _callee(target: str) -> dict[str, Any]:
    relative = target.removeprefix(release.SUITE + "/")
    path = (
        SUITE_DIR / relative / "action.yml"
        if relative.startswith("actions/")
        else (SUITE_DIR / relative)
    )
    assert path.is_file(), f"{target} does not exist in the suite"
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def _declared_inputs(callee: dict[str, Any]) -> dict[str, Any]:
    on = callee.get("on") or callee.get(True) or {}  # PyYAML reads `on:` as True
    if isinstance(on, dict) and "workflow_call" in on:
        return (on["workflow_call"] or {}).get("inputs") or {}
    return callee.get("inputs") or {}


def _uses_with(node: Any) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        uses = node.get("uses")
        if isinstance(uses, str) and uses.startswith(release.SUITE + "/"):
            found.append((uses.split("@")[0], node.get("with") or {}))
        for value in node.values():
            found += _uses_with(value)
    elif isinstance(node, list):
        for item in node:
            found += _uses_with(item)
    return found


@pytest.mark.parametrize(
    "path",
    [p for p in [*WORKFLOWS, *TEMPLATES] if release.SELF_REFERENCE.search(p.read_text())],
    ids=lambda p: str(p.relative_to(SUITE_DIR)),
)
def test_calls_match_the_callee_inputs(path: Path) -> None:
    """Each call of an action or reusable workflow of the suite passes only inputs the callee
    declares and every input it requires (actionlint cannot check remote callees)."""
    calls = _uses_with(yaml.safe_load(path.read_text()))
    assert calls
    for target, given in calls:
        declared = _declared_inputs(_callee(target))
        assert set(given) <= set(declared), (target, set(given) - set(declared))
        required = {n for n, spec in declared.items() if (spec or {}).get("required")}
        assert required <= set(given), (target, required - set(given))


@pytest.fixture
def scratch_suite(tmp_path: Path) -> Path:
    """A git copy of the parts of the suite a release touches."""
    repo = tmp_path / "suite"
    for part in (".github/workflows", "actions", "workflow-templates", "cli/factory_cli/templates"):
        shutil.copytree(SUITE_DIR / part, repo / part)
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "suite")
    return repo


def run_release(repo: Path, *args: str) -> int:
    code: int = release.main([*args, "--repo", str(repo)])
    return code


SHA = re.compile(r"[0-9a-f]{40}")
RELEASED_GLOBS = (".github/workflows/*.yml", "actions/*/action.yml", "workflow-templates/*.yml")


def suite_uses(text: str) -> list[str]:
    """Every `uses:` value naming the suite (comments and placeholders are not calls)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            uses = node.get("uses")
            if isinstance(uses, str) and uses.startswith(release.SUITE + "/"):
                found.append(uses)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load(text))
    return found


def released_files(repo: Path, commit: str) -> dict[str, str]:
    listed = git(repo, "ls-tree", "-r", "--name-only", commit).splitlines()
    return {
        name: git(repo, "show", f"{commit}:{name}")
        for name in listed
        if any(Path(name).match(glob) for glob in RELEASED_GLOBS)
    }


def test_release_pins_every_self_reference_to_a_commit_sha(
    scratch_suite: Path, tmp_path: Path
) -> None:
    """A release tags a commit in which every suite `uses:` (workflows, actions, templates) is a
    40-hex commit SHA: the workflows call the actions commit (the branch's HEAD, whose actions/
    tree the tag carries unchanged), the templates call the workflows commit; vX moves with it,
    the branch keeps @main and its templates pin the tag's SHA with a # vX.Y.Z comment."""
    repo = scratch_suite
    actions_commit = git(repo, "rev-parse", "HEAD")
    assert run_release(repo, "v0.1.0") == 0
    sha = git(repo, "rev-list", "-n1", "v0.1.0")
    assert git(repo, "rev-list", "-n1", "v0") == sha
    workflows_commit = git(repo, "rev-parse", f"{sha}^")
    assert git(repo, "rev-parse", f"{sha}^^") == actions_commit

    files = released_files(repo, sha)
    assert any(n.startswith("workflow-templates/") for n in files)
    calls = {name: suite_uses(text) for name, text in files.items()}
    assert sum(map(len, calls.values())) >= 14, calls
    unpinned = [(n, u) for n, found in calls.items() for u in found
                if not SHA.fullmatch(u.rsplit("@", 1)[1])]
    assert unpinned == []
    workflow_refs = {u.rsplit("@", 1)[1] for n, found in calls.items() for u in found
                     if n.startswith(".github/workflows/")}
    template_refs = {u.rsplit("@", 1)[1] for n, found in calls.items() for u in found
                     if n.startswith("workflow-templates/")}
    assert workflow_refs == {actions_commit}
    assert template_refs == {workflows_commit}
    # What those SHAs point at is what the tag carries: the same actions and workflows.
    assert git(repo, "diff", "--stat", actions_commit, sha, "--", "actions") == ""
    assert git(repo, "diff", "--stat", workflows_commit, sha, "--", ".github") == ""
    record = json.loads(git(repo, "show", f"{sha}:cli/factory_cli/templates/release.json"))
    assert record == {"version": "v0.1.0", "sha": workflows_commit}

    # The branch keeps calling @main; its templates and factory init point at the release.
    branch = {m["ref"] for m in references(sorted((repo / ".github/workflows").glob("*.yml")))}
    assert branch == {"main"}
    pins = {
        (m["ref"], (m["comment"] or "").strip())
        for m in references(sorted((repo / "workflow-templates").glob("*.yml")))
    }
    assert pins == {(sha, "# v0.1.0")}
    record = json.loads((repo / "cli/factory_cli/templates/release.json").read_text())
    assert record == {"version": "v0.1.0", "sha": sha}
    assert git(repo, "status", "--porcelain") == ""

    # zizmor with no project config (hash-pin for everything) finds nothing to pin in the
    # released workflows, actions and templates, nor in the branch's templates.
    zizmor = need_tool("zizmor", install_hint="pip install zizmor")
    out = tmp_path / "released"
    for name, text in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    targets = [*map(str, sorted(out.glob("**/*.yml"))),
               *map(str, sorted((repo / "workflow-templates").glob("*.yml")))]
    done = subprocess.run(
        [zizmor, "--offline", "--no-config", "--no-progress", *targets],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    # The next minor release moves v0 on; re-cutting or going backwards is refused.
    assert run_release(repo, "0.2.0") == 0
    assert git(repo, "rev-list", "-n1", "v0") == git(repo, "rev-list", "-n1", "v0.2.0") != sha
    assert run_release(repo, "v0.2.0") == 1
    assert run_release(repo, "v0.1.5") == 1


def test_release_refuses_self_references_it_cannot_pin(
    scratch_suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An action calling the suite cannot be pinned to its own commit: the release refuses it
    before anything changes."""
    action = scratch_suite / "actions/oidc-login/action.yml"
    call = "# uses: hoopstat-haus/hoopstat-factory/actions/x@main\n"
    action.write_text(action.read_text() + call)
    commit_all(scratch_suite, "an action calls the suite")
    assert run_release(scratch_suite, "v1.0.0") == 1
    assert "cannot be pinned" in capsys.readouterr().err
    assert git(scratch_suite, "tag", "--list") == ""


def test_release_dry_run_changes_nothing(
    scratch_suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run lists every file it would rewrite and leaves files, commits and tags alone."""
    head = git(scratch_suite, "rev-parse", "HEAD")
    assert run_release(scratch_suite, "v1.0.0", "--dry-run") == 0
    out = capsys.readouterr().out
    assert f".github/workflows/deploy-lambda-app.yml: 3 self-reference(s) → @{head}" in out
    assert git(scratch_suite, "rev-parse", "HEAD") == head
    assert git(scratch_suite, "tag", "--list") == ""
    assert git(scratch_suite, "status", "--porcelain") == ""


@pytest.mark.parametrize("version", ["1.0", "v1.0.0-rc1", "latest"])
def test_release_refuses_bad_versions(scratch_suite: Path, version: str) -> None:
    """Versions other than vX.Y.Z are refused before anything changes."""
    assert run_release(scratch_suite, version) == 1
    assert git(scratch_suite, "tag", "--list") == ""


def test_release_refuses_a_dirty_tree(
    scratch_suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Uncommitted changes stop a release: it would tag something nobody reviewed."""
    wf = scratch_suite / ".github/workflows/deploy-lambda-app.yml"
    wf.write_text(wf.read_text() + "\n# local edit\n")
    assert run_release(scratch_suite, "v1.0.0") == 1
    assert "uncommitted changes" in capsys.readouterr().err
    assert git(scratch_suite, "tag", "--list") == ""


def test_rewrite_keeps_placeholders_and_other_repos() -> None:
    """Only real self-references are rewritten: `@<sha>` examples and other repos stay."""
    text = (
        "uses: hoopstat-haus/hoopstat-factory/actions/oidc-login@main\n"
        "# uses: hoopstat-haus/hoopstat-factory/.github/workflows/x.yml@<sha> # vX.Y.Z\n"
        "uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n"
        "uses: hoopstat-haus/hoopstat-factory/.github/workflows/t.yml@abc # v0.1.0\n"
    )
    after, count = release.rewrite_text(text, ref="v2.0.0")
    assert count == 2
    assert "oidc-login@v2.0.0\n" in after
    assert "@<sha> # vX.Y.Z" in after
    assert "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2" in after
    assert "t.yml@v2.0.0\n" in after


def test_release_script_is_executable_from_a_shell(scratch_suite: Path) -> None:
    """`python scripts/release.py --dry-run` runs as a plain script, outside pytest."""
    done = subprocess.run(
        [
            sys.executable,
            str(SUITE_DIR / "scripts/release.py"),
            "v3.0.0",
            "--dry-run",
            "--repo",
            str(scratch_suite),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Dry run: nothing changed." in done.stdout
