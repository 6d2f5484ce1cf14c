"""``factory changed-apps``: which apps of a monorepo changed between two refs, as a job matrix.

Layout: every direct sub-directory of ``apps/`` is an app, every direct sub-directory of
``libs/`` a shared library. An app is affected when a file under it changed, or when a library it
depends on changed (directly or through other libraries).

How dependencies are declared — in the app's own ``pyproject.toml``, nothing new to learn:

* ``[project] dependencies`` naming a library's distribution name (the ``name`` in
  ``libs/<lib>/pyproject.toml``, compared PEP 503-normalized, extras and versions ignored);
* ``[tool.uv.sources] <name> = { path = "../../libs/<lib>" }`` path sources;
* ``[tool.hoopstat-factory] depends-on = ["libs/<lib>", "shared/schemas"]`` for anything else
  the app is built from (paths relative to the repository root; a change under any of them
  affects the app). Use it for libraries the app vendors without declaring them.

Libraries declare their own library dependencies the same way, so a change to a library also
affects apps that use it only through another library.

Speed on big trees: one ``git diff --name-only -z`` for the changed paths, one ``git ls-tree``
for the app and library directories and one ``git cat-file --batch`` for all their
``pyproject.toml`` files — three processes whatever the size of the tree, and everything is read
from the head commit, not the working tree.

Outputs: ``apps`` (JSON list), ``matrix`` (JSON ``{"include": [{"app", "path"}]}`` for
``strategy.matrix``), ``count`` and ``any`` (``true``/``false``: guard the matrix job with it,
because GitHub refuses an empty matrix).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from action_scripts import runner, validate
from action_scripts.errors import FactoryError

# A ref or revision as git accepts it on the command line, and never an option (leading `-`).
GIT_REVISION = re.compile(r"[A-Za-z0-9_.@/^~{}-]{1,255}")
GIT_REVISION_EXPECTED = (
    "a commit SHA, branch, tag or revision such as `HEAD~1` or `origin/main` "
    "(not starting with `-`)"
)
NULL_SHA = re.compile(r"0{40}|0{64}")
# Events on which every app is listed: a manual run means "deploy everything".
FULL_LIST_EVENTS = ("workflow_dispatch",)


@dataclass(frozen=True)
class Component:
    """An app or a library: its directory and what it declares it is built from."""

    path: str
    dist_name: str = ""
    requires: frozenset[str] = field(default_factory=frozenset)  # normalized dist names
    depends_on: frozenset[str] = field(default_factory=frozenset)  # repo-relative paths


@dataclass(frozen=True)
class Result:
    apps: tuple[str, ...]
    reasons: Mapping[str, str]
    full_list: bool
    why_full: str = ""
    changed_files: int = 0


@dataclass(frozen=True)
class Options:
    repo: str
    base: str
    head: str
    event_name: str
    apps_dir: str
    libs_dir: str
    all_if_changed: tuple[str, ...]


def normalize(name: str) -> str:
    """PEP 503 normalization, so `Hoopstat_Runtime` and `hoopstat-runtime` are one library."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return normalize(found.group(1)) if found else ""


