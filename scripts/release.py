#!/usr/bin/env python3
"""Cut a release of the suite: every self-reference pinned to a full commit SHA, tags moved.

    python scripts/release.py v1.4.0 --dry-run     # show every rewrite, change nothing
    python scripts/release.py v1.4.0               # do it locally (then push as printed)
    python scripts/release.py v1.4.0 --push origin # ... and push the tags and the branch

Between releases the reusable workflows call the actions as
``hoopstat-haus/hoopstat-factory/actions/<name>@main`` (tests/test_self_references.py keeps
them on one ref). A tag can move and a branch does, so a release pins by commit SHA all the way
down (docs/adr/0008-supply-chain.md), in a chain of commits off the branch's HEAD:

1. the **actions commit** is the branch's HEAD itself: it holds ``actions/`` (and what they run,
   ``action_scripts/`` and ``requirements/``), none of which refers to the suite;
2. the **workflows commit**, its child, rewrites every self-reference in ``.github/workflows/``
   to ``@<actions commit SHA>``;
3. the **release commit**, its child, pins ``workflow-templates/`` and ``factory init``'s record
   (``cli/factory_cli/templates/release.json``) to the workflows commit's SHA with a
   ``# vX.Y.Z`` comment, and is tagged ``vX.Y.Z`` (annotated); the major tag ``vX`` moves to it.

All three are ancestors of the tag, so none can be garbage-collected while it exists, and each
commit's ``actions/`` tree is the same: a caller pinning the release SHA (or the workflows
commit's) runs exactly that code. Back on the branch, one commit records the release and
re-renders ``workflow-templates/`` pinned to the release commit's SHA with a ``# vX.Y.Z`` comment;
the branch's workflows keep ``@main``.

It refuses a dirty tree, an existing tag, a version not above the last release, and a
self-reference inside ``actions/`` or from one workflow to another (neither can be pinned to a
commit holding its final text).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SUITE = "hoopstat-haus/hoopstat-factory"
# owner/repo/actions/<name>@ref or owner/repo/.github/workflows/<file>@ref
SELF_REFERENCE = re.compile(
    r"(?P<target>" + re.escape(SUITE) + r"/(?:actions/[\w.-]+|\.github/workflows/[\w.-]+))"
    r"@(?P<ref>[\w./-]+)(?P<comment>[ \t]+#[ \t]*v\d+(?:\.\d+)*)?"
)
VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")
WORKFLOW_GLOBS = (".github/workflows/*.yml", ".github/workflows/*.yaml")
ACTION_GLOBS = ("actions/*/action.yml", "actions/*/action.yaml")
PINNED_GLOBS = WORKFLOW_GLOBS


class ReleaseError(RuntimeError):
    pass


@dataclass(frozen=True)
class Rewrite:
    path: Path
    before: str
    after: str
    count: int


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def rewrite_text(text: str, *, ref: str, comment: str = "") -> tuple[str, int]:
    """Point every self-reference in ``text`` at ``ref`` (with ``  # comment`` if given)."""
    suffix = f" # {comment}" if comment else ""
    return SELF_REFERENCE.subn(lambda m: f"{m['target']}@{ref}{suffix}", text)


def pinned_files(repo: Path) -> list[Path]:
    return sorted(p for glob in PINNED_GLOBS for p in repo.glob(glob))


def plan_rewrites(repo: Path, *, ref: str) -> list[Rewrite]:
    rewrites = []
    for path in pinned_files(repo):
        before = path.read_text()
        after, count = rewrite_text(before, ref=ref)
        if count:
            rewrites.append(Rewrite(path, before, after, count))
    return rewrites


def parse_version(raw: str) -> tuple[str, str]:
    found = VERSION.fullmatch(raw.strip())
    if not found:
        raise ReleaseError(f"{raw!r} is not a version: use vX.Y.Z, e.g. v1.4.0")
    major, minor, patch = found.groups()
    return f"v{int(major)}.{int(minor)}.{int(patch)}", f"v{int(major)}"


def _as_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.lstrip("v").split("."))


def check_repo(repo: Path, version: str, *, dry_run: bool) -> str:
    branch = git(repo, "rev-parse", "--abbrev-ref", "HEAD")
    if branch == "HEAD":
        raise ReleaseError("HEAD is detached: check out the branch to release from (main)")
    if not dry_run and git(repo, "status", "--porcelain", "--untracked-files=no"):
        raise ReleaseError("the working tree has uncommitted changes: commit or stash them")
    if git(repo, "tag", "--list", version):
        raise ReleaseError(f"tag {version} exists already: releases are never re-cut")
    released = [t for t in git(repo, "tag", "--list", "v*.*.*").split() if VERSION.fullmatch(t)]
    if released:
        latest = max(released, key=_as_tuple)
        if _as_tuple(version) <= _as_tuple(latest):
            raise ReleaseError(f"{version} is not above the latest release {latest}")
    return branch


