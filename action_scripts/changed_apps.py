"""``factory changed-apps``: which apps of a monorepo a change affects — for CI, and for deploy.

Layout: every direct sub-directory of ``apps/`` is an app, every direct sub-directory of
``libs/`` a shared library. An app is affected when a file under it changed, or when a library
it depends on changed (directly or through other libraries' runtime dependencies).

Dependencies are read from the manifests the app already has, nothing new to learn:

* **Poetry**: ``[tool.poetry.dependencies]`` (runtime), ``[tool.poetry.group.<g>.dependencies]``
  and legacy ``[tool.poetry.dev-dependencies]`` (dev); ``{path = "../../libs/x", develop = true}``.
* **PEP 621**: ``[project] dependencies`` (runtime), ``[project.optional-dependencies]`` and
  PEP 735 ``[dependency-groups]`` (dev/test); ``name @ file:…`` URLs; ``[tool.uv.sources]``
  ``{ path = … }`` / ``{ workspace = true }`` (a source counts where its name is listed).
* **PDM / Hatch**: ``[tool.pdm.dev-dependencies]``, ``[tool.uv.dev-dependencies]`` and
  ``[tool.hatch.envs.<env>] dependencies`` (dev); ``${PROJECT_ROOT}`` / ``{root:uri}`` URLs.
* **requirements files** (``requirements*.txt``, ``*-requirements.txt``, ``requirements/*.txt``;
  a name with dev/test/lint/ci/doc/type is dev, others runtime): ``-e ../../libs/x``,
  ``../../libs/x``, ``name @ file:…``, ``-r other.txt`` followed.
* ``depends-on`` in the app's settings (:mod:`action_scripts.app_settings`): repo-root paths the
  app is built from (runtime).

A library is matched by path, or by its distribution name (``[project] name`` or
``[tool.poetry] name``, PEP 503-normalized). Library → library edges are followed through the
libraries' runtime dependencies only (a library's dev group is never installed into an app);
cycles are fine.

A runtime dependency change puts the app in the **deploy** set (when it has deploy settings); a
change reaching it only through dev/test dependencies puts it in the **CI** set only. The CI set
holds every affected app. An app whose manifest cannot be read, or that names no local
dependency while libraries exist, gets a ``::warning`` naming the file — never a silent empty
set; a library change that reaches no app is reported as a ``::notice``.

Speed on big trees: one ``git diff --name-only -z``, one ``git ls-tree -r`` of the app and
library directories and one ``git cat-file --batch`` for all their manifests and settings (plus
one more per level of ``-r`` includes outside them) — everything read from the head commit.

Outputs (JSON): ``apps`` / ``matrix`` / ``count`` / ``any`` for the CI set, ``deploy-apps`` /
``deploy-matrix`` / ``deploy-count`` / ``deploy-any`` for the deploy set (each entry carries the
app's deploy settings under the reusable deploy workflow's input names), ``ci-only-apps`` and
``changed-libs``; see actions/changed-apps/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal

from action_scripts import app_settings, runner, validate
from action_scripts.app_settings import AppSettings
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

Kind = Literal["runtime", "dev"]
REQUIREMENTS_FILE = re.compile(
    r"(?:[^/]*[-_.])?requirements(?:[-_.][^/]*)?\.txt|requirements/[^/]+\.txt"
)
DEV_REQUIREMENTS = re.compile(r"dev|test|lint|ci\b|doc|type|check", re.IGNORECASE)
SYMLINK_MODE = "120000"


@dataclass(frozen=True)
class Deps:
    """What one manifest declares: distribution names and repo-relative paths, by kind."""

    runtime_names: frozenset[str] = frozenset()
    dev_names: frozenset[str] = frozenset()
    runtime_paths: frozenset[str] = frozenset()
    dev_paths: frozenset[str] = frozenset()

    def __or__(self, other: Deps) -> Deps:
        return Deps(
            self.runtime_names | other.runtime_names,
            self.dev_names | other.dev_names,
            self.runtime_paths | other.runtime_paths,
            self.dev_paths | other.dev_paths,
        )

    @property
    def empty(self) -> bool:
        return not (self.runtime_names or self.dev_names or self.runtime_paths or self.dev_paths)


@dataclass(frozen=True)
class Component:
    """An app or a library: its directory, its manifests and what they declare."""

    path: str
    dist_name: str = ""
    deps: Deps = field(default_factory=Deps)
    manifests: tuple[str, ...] = ()  # the files read
    unreadable: str = ""  # "<file>: <why>" when a manifest could not be read
    settings: AppSettings | None = None  # apps only; None when unknown (unreadable manifest)


@dataclass(frozen=True)
class Result:
    apps: tuple[str, ...]  # the CI set: every affected app
    reasons: Mapping[str, str]
    full_list: bool
    why_full: str = ""
    changed_files: int = 0
    deploy: tuple[str, ...] = ()  # affected through runtime dependencies, with deploy settings
    settings: Mapping[str, AppSettings] = field(default_factory=dict)  # by app name
    paths: Mapping[str, str] = field(default_factory=dict)  # app name -> app directory
    changed_libs: tuple[str, ...] = ()
    unused_libs: tuple[str, ...] = ()  # changed libraries that reach no app


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


# --- manifests -------------------------------------------------------------------------------


def _join(base: str, relative: str) -> str | None:
    """``apps/a`` + ``../../libs/x`` → ``libs/x``, lexically; None when it leaves the repo."""
    parts: list[str] = []
    for part in PurePosixPath(base, relative).parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part not in {".", "", "/"}:
            parts.append(part)
    return "/".join(parts)


PLACEHOLDERS = re.compile(r"/*(?:\$\{PROJECT_ROOT\}|\{root(?::uri|:real)?\})")


def url_path(url: str, *, base: str) -> str | None:
    """The repo-relative path of a local ``file:`` URL or path, or None (remote, absolute)."""
    url = url.split("#", 1)[0].strip()
    placeholder = PLACEHOLDERS.search(url)
    if placeholder:
        return _join(base, url[placeholder.end() :].lstrip("/") or ".")
    if "://" in url and not url.startswith("file://"):
        return None
    rest = url.removeprefix("file:")
    if rest.startswith("//"):
        rest = rest[2:]
    if not rest or rest.startswith("/"):
        return None  # absolute: a path on someone's machine, not in the repository
    return _join(base, rest)


NAME_AT_URL = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*@\s*(\S+)")


def requirement(spec: str, *, base: str) -> tuple[str, str | None]:
    """``name`` (normalized, may be "") and local path (or None) of one requirement string."""
    spec = spec.split(";", 1)[0].strip()
    named = NAME_AT_URL.match(spec)
    if named:
        return normalize(named.group(1)), url_path(named.group(2), base=base)
    egg = re.search(r"#egg=([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    egg_name = normalize(egg.group(1)) if egg else ""
    if spec.startswith(("file:", ".", "/", "${", "{root")) or (
        "/" in spec and "://" not in spec and not re.search(r"[<>=!~]", spec)
    ):
        return egg_name, url_path(spec, base=base)
    if "://" in spec:
        return egg_name, None
    return _requirement_name(spec), None


def _collect(names: set[str], paths: set[str], specs: Iterable[Any], *, base: str) -> None:
    for spec in specs:
        if isinstance(spec, str):
            name, path = requirement(spec, base=base)
            if name:
                names.add(name)
            if path:
                paths.add(path)


def _poetry(names: set[str], paths: set[str], table: Any, *, base: str) -> None:
    """Poetry's ``name = "^1"`` / ``{path = …}`` / ``[{…}, {…}]`` dependency tables."""
    if not isinstance(table, dict):
        return
    for name, spec in table.items():
        if normalize(name) == "python":
            continue
        names.add(normalize(name))
        for item in spec if isinstance(spec, list) else [spec]:
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                path = _join(base, item["path"])
                if path:
                    paths.add(path)