class Git:
    def __init__(self, repo: str) -> None:
        self.repo = repo

    def run(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["git", "-C", self.repo, *args], input=stdin, capture_output=True, check=False
        )

    def commit(self, revision: str) -> str | None:
        done = self.run(
            "rev-parse", "--verify", "--quiet", "--end-of-options", revision + "^{commit}"
        )
        return done.stdout.decode().strip() if done.returncode == 0 else None

    def changed_paths(self, base: str, head: str) -> list[str]:
        # Three dots: what head changed since it forked from base (for a push, base is the
        # previous tip; after a force push, the common ancestor). No renames: a moved file
        # counts at its old and its new path.
        done = self.run("diff", "--name-only", "-z", "--no-renames", f"{base}...{head}", "--")
        if done.returncode != 0:
            raise _git_error("git diff", done)
        return [p for p in done.stdout.decode("utf-8", "surrogateescape").split("\0") if p]

    def child_dirs(self, head: str, parent: str) -> list[str]:
        done = self.run("ls-tree", "-z", "-d", "--name-only", head, "--", parent + "/")
        if done.returncode != 0:
            raise _git_error("git ls-tree", done)
        # A name with a newline could not be asked for in cat-file's line protocol; no real
        # app is named so, and skipping it beats misreading every file after it.
        return sorted(p for p in done.stdout.decode().split("\0") if p and "\n" not in p)

    def read_files(self, head: str, paths: Iterable[str]) -> dict[str, bytes]:
        """Contents of the paths that exist at ``head``, in one ``git cat-file --batch``."""
        wanted = list(paths)
        if not wanted:
            return {}
        request = "".join(f"{head}:{path}\n" for path in wanted).encode()
        done = self.run("cat-file", "--batch", stdin=request)
        if done.returncode != 0:
            raise _git_error("git cat-file", done)
        out, pos, found = done.stdout, 0, {}
        for path in wanted:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if header[-1] == b"missing" or len(header) != 3:
                continue
            size = int(header[2])
            if header[1] == b"blob":
                found[path] = out[pos : pos + size]
            pos += size + 1  # the contents are followed by a newline
        return found


def _git_error(what: str, done: subprocess.CompletedProcess[bytes]) -> FactoryError:
    return FactoryError(
        f"{what} failed: {done.stderr.decode(errors='replace').strip()}",
        title="git failed",
        fix="Run this in a checkout of the repository with the history of both refs "
        "(actions/checkout with `fetch-depth: 0`).",
        reason="internal-error",
    )


