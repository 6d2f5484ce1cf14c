"""Time the composite actions' Python setup: cold (fresh RUNNER_TEMP) and warm (reused venv),
against a plain `pip install` of the suite measured in the same run.

Each round, interleaved so both see the same machine load:

- **factory-run.sh cold**: a fresh RUNNER_TEMP and empty pip/uv caches (as on a GitHub-hosted
  runner): pinned uv from requirements/uv.txt, then requirements/runtime.txt, hash-checked.
- **factory-run.sh warm**: the same RUNNER_TEMP again (every later factory step of a job).
- **plain pip**: what factory-run.sh did before the lock: `python -m venv` and
  `pip install <suite>` (resolving, and fetching the build backend), empty pip cache.

The script runs `factory-run.sh` with no action: setup, interpreter start and the import of
`action_scripts`, then the usage message (exit 2), so no AWS is needed and no action's own import
cost is counted.

    .venv/bin/python benchmarks/action_setup.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from factory_bench.act import export_suite  # noqa: E402


def clean_env(scratch: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HOOPSTAT_FACTORY_VENV_ROOT"}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PIP_CACHE_DIR"] = str(scratch / "pip-cache")
    env["UV_CACHE_DIR"] = str(scratch / "uv-cache")
    return env


def factory_run(script: Path, runner_temp: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        ["bash", str(script)], env={**env, "RUNNER_TEMP": str(runner_temp)},
        capture_output=True, text=True, check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 2 or "usage: python -m action_scripts" not in done.stderr:
        raise SystemExit(f"factory-run.sh failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return elapsed


def plain_pip(suite: Path, scratch: Path, env: dict[str, str]) -> float:
    venv = scratch / "plain-venv"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", str(suite)],
        check=True, env=env, capture_output=True,
    )
    return time.perf_counter() - started


def summary(label: str, times: list[float]) -> str:
    return (f"{label}: median {statistics.median(times):.2f}s over {len(times)} rounds "
            f"(min {min(times):.2f}s, max {max(times):.2f}s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cold: list[float] = []
    warm: list[float] = []
    plain: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        suite = export_suite(ROOT, Path(tmp) / "suite")
        script = suite / "actions" / "factory-run.sh"
        for round_ in range(args.rounds):
            scratch = Path(tmp) / f"round-{round_}"
            (scratch / "runner-temp").mkdir(parents=True)
            env = clean_env(scratch)
            cold.append(factory_run(script, scratch / "runner-temp", env))
            warm.append(factory_run(script, scratch / "runner-temp", env))
            plain.append(plain_pip(suite, scratch, clean_env(scratch / "plain")))
    print(summary("factory-run.sh cold (pinned uv + hashed lock)", cold))
    print(summary("factory-run.sh warm (venv reused in the job) ", warm))
    print(summary("plain venv + pip install <suite>              ", plain))
    ratios = [c / p for c, p in zip(cold, plain, strict=True)]
    print(f"cold / plain pip: median {statistics.median(ratios):.2f}x "
          f"(per round: {', '.join(f'{r:.2f}' for r in ratios)}; goal <= 0.35x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
