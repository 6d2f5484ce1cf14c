"""Time ``factory changed-apps`` on a generated monorepo: 200 apps, 20 libs, 20,000 files.

    .venv/bin/python benchmarks/changed_apps.py [--apps 200] [--files 20000] [--keep DIR]

Three changes are timed, each the median of several runs of the whole command (git processes
included, as a workflow step pays them): one app's file, a widely used lib (fans out to many
apps), and a wide change touching a file in every app. Target: under 1 s each.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

from action_scripts import changed_apps

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@localhost",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@localhost",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=GIT_ENV
    )
    return done.stdout.strip()


def generate(repo: Path, *, apps: int, libs: int, files: int) -> None:
    """Apps use lib (i % libs) and, every third app, lib00 too; libs 01-04 use lib00.

    Files (pyproject.toml included) are spread evenly over the components, to ``files`` total.
    """
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    per_component, extra = divmod(files, apps + libs)

    def count(index: int) -> int:
        return max(1, per_component + (1 if index < extra else 0))

    for j in range(libs):
        lib = repo / "libs" / f"lib{j:02d}"
        deps = '"hoopstat-lib00"' if 0 < j < 5 else ""
        write(lib / "pyproject.toml", f'[project]\nname = "hoopstat-lib{j:02d}"\n'
              f"dependencies = [{deps}]\n")
        for k in range(count(apps + j) - 1):
            write(lib / "src" / f"m{k // 20}" / f"f{k}.py", f"X = {k}\n")
    for i in range(apps):
        app = repo / "apps" / f"app{i:03d}"
        deps = [f'"hoopstat-lib{i % libs:02d}>=0.1"'] + (['"hoopstat-lib00"'] if i % 3 == 0 else [])
        write(app / "pyproject.toml", f'[project]\nname = "app{i:03d}"\n'
              f"dependencies = [{', '.join(deps)}, \"boto3\"]\n")
        for k in range(count(i) - 1):
            write(app / "src" / f"m{k // 20}" / f"f{k}.py", f"Y = {k}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "generated")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def commit_change(repo: Path, paths: list[str]) -> tuple[str, str]:
    base = git(repo, "rev-parse", "HEAD")
    for name in paths:
        with (repo / name).open("a") as handle:
            handle.write("# changed\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change")
    return base, git(repo, "rev-parse", "HEAD")


def time_run(repo: Path, base: str, head: str, *, runs: int) -> tuple[float, str]:
    seconds = []
    captured = ""
    for _ in range(runs):
        buffer = io.StringIO()
        started = time.perf_counter()
        with redirect_stdout(buffer):
            code = changed_apps.main(["--repo", str(repo), "--base", base, "--head", head])
        seconds.append(time.perf_counter() - started)
        assert code == 0, buffer.getvalue()
        captured = buffer.getvalue()
    count = next(line for line in captured.splitlines() if line.startswith("output count="))
    return statistics.median(seconds), count.removeprefix("output count=")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=200)
    parser.add_argument("--libs", type=int, default=20)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="generate here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        repo = args.keep or Path(scratch) / "mono"
        started = time.perf_counter()
        generate(repo, apps=args.apps, libs=args.libs, files=args.files)
        tracked = len(git(repo, "ls-files").splitlines())
        print(f"generated {args.apps} apps, {args.libs} libs, {tracked} files "
              f"in {time.perf_counter() - started:.1f}s")
        cases = {
            "one app file": ["apps/app007/src/m0/f0.py"],
            "lib00 (used by many)": ["libs/lib00/src/m0/f0.py"],
            "one file in every app": [f"apps/app{i:03d}/src/m0/f1.py" for i in range(args.apps)],
        }
        print(f"{'change':<24} {'apps listed':>11} {'median':>9}  target < 1 s")
        for name, paths in cases.items():
            base, head = commit_change(repo, paths)
            seconds, count = time_run(repo, base, head, runs=args.runs)
            verdict = "ok" if seconds < 1 else "SLOW"
            print(f"{name:<24} {count:>11} {seconds * 1000:>7.0f}ms  {verdict}")


if __name__ == "__main__":
    main()
