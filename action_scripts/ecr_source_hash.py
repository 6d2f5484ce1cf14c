"""The content address of a build: one digest over everything that decides what gets built.

Inputs: the build context's files as the builder would see them (``.dockerignore`` honoured,
with BuildKit's ``<Dockerfile>.dockerignore`` taking precedence), the Dockerfile, the build args
and the platform. Not inputs: labels (source, revision, creation time are metadata) and ``.git``
(its objects change on every commit; an image that copies ``.git`` in is not reproducible anyway).

Base images named by tag are not resolved: pin them by digest (``FROM x@sha256:...``) so that a
base-image update changes the Dockerfile and therefore the address (docs/ecr-tag-scheme.md).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

# Bump when the hashed material changes, so old addresses cannot collide with new ones.
SCHEME = "hoopstat-factory/src/v1"
ALWAYS_EXCLUDED = (".git",)


@dataclass(frozen=True)
class IgnoreRule:
    regex: re.Pattern[str]
    exclusion: bool  # a ``!pattern``: matching paths are put back
    text: str


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Translate one .dockerignore pattern as moby's patternmatcher does (``**`` spans dirs)."""
    out = "^"
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            if pattern[i + 1 : i + 2] == "*":
                i += 1
                if pattern[i + 1 : i + 2] == "/":
                    i += 1
                out += ".*" if i + 1 >= len(pattern) else "(.*/)?"
            else:
                out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out += re.escape(char)
            else:
                body = pattern[i + 1 : end]
                if body.startswith("^"):
                    body = "!" + body[1:]
                out += "[" + ("^" + body[1:] if body.startswith("!") else body) + "]"
                i = end
        else:
            out += re.escape(char)
        i += 1
    return re.compile(out + "$")


def parse_dockerignore(text: str) -> list[IgnoreRule]:
    rules: list[IgnoreRule] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        cleaned = os.path.normpath(line).lstrip("/")
        if cleaned in {"", "."}:
            continue
        rules.append(IgnoreRule(_pattern_regex(cleaned), exclusion, raw.strip()))
    return rules


def is_ignored(path: str, rules: list[IgnoreRule]) -> bool:
    """Last matching rule wins; a rule matching a parent directory matches everything below."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for rule in rules:
        if any(rule.regex.match(prefix) for prefix in prefixes):
            ignored = not rule.exclusion
    return ignored


def ignore_file_for(context: Path, dockerfile: Path) -> Path | None:
    """BuildKit reads ``<Dockerfile>.dockerignore`` beside the Dockerfile first."""
    specific = dockerfile.with_name(dockerfile.name + ".dockerignore")
    if specific.is_file():
        return specific
    general = context / ".dockerignore"
    return general if general.is_file() else None


def context_entries(context: Path, rules: list[IgnoreRule]) -> list[str]:
    """One line per file, symlink and directory the builder would receive, in a stable order."""
    entries: list[str] = []
    for root, dirs, files in os.walk(context, followlinks=False):
        rel_root = os.path.relpath(root, context)
        rel_root = "" if rel_root == "." else rel_root.replace(os.sep, "/")
        dirs.sort()
        kept_dirs = []
        for name in dirs:
            rel = f"{rel_root}/{name}" if rel_root else name
            if rel in ALWAYS_EXCLUDED:
                continue
            full = Path(root, name)
            if full.is_symlink():
                files.append(name)  # a symlink to a directory is an entry, not a subtree
                continue
            kept_dirs.append(name)
            if not is_ignored(rel, rules):
                entries.append(f"d {rel}")
        dirs[:] = kept_dirs  # ignored dirs are still walked: a ``!`` rule may put files back
        for name in sorted(files):
            rel = f"{rel_root}/{name}" if rel_root else name
            if is_ignored(rel, rules):
                continue
            full = Path(root, name)
            info = full.lstat()
            if stat.S_ISLNK(info.st_mode):
                entries.append(f"l {rel} {os.readlink(full)}")
            elif stat.S_ISREG(info.st_mode):
                executable = "x" if info.st_mode & 0o111 else "-"
                entries.append(f"f {rel} {executable} {file_sha256(full)}")
    return sorted(entries)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def source_hash(
    *,
    context: Path,
    dockerfile: Path,
    build_args: tuple[tuple[str, str], ...],
    platform: str,
) -> str:
    """The hex digest that ``src-<hash>`` tags carry (see module docstring for what goes in)."""
    ignore_file = ignore_file_for(context, dockerfile)
    rules = parse_dockerignore(ignore_file.read_text()) if ignore_file else []
    digest = hashlib.sha256()
    lines = [
        SCHEME,
        f"platform {platform}",
        f"dockerfile {hashlib.sha256(dockerfile.read_bytes()).hexdigest()}",
        *(f"arg {key}={value}" for key, value in sorted(build_args)),
        *context_entries(context, rules),
    ]
    for line in lines:
        digest.update(line.encode("utf-8", "surrogateescape") + b"\n")
    return digest.hexdigest()
