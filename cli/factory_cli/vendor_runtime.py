"""Vendor the runtime library into an app repository: ``libs/hoopstat-runtime``.

The route by which ``hoopstat-runtime`` reaches an app (docs/adr/0011-runtime-library-route.md):
it is not on the package index, and neither a runner nor the Lambda base image should need git or
a token for the suite's repository. So the app repository carries a copy, which its
``pyproject.toml`` names as a path dependency (hatchling's ``{root:uri}``) and its Dockerfile
copies into the build context. What is copied: the library's ``pyproject.toml``, ``README.md``
(its metadata reads it) and its ``src/`` package (no tests, no build leftovers), plus
``VENDORED.md`` saying where it came from.

    python -m factory_cli.vendor_runtime APP_DIR [--source LIBS/hoopstat-runtime] [--check]

``factory init --new-app`` calls :func:`vendor` after writing the app; re-running it refreshes
the copy (files the library no longer has are removed).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

from action_scripts.errors import FactoryError

VENDOR_DIR = "libs/hoopstat-runtime"
MARKER = "VENDORED.md"
# In a checkout of the suite (the CLI installed editable, or run from the repository).
CHECKOUT_SOURCE = Path(__file__).resolve().parents[2] / "libs" / "hoopstat-runtime"
SKIP_PARTS = frozenset({"__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", "build"})


def runtime_files(source: Path) -> dict[str, bytes]:
    """Path under ``libs/hoopstat-runtime`` → content: what an app repository carries."""
    if not (source / "pyproject.toml").is_file() or not (source / "src").is_dir():
        raise FactoryError(
            f"{source} is not the hoopstat-runtime library (no pyproject.toml and src/).",
            title="Runtime library not found",
            fix="Pass --source with a suite checkout's libs/hoopstat-runtime.",
            reason="invalid-input",
        )
    files = {name: (source / name).read_bytes() for name in ("pyproject.toml", "README.md")
             if (source / name).is_file()}
    for path in sorted((source / "src").rglob("*")):
        rel = path.relative_to(source)
        if (not path.is_file() or SKIP_PARTS.intersection(rel.parts) or path.suffix == ".pyc"
                or any(part.endswith(".egg-info") for part in rel.parts)):
            continue
        files[rel.as_posix()] = path.read_bytes()
    return files


def fingerprint(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return "sha256:" + digest.hexdigest()


def marker_text(files: dict[str, bytes], *, origin: str) -> str:
    return (
        "# Vendored: hoopstat-runtime\n\n"
        "A copy of the Hoopstat Factory runtime library, so that this repository builds with only\n"
        "the package index (docs/adr/0011-runtime-library-route.md in the suite). Do not edit it\n"
        "here: `factory init` refreshes it from the suite release the workflows are pinned to.\n\n"
        f"- from: {origin}\n"
        f"- content: {fingerprint(files)}\n"
    )


def vendor(app_dir: Path, *, source: Path = CHECKOUT_SOURCE, origin: str = "") -> list[str]:
    """Write the library into ``app_dir/libs/hoopstat-runtime``; return the paths written."""
    files = runtime_files(source)
    target = app_dir / VENDOR_DIR
    if target.is_symlink():
        target.unlink()
    shutil.rmtree(target, ignore_errors=True)
    for name, content in files.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(content)
    (target / MARKER).write_text(marker_text(files, origin=origin or "hoopstat-runtime"))
    return [f"{VENDOR_DIR}/{name}" for name in [*files, MARKER]]


def stale(app_dir: Path, *, source: Path = CHECKOUT_SOURCE) -> list[str]:
    """Files of the vendored copy that differ from ``source`` (missing, changed or extra)."""
    wanted = runtime_files(source)
    target = app_dir / VENDOR_DIR
    present = {p.relative_to(target).as_posix(): p.read_bytes()
               for p in target.rglob("*") if p.is_file()} if target.is_dir() else {}
    present.pop(MARKER, None)
    names = set(wanted) | set(present)
    return sorted(n for n in names if wanted.get(n) != present.get(n))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m factory_cli.vendor_runtime",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("app_dir", type=Path)
    parser.add_argument("--source", type=Path, default=CHECKOUT_SOURCE,
                        help="the library to copy (default: this checkout's libs/hoopstat-runtime)")
    parser.add_argument("--check", action="store_true",
                        help="only report files that differ; exit 1 if any")
    args = parser.parse_args(argv)
    try:
        if args.check:
            different = stale(args.app_dir, source=args.source)
            for name in different:
                print(f"{VENDOR_DIR}/{name} differs from {args.source}")
            return 1 if different else 0
        for name in vendor(args.app_dir, source=args.source):
            print(f"  vendored {name}")
    except FactoryError as exc:
        print(f"::error title={exc.title}::{exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