def _t(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def pyproject_deps(data: Mapping[str, Any], *, base: str) -> Deps:
    """What a parsed pyproject.toml at repo-relative directory ``base`` depends on."""
    rt_names: set[str] = set()
    rt_paths: set[str] = set()
    dev_names: set[str] = set()
    dev_paths: set[str] = set()
    # PEP 621 (also PDM's and Hatch's runtime dependencies).
    _collect(rt_names, rt_paths, _t(data, "project", "dependencies") or [], base=base)
    for extra in (_t(data, "project", "optional-dependencies") or {}).values():
        _collect(dev_names, dev_paths, extra if isinstance(extra, list) else [], base=base)
    for group in (_t(data, "dependency-groups") or {}).values():
        _collect(dev_names, dev_paths, group if isinstance(group, list) else [], base=base)
    # Poetry.
    _poetry(rt_names, rt_paths, _t(data, "tool", "poetry", "dependencies"), base=base)
    _poetry(dev_names, dev_paths, _t(data, "tool", "poetry", "dev-dependencies"), base=base)
    for group_name, group in (_t(data, "tool", "poetry", "group") or {}).items():
        target = (rt_names, rt_paths) if group_name == "main" else (dev_names, dev_paths)
        _poetry(*target, _t(group, "dependencies"), base=base)
    # PDM, uv (legacy) and Hatch dev environments.
    for group in (_t(data, "tool", "pdm", "dev-dependencies") or {}).values():
        _collect(dev_names, dev_paths, group if isinstance(group, list) else [], base=base)
    _collect(dev_names, dev_paths, _t(data, "tool", "uv", "dev-dependencies") or [], base=base)
    for env in (_t(data, "tool", "hatch", "envs") or {}).values():
        for key in ("dependencies", "extra-dependencies"):
            _collect(dev_names, dev_paths, _t(env, key) or [], base=base)
    # uv sources: a path for a name; it counts where the name is listed (runtime if nowhere).
    for name, source in (_t(data, "tool", "uv", "sources") or {}).items():
        for item in source if isinstance(source, list) else [source]:
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                path = _join(base, item["path"])
                key = normalize(name)
                if path and key in dev_names and key not in rt_names:
                    dev_paths.add(path)
                elif path:
                    rt_paths.add(path)
                    rt_names.add(key)
    return Deps(
        frozenset(rt_names - {""}),
        frozenset(dev_names - {""}),
        frozenset(rt_paths),
        frozenset(dev_paths),
    )


def dist_name(data: Mapping[str, Any]) -> str:
    name = _t(data, "project", "name") or _t(data, "tool", "poetry", "name") or ""
    return normalize(name) if isinstance(name, str) else ""


def requirements_lines(text: str) -> Iterable[str]:
    """Logical lines of a requirements file: continuations joined, comments dropped."""
    logical = ""
    for line in text.splitlines():
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        stripped = re.sub(r"(^|\s)#.*", "", logical).strip()
        logical = ""
        if stripped:
            yield stripped


def requirements_deps(
    text: str, *, file: str, kind: Kind, base: str = ""
) -> tuple[Deps, list[str]]:
    """What a requirements file declares, and the repo-relative files it includes (``-r``).

    As pip does, ``-r`` is relative to the file, local paths to where pip runs: ``base``, the
    component directory (default: the file's directory)."""
    here = str(PurePosixPath(file).parent)
    base = base or here
    names: set[str] = set()
    paths: set[str] = set()
    includes: list[str] = []
    for line in requirements_lines(text):
        option = re.match(
            r"(-r|--requirement|-c|--constraint|-e|--editable)(?:\s+|=|(?=\S))(.*)", line
        )
        if option:
            flag, value = option.group(1), option.group(2).strip()
            if flag in {"-r", "--requirement"}:
                included = _join(here, value)
                if included:
                    includes.append(included)
                continue
            if flag in {"-c", "--constraint"}:
                continue
            line = value
        elif line.startswith("-"):
            continue  # --index-url and other options
        spec = re.split(r"\s+--?\w", line, maxsplit=1)[0]  # drop --hash=… and friends
        name, path = requirement(spec, base=base)
        if name:
            names.add(name)
        if path:
            paths.add(path)
    frozen_names, frozen_paths = frozenset(names), frozenset(paths)
    if kind == "runtime":
        return Deps(runtime_names=frozen_names, runtime_paths=frozen_paths), includes
    return Deps(dev_names=frozen_names, dev_paths=frozen_paths), includes


def requirements_kind(file: str) -> Kind:
    return "dev" if DEV_REQUIREMENTS.search(PurePosixPath(file).name) else "runtime"


# --- git -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    mode: str
    path: str


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

    def files(self, head: str, *parents: str) -> list[Entry]:
        """Every file (and symlink) under ``parents`` at ``head``, with its mode."""
        done = self.run("ls-tree", "-r", "-z", "--full-tree", head, "--", *parents)
        if done.returncode != 0:
            raise _git_error("git ls-tree", done)
        entries = []
        for record in done.stdout.decode("utf-8", "surrogateescape").split("\0"):
            meta, tab, path = record.partition("\t")
            # A name with a newline could not be asked for in cat-file's line protocol; no
            # real app is named so, and skipping it beats misreading every file after it.
            if tab and "\n" not in path:
                entries.append(Entry(meta.split(" ", 1)[0], path))
        return entries

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


# --- loading the tree ------------------------------------------------------------------------


@dataclass
class Tree:
    """The apps and libraries at head, with the manifest files each one has."""

    apps: dict[str, list[str]]  # directory -> its top-level and requirements/ files
    libs: dict[str, list[str]]
    links: dict[str, str]  # app/lib directory that is a symlink -> the symlink's blob path


def _tree(git: Git, head: str, apps_dir: str, libs_dir: str) -> Tree:
    tree = Tree({}, {}, {})
    for entry in git.files(head, apps_dir + "/", libs_dir + "/"):
        for parent, into in ((apps_dir, tree.apps), (libs_dir, tree.libs)):
            if not entry.path.startswith(parent + "/"):
                continue
            name, sep, rest = entry.path[len(parent) + 1 :].partition("/")
            component = f"{parent}/{name}"
            if not sep:
                if entry.mode == SYMLINK_MODE:
                    tree.links[component] = entry.path
                continue  # a plain file directly in apps/ is no app
            files = into.setdefault(component, [])
            # Only what a manifest can be: files at the top and in requirements/ (keeps the
            # per-component work small on trees of tens of thousands of files).
            if "/" not in rest or rest.startswith("requirements/"):
                files.append(rest)
            break
    return tree


def _manifest_files(files: Iterable[str]) -> list[str]:
    return sorted(
        f
        for f in files
        if f in {"pyproject.toml", app_settings.SETTINGS_FILE} or REQUIREMENTS_FILE.fullmatch(f)
    )


def _links(tree: Tree, blobs: Mapping[str, bytes]) -> None:
    """A symlinked app or library directory that points outside the repository is an error;
    one pointing inside is no component (its files are under the target)."""
    for component, blob in sorted(tree.links.items()):
        target = blobs.get(blob, b"").decode(errors="replace")
        parent = str(PurePosixPath(component).parent)
        inside = None if target.startswith("/") else _join(parent, target)
        if inside is None:
            raise FactoryError(
                f"{component} is a symlink to {target}, outside the repository.",
                title="App directory outside the repository",
                fix=f"Move the app into {component} instead of linking to it: workflows and "
                "images only see what is checked in.",
                reason="invalid-input",
            )
        runner.warning(
            f"{component} is a symlink to {inside}; it is not treated as an app. List "
            f"{inside} in an app's `depends-on` instead.",
            title="changed-apps: symlinked directory skipped",
        )


def _read_all(git: Git, head: str, tree: Tree) -> dict[str, bytes]:
    """Every manifest of every component, the symlinks' targets, and ``-r`` includes."""
    wanted = [
        f"{d}/{f}"
        for components in (tree.apps, tree.libs)
        for d, files in components.items()
        for f in _manifest_files(files)
    ]
    blobs = git.read_files(head, [*wanted, *tree.links.values()])
    pending = _includes(blobs)
    while pending - blobs.keys():
        missing = sorted(pending - blobs.keys())
        more = git.read_files(head, missing)
        blobs.update(more)
        blobs.update(dict.fromkeys(set(missing) - more.keys(), b""))  # absent: never ask again
        pending = _includes(blobs)
    return blobs


def _includes(blobs: Mapping[str, bytes]) -> set[str]:
    found: set[str] = set()
    for path, text in blobs.items():
        if path.endswith(".txt"):
            kind = requirements_kind(path)
            found.update(requirements_deps(text.decode(errors="replace"), file=path, kind=kind)[1])
    return found


def _requirements(
    file: str, blobs: Mapping[str, bytes], kind: Kind, seen: set[str], *, base: str
) -> Deps:
    if file in seen or file not in blobs:
        return Deps()
    seen.add(file)
    deps, includes = requirements_deps(blobs[file].decode(), file=file, kind=kind, base=base)
    for included in includes:
        deps = deps | _requirements(included, blobs, kind, seen, base=base)
    return deps


def parse_component(
    path: str, files: Iterable[str], blobs: Mapping[str, bytes], *, app: bool
) -> Component:
    """A component from its manifests' contents; an unreadable manifest is recorded, not raised
    (settings problems are raised: they are the app's deploy contract)."""
    manifests = tuple(f"{path}/{f}" for f in _manifest_files(files))
    deps, name, unreadable, data = Deps(), "", "", None
    for file in manifests:
        relative = file[len(path) + 1 :]
        try:
            if relative == "pyproject.toml":
                data = app_settings.read_toml(blobs.get(file, b""), file=file)
                deps = deps | pyproject_deps(data, base=path)
                name = dist_name(data)
            elif relative != app_settings.SETTINGS_FILE:
                deps = deps | _requirements(file, blobs, requirements_kind(file), set(), base=path)
        except (FactoryError, UnicodeDecodeError) as exc:
            message = str(getattr(exc, "message", exc))
            unreadable = message if message.startswith(file) else f"{file}: {message}"
    settings = None
    if app and not (unreadable and data is None and "pyproject.toml" in files):
        settings = app_settings.parse(
            path,
            pyproject=data,
            settings_file=blobs.get(f"{path}/{app_settings.SETTINGS_FILE}"),
            files=list(files),
        )
        extra = frozenset(settings.depends_on)
        deps = deps | Deps(runtime_paths=extra)
    return Component(path, name, deps, manifests, unreadable, settings)


# --- the graph -------------------------------------------------------------------------------


def _owner(path: str, libs: Mapping[str, Component]) -> str | None:
    for lib in libs:
        if path == lib or path.startswith(lib + "/"):
            return lib
    return None


def _by_name(libs: Mapping[str, Component]) -> dict[str, str]:
    return {lib.dist_name: lib.path for lib in libs.values() if lib.dist_name}


def _edges(
    component: Component, kind: Kind, libs: Mapping[str, Component], by_name: Mapping[str, str]
) -> tuple[set[str], set[str]]:
    """(libraries, other paths) the component uses through dependencies of this kind."""
    deps = component.deps
    names = deps.runtime_names if kind == "runtime" else deps.dev_names
    paths = deps.runtime_paths if kind == "runtime" else deps.dev_paths
    found = {by_name[n] for n in names if n in by_name}
    others = set()
    for path in paths:
        owner = _owner(path, libs)
        if owner:
            found.add(owner)
        else:
            others.add(path)
    found.discard(component.path)
    return found, others


def reachable_libs(apps: Mapping[str, Component], libs: Mapping[str, Component]) -> set[str]:
    """Every library some app uses, directly (any kind) or through libraries' runtime deps."""
    by_name = _by_name(libs)
    found: set[str] = set()
    todo = [
        lib
        for app in apps.values()
        for kind in ("runtime", "dev")
        for lib in _edges(app, kind, libs, by_name)[0]
    ]
    while todo:
        lib = todo.pop()
        if lib not in found:
            found.add(lib)
            todo.extend(_edges(libs[lib], "runtime", libs, by_name)[0])
    return found


def affected(
    *,
    changed: list[str],
    apps: Mapping[str, Component],
    libs: Mapping[str, Component],
) -> tuple[dict[str, str], set[str], dict[str, str]]:
    """Each affected app → reason; the apps affected at runtime; the changed libs → origin."""
    # Every changed path and each of its parent directories: "did anything under d change" is
    # then one set lookup, however many files changed.
    touched = {str(parent) for p in changed for parent in PurePosixPath(p).parents} | set(changed)
    by_name = _by_name(libs)

    def edges(component: Component, kind: Kind) -> tuple[set[str], set[str]]:
        return _edges(component, kind, libs, by_name)

    def hits(path: str) -> bool:
        return path in touched

    # Libraries changed directly, then everything reaching them through runtime dependencies.
    lib_reason: dict[str, str] = {}
    for lib, component in libs.items():
        _, others = edges(component, "runtime")
        if lib in touched or any(hits(o) for o in others):
            lib_reason[lib] = lib
    grew = True
    while grew:
        grew = False
        for lib, component in libs.items():
            if lib in lib_reason:
                continue
            hit = sorted(edges(component, "runtime")[0] & set(lib_reason))
            if hit:
                lib_reason[lib] = lib_reason[hit[0]]
                grew = True

    def why(lib: str) -> str:
        origin = lib_reason[lib]
        return lib + (f" (which uses {origin})" if origin != lib else "")

    reasons: dict[str, str] = {}
    runtime: set[str] = set()
    for app, component in apps.items():
        if app in touched:
            reasons[app] = "its files changed"
            runtime.add(app)
            continue
        libs_rt, others_rt = edges(component, "runtime")
        libs_dev, others_dev = edges(component, "dev")
        hit = sorted(libs_rt & set(lib_reason))
        if hit:
            reasons[app] = f"uses {why(hit[0])}"
            runtime.add(app)
            continue
        extra = sorted(o for o in others_rt if hits(o))
        if extra:
            reasons[app] = f"depends on {extra[0]}"
            runtime.add(app)
            continue
        hit = sorted(libs_dev & set(lib_reason))
        extra = sorted(o for o in others_dev if hits(o))
        if hit or extra:
            reasons[app] = f"its tests use {why(hit[0]) if hit else extra[0]} (CI only)"
            continue
        if component.unreadable and lib_reason:
            reasons[app] = (
                "its dependencies are unknown (unreadable manifest) and a library changed"
            )
    return reasons, runtime, lib_reason


def _warn_about(apps: Mapping[str, Component], libs: Mapping[str, Component]) -> None:
    lib_names = {lib.dist_name for lib in libs.values() if lib.dist_name}
    for app, component in sorted(apps.items()):
        if component.unreadable:
            runner.warning(
                f"{component.unreadable}. Its dependencies and settings are unknown: it is "
                "listed for CI whenever a library changes, and not deployed until it is fixed.",
                title="changed-apps: unreadable manifest",
            )
            continue
        if not libs or (component.settings and component.settings.depends_on_declared):
            continue
        deps = component.deps
        names = deps.runtime_names | deps.dev_names
        paths = deps.runtime_paths | deps.dev_paths
        if names & lib_names or any(_owner(p, libs) for p in paths):
            continue
        where = ", ".join(component.manifests) or f"{app} (no pyproject.toml or requirements file)"
        runner.warning(
            f"{where} names no library under {PurePosixPath(next(iter(libs))).parent}/, so no "
            "library change will ever list this app. If it uses one, declare it as a path "
            'dependency (Poetry: `x = {path = "../../libs/x", develop = true}`; uv: '
            "[tool.uv.sources]; requirements: `-e ../../libs/x`); if it uses none, say so "
            "with `depends-on = []` in its [tool.hoopstat-factory] settings.",
            title="changed-apps: app without local dependencies",
        )


def _load(
    git: Git, head: str, options: Options
) -> tuple[dict[str, Component], dict[str, Component]]:
    tree = _tree(git, head, options.apps_dir, options.libs_dir)
    blobs = _read_all(git, head, tree)
    _links(tree, blobs)
    apps = {d: parse_component(d, f, blobs, app=True) for d, f in sorted(tree.apps.items())}
    libs = {d: parse_component(d, f, blobs, app=False) for d, f in sorted(tree.libs.items())}
    app_settings.check_apart(c.settings for c in apps.values() if c.settings)
    return apps, libs


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
    apps, libs = _load(git, head, options)
    names = {a: PurePosixPath(a).name for a in apps}
    settings = {names[a]: c.settings for a, c in apps.items() if c.settings}
    deployable = {names[a] for a, c in apps.items() if c.settings and c.settings.deployable}
    paths = {n: a for a, n in names.items()}

    def full(why: str, reason: str = "", changed_files: int = 0) -> Result:
        every = tuple(sorted(names.values()))
        return Result(
            every,
            dict.fromkeys(every, reason or why),
            full_list=True,
            why_full=why,
            changed_files=changed_files,
            deploy=tuple(a for a in every if a in deployable),
            settings=settings,
            paths=paths,
        )

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
        return full(
            f"a path matching {', '.join(matched)} changed: every app",
            f"{matched[0]} changed",
            len(changed),
        )
    _warn_about(apps, libs)
    reasons, runtime, lib_reason = affected(changed=changed, apps=apps, libs=libs)
    reached = reachable_libs(apps, libs)
    unused = tuple(
        sorted(lib for lib in lib_reason if lib_reason[lib] == lib and lib not in reached)
    )
    for lib in unused:
        runner.notice(
            f"{lib} changed, but no app uses it (directly or through another library), so no "
            "app is listed for it. If an app does use it, declare the dependency.",
            title="changed-apps: library change reaches no app",
        )
    listed = tuple(sorted(names[a] for a in reasons))
    return Result(
        listed,
        {names[a]: why for a, why in reasons.items()},
        full_list=False,
        changed_files=len(changed),
        deploy=tuple(sorted(names[a] for a in runtime if names[a] in deployable)),
        changed_libs=tuple(sorted(lib_reason)),
        unused_libs=unused,
        settings=settings,
        paths=paths,
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


# --- outputs ---------------------------------------------------------------------------------


def ci_matrix(result: Result) -> dict[str, list[dict[str, Any]]]:
    include = []
    for app in result.apps:
        settings = result.settings.get(app)
        ci = settings.ci_entry() if settings else _defaults(result.paths[app]).ci_entry()
        include.append(
            {"app": app, "path": result.paths[app], "deploy": app in result.deploy, **ci}
        )
    return {"include": include}


def _defaults(path: str) -> AppSettings:
    return app_settings.parse(path, pyproject=None, settings_file=None)


def deploy_matrix(result: Result) -> dict[str, list[dict[str, str]]]:
    include = []
    for app in result.deploy:
        deploy = result.settings[app].deploy
        assert deploy is not None  # noqa: S101 - deploy holds deployable apps only
        include.append({"app": app, "path": result.paths[app], **deploy.workflow_inputs()})
    return {"include": include}


def publish(result: Result, *, apps_dir: str) -> None:
    del apps_dir  # the paths come from the tree
    ci_only = [a for a in result.apps if a not in result.deploy]
    runner.set_output("apps", json.dumps(list(result.apps)))
    runner.set_output("matrix", json.dumps(ci_matrix(result)))
    runner.set_output("count", str(len(result.apps)))
    runner.set_output("any", "true" if result.apps else "false")
    runner.set_output("deploy-apps", json.dumps(list(result.deploy)))
    runner.set_output("deploy-matrix", json.dumps(deploy_matrix(result)))
    runner.set_output("deploy-count", str(len(result.deploy)))
    runner.set_output("deploy-any", "true" if result.deploy else "false")
    runner.set_output("ci-only-apps", json.dumps(ci_only))
    runner.set_output("changed-libs", json.dumps(list(result.changed_libs)))
    head = (
        f"Every app: {result.why_full}."
        if result.full_list
        else f"{len(result.apps)} app(s) affected by {result.changed_files} changed file(s); "
        f"{len(result.deploy)} to deploy."
    )

    def deploy_cell(app: str) -> str:
        if app in result.deploy:
            return "yes"
        settings = result.settings.get(app)
        if settings is None or not settings.deployable:
            return "CI only (no deploy settings)"
        return "CI only (no runtime change)"

    rows = [
        f"| `{runner.md_escape(a)}` | {deploy_cell(a)} | {runner.md_escape(result.reasons[a])} |"
        for a in result.apps
    ]
    table = (
        ["| app | deploy | why |", "| --- | --- | --- |", *rows] if rows else ["_No app changed._"]
    )
    notes = [f"- `{lib}` changed but reaches no app." for lib in result.unused_libs]
    runner.summary("\n".join(["### Changed apps", "", head, "", *table, "", *notes]))


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
    # In a job the checkout must lie in the workspace, and apps/libs dirs in it (a symlink
    # must not lead the listing out); at a terminal (no GITHUB_WORKSPACE) any directory.
    in_job = bool(environ.get("GITHUB_WORKSPACE"))
    inside = inputs.workspace_path("repo", repo) if in_job else None
    if (inside is not None or not in_job) and not os.path.isdir(repo):
        inputs.problem("repo", f"'{repo}' is not a directory.", "a checkout of the repository")
    elif inside is not None:
        for name, value in (("apps-dir", apps_dir), ("libs-dir", libs_dir)):
            if validate.REPO_DIR.fullmatch(value):
                inputs.workspace_path(name, value, base=inside)
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