def parse_component(path: str, pyproject: bytes | None) -> Component:
    if pyproject is None:
        return Component(path=path)
    try:
        data = tomllib.loads(pyproject.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FactoryError(
            f"{path}/pyproject.toml is not valid TOML: {exc}",
            title="Unreadable pyproject.toml",
            fix=f"Fix {path}/pyproject.toml; its dependencies decide which apps a change affects.",
            reason="invalid-input",
        ) from exc
    project = data.get("project") or {}
    tool = data.get("tool") or {}
    requires = {
        _requirement_name(r) for r in project.get("dependencies") or [] if isinstance(r, str)
    }
    depends_on: set[str] = set()
    for name, source in ((tool.get("uv") or {}).get("sources") or {}).items():
        if isinstance(source, dict) and isinstance(source.get("path"), str):
            requires.add(normalize(name))
            depends_on.add(_join(path, source["path"]))
    for extra in (tool.get("hoopstat-factory") or {}).get("depends-on") or []:
        if isinstance(extra, str) and extra.strip():
            depends_on.add(str(PurePosixPath(extra.strip().strip("/"))))
    return Component(
        path=path,
        dist_name=normalize(str(project.get("name", ""))),
        requires=frozenset(requires - {""}),
        depends_on=frozenset(depends_on),
    )


def _join(base: str, relative: str) -> str:
    """``apps/a`` + ``../../libs/x`` → ``libs/x`` (purely lexical, as the tree is not on disk)."""
    parts: list[str] = []
    for part in PurePosixPath(base, relative).parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part not in {".", ""}:
            parts.append(part)
    return "/".join(parts)


def _top(path: str, parent: str) -> str | None:
    """``apps/api/src/x.py`` → ``apps/api`` (the component directory a path belongs to)."""
    if not path.startswith(parent + "/"):
        return None
    rest = path[len(parent) + 1 :]
    head, sep, _ = rest.partition("/")
    return f"{parent}/{head}" if sep else None


def affected(
    *,
    changed: list[str],
    apps: Mapping[str, Component],
    libs: Mapping[str, Component],
    apps_dir: str,
    libs_dir: str,
) -> dict[str, str]:
    """Map each affected app directory to a one-line reason."""
    # Every changed path and each of its parent directories: "did anything under d change" is
    # then one set lookup, however many files changed.
    touched = {str(parent) for p in changed for parent in PurePosixPath(p).parents} | set(changed)
    touched_dirs = {d for p in changed for d in (_top(p, apps_dir), _top(p, libs_dir)) if d}
    by_name = {lib.dist_name: lib.path for lib in libs.values() if lib.dist_name}

    def deps_of(component: Component) -> set[str]:
        found = {by_name[name] for name in component.requires if name in by_name}
        return found | {d for d in component.depends_on if d in libs}

    # Libraries changed directly, then everything that reaches them through other libraries.
    lib_reason: dict[str, str] = {}
    for lib in libs:
        if lib in touched_dirs or any(d in touched for d in libs[lib].depends_on):
            lib_reason[lib] = lib
    grew = True
    while grew:
        grew = False
        for lib, component in libs.items():
            if lib in lib_reason:
                continue
            hit = sorted(deps_of(component) & set(lib_reason))
            if hit:
                lib_reason[lib] = lib_reason[hit[0]]
                grew = True

    reasons: dict[str, str] = {}
    for app, component in apps.items():
        if app in touched_dirs:
            reasons[app] = "its files changed"
            continue
        libs_hit = sorted(deps_of(component) & set(lib_reason))
        if libs_hit:
            lib = libs_hit[0]
            origin = lib_reason[lib]
            reasons[app] = f"uses {lib}" + (f" (which uses {origin})" if origin != lib else "")
            continue
        extra = sorted(d for d in component.depends_on if d in touched)
        if extra:
            reasons[app] = f"depends on {extra[0]}"
    return reasons


def _load(git: Git, head: str, parent: str) -> dict[str, Component]:
    dirs = git.child_dirs(head, parent)
    files = git.read_files(head, [f"{d}/pyproject.toml" for d in dirs])
    return {d: parse_component(d, files.get(f"{d}/pyproject.toml")) for d in dirs}


def compute(options: Options) -> Result:
    git = Git(options.repo)
    head = git.commit(options.head)
    if head is None:
        raise FactoryError(
            f"`head` {options.head} is not a commit in {options.repo}.",
            title="Head ref not found",
            fix="Check out the repository first (actions/checkout) and pass a ref that exists.",
            reason="invalid-input",
        )
    apps = _load(git, head, options.apps_dir)
    app_names = tuple(PurePosixPath(a).name for a in apps)

    def full(why: str) -> Result:
        return Result(app_names, dict.fromkeys(app_names, why), full_list=True, why_full=why)

    if options.event_name in FULL_LIST_EVENTS:
        return full(f"{options.event_name}: every app")
    if not options.base or NULL_SHA.fullmatch(options.base):
        return full("no base commit (first push of the branch): every app")
    base = git.commit(options.base)
    if base is None:
        # A shallow clone, or a base lost to a force push. Deploying everything is safe (the
        # image build is skipped for unchanged apps) where guessing a subset is not.
        runner.warning(
            f"Base {options.base} is not in this checkout's history, so every app is listed. "
            "Check out with `fetch-depth: 0` to list only the changed ones.",
            title="changed-apps: base commit not found",
        )
        return full(f"base {options.base} not found: every app")
    changed = git.changed_paths(base, head)
    matched = sorted(
        {glob for path in changed for glob in options.all_if_changed if _glob(path, glob)}
    )
    if matched:
        return Result(
            app_names,
            dict.fromkeys(app_names, f"{matched[0]} changed"),
            full_list=True,
            why_full=f"a path matching {', '.join(matched)} changed: every app",
            changed_files=len(changed),
        )
    libs = _load(git, head, options.libs_dir)
    reasons = affected(
        changed=changed, apps=apps, libs=libs, apps_dir=options.apps_dir, libs_dir=options.libs_dir
    )
    names = tuple(sorted(PurePosixPath(a).name for a in reasons))
    return Result(
        names,
        {PurePosixPath(a).name: why for a, why in reasons.items()},
        full_list=False,
        changed_files=len(changed),
    )


def _glob(path: str, pattern: str) -> bool:
    return _glob_regex(pattern).fullmatch(path) is not None


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """``**`` spans directories, ``*`` and ``?`` stay within one (gitignore-like)."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out)


def publish(result: Result, *, apps_dir: str) -> None:
    apps_json = json.dumps(list(result.apps))
    matrix = {"include": [{"app": app, "path": f"{apps_dir}/{app}"} for app in result.apps]}
    runner.set_output("apps", apps_json)
    runner.set_output("matrix", json.dumps(matrix))
    runner.set_output("count", str(len(result.apps)))
    runner.set_output("any", "true" if result.apps else "false")
    head = (
        f"Every app: {result.why_full}."
        if result.full_list
        else f"{len(result.apps)} app(s) affected by {result.changed_files} changed file(s)."
    )
    rows = [
        f"| `{runner.md_escape(a)}` | {runner.md_escape(result.reasons[a])} |" for a in result.apps
    ]
    table = ["| app | why |", "| --- | --- |", *rows] if rows else ["_No app changed._"]
    runner.summary("\n".join(["### Changed apps", "", head, "", *table]))


def read_options(argv: list[str], environ: Mapping[str, str]) -> Options:
    """Flags win over ``INPUT_*`` variables, so the same code serves a terminal and an action."""
    parser = argparse.ArgumentParser(
        prog="factory changed-apps",
        description="List the apps under apps/ affected by changes between two refs (JSON).",
    )
    parser.add_argument("--base", help="base ref (push: github.event.before; PR: the base SHA)")
    parser.add_argument("--head", help="head ref (default HEAD)")
    parser.add_argument("--event-name", help="github.event_name; workflow_dispatch lists all apps")
    parser.add_argument("--repo", help="repository checkout (default .)")
    parser.add_argument("--apps-dir", help="directory holding the apps (default apps)")
    parser.add_argument("--libs-dir", help="directory holding the shared libraries (default libs)")
    parser.add_argument(
        "--all-if-changed",
        action="append",
        default=None,
        metavar="GLOB",
        help="a change matching this glob lists every app (repeatable; ** spans directories)",
    )
    args = parser.parse_args(argv)
    given = {
        "base": args.base,
        "head": args.head,
        "event-name": args.event_name,
        "repo": args.repo,
        "apps-dir": args.apps_dir,
        "libs-dir": args.libs_dir,
        "all-if-changed": "\n".join(args.all_if_changed) if args.all_if_changed else None,
    }
    merged = dict(environ)
    for name, value in given.items():
        if value is not None:
            merged["INPUT_" + name.upper().replace("-", "_")] = value
    inputs = runner.Inputs(merged)
    base = inputs.raw("base")
    if base and not NULL_SHA.fullmatch(base):
        inputs.matching("base", GIT_REVISION, expected=GIT_REVISION_EXPECTED)
    head = inputs.matching("head", GIT_REVISION, expected=GIT_REVISION_EXPECTED, default="HEAD")
    for name in ("base", "head"):
        if inputs.raw(name).startswith("-"):
            inputs.problem(name, "starts with `-`.", GIT_REVISION_EXPECTED)
    apps_dir = inputs.matching(
        "apps-dir", validate.REPO_DIR, expected=validate.REPO_DIR_EXPECTED, default="apps"
    )
    libs_dir = inputs.matching(
        "libs-dir", validate.REPO_DIR, expected=validate.REPO_DIR_EXPECTED, default="libs"
    )
    repo = inputs.text("repo", default=".")
    if not os.path.isdir(repo):
        inputs.problem("repo", f"'{repo}' is not a directory.", "a checkout of the repository")
    globs = tuple(inputs.items("all-if-changed"))
    inputs.check()
    return Options(
        repo=repo,
        base=base,
        head=head,
        event_name=inputs.raw("event-name"),
        apps_dir=apps_dir.strip("/"),
        libs_dir=libs_dir.strip("/"),
        all_if_changed=globs,
    )


def main(argv: list[str] | None = None) -> int:
    def run() -> None:
        options = read_options(list(argv or []), os.environ)
        publish(compute(options), apps_dir=options.apps_dir)

    return runner.run_action(run)


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