def render_templates(repo: Path, *, sha: str, version: str) -> dict[Path, str]:
    """workflow-templates/ re-rendered from the repo's own Jinja sources, pinned to ``sha``."""
    sys.path.insert(0, str(repo / "cli"))
    try:
        from factory_cli import init_repo
    finally:
        sys.path.pop(0)
    rendered = init_repo.render_workflow_templates(
        suite=SUITE, ref=sha, version=version,
        template_dir=repo / "cli" / "factory_cli" / "templates",
    )
    return {repo / "workflow-templates" / name: text for name, text in rendered.items()}


def refuse_unpinnable(repo: Path) -> None:
    """Self-references that no chain of commits can pin to their own final text."""
    for path in sorted(p for glob in ACTION_GLOBS for p in repo.glob(glob)):
        if SELF_REFERENCE.search(path.read_text()):
            raise ReleaseError(
                f"{path.relative_to(repo)} calls the suite itself: an action cannot be pinned to a "
                "commit holding its own final text; inline the step or call the script directly"
            )
    for path in pinned_files(repo):
        for found in SELF_REFERENCE.finditer(path.read_text()):
            if "/.github/workflows/" in found["target"]:
                raise ReleaseError(
                    f"{path.relative_to(repo)} calls the reusable workflow {found['target']}: "
                    "workflows are pinned to the actions commit, whose workflows still say @main"
                )


def release(repo: Path, raw_version: str, *, dry_run: bool, push: str | None) -> int:
    version, major = parse_version(raw_version)
    branch = check_repo(repo, version, dry_run=dry_run)
    refuse_unpinnable(repo)
    actions_sha = git(repo, "rev-parse", "HEAD")
    rewrites = plan_rewrites(repo, ref=actions_sha)
    if not rewrites:
        raise ReleaseError(f"no self-references to {SUITE} found under {PINNED_GLOBS}")
    print(f"Release {version} from {branch} ({actions_sha[:12]}, the actions commit)")
    for item in rewrites:
        print(f"  {item.path.relative_to(repo)}: {item.count} self-reference(s) → "
              f"@{actions_sha} (the actions commit)")
    if dry_run:
        print("  workflows commit: those rewrites; release commit: workflow-templates/ and "
              f"release.json → @<workflows commit sha> # {version}, tagged {version}; "
              f"{major} moved to it")
        print(f"  {branch}: workflow-templates/ and release.json → @<release sha> # {version}")
        print("Dry run: nothing changed.")
        return 0

    record = repo / "cli" / "factory_cli" / "templates" / "release.json"

    def pin_templates(sha: str) -> list[str]:
        record.write_text(json.dumps({"version": version, "sha": sha}, indent=2) + "\n")
        templates = render_templates(repo, sha=sha, version=version)
        for path, text in templates.items():
            path.write_text(text)
        return [str(record), *map(str, templates)]

    git(repo, "checkout", "-q", "--detach")
    try:
        for item in rewrites:
            item.path.write_text(item.after)
        git(repo, "add", *[str(item.path) for item in rewrites])
        git(repo, "commit", "-q", "-m",
            f"Release {version}: workflows call the actions of {actions_sha}")
        workflows_sha = git(repo, "rev-parse", "HEAD")
        git(repo, "add", *pin_templates(workflows_sha))
        git(repo, "commit", "-q", "-m",
            f"Release {version}: templates pinned to the workflows commit {workflows_sha}")
        sha = git(repo, "rev-parse", "HEAD")
        git(repo, "tag", "-a", version, "-m", f"Hoopstat Factory {version}")
        git(repo, "tag", "-f", "-a", major, "-m", f"Hoopstat Factory {version}", sha)
    finally:
        git(repo, "checkout", "-q", "-f", branch)

    git(repo, "add", *pin_templates(sha))
    git(repo, "commit", "-q", "-m", f"Pin factory init and workflow templates to {version}")
    print(f"  release commit {sha} tagged {version}; {major} moved to it")
    print(f"  (workflows commit {workflows_sha}, actions commit {actions_sha})")
    print(f"  {branch}: templates pinned to {sha} # {version}")
    commands = [
        ["push", push or "origin", f"refs/tags/{version}"],
        ["push", "--force", push or "origin", f"refs/tags/{major}"],
        ["push", push or "origin", branch],
    ]
    for args in commands:
        if push:
            git(repo, *args)
        else:
            print("  to publish: git " + " ".join(args))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("version", help="the new version, vX.Y.Z")
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--dry-run", action="store_true", help="show the rewrites, change nothing")
    parser.add_argument("--push", metavar="REMOTE", help="push the tags and the branch")
    args = parser.parse_args(argv)
    try:
        return release(args.repo.resolve(), args.version, dry_run=args.dry_run, push=args.push)
    except ReleaseError as err:
        print(f"release: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
