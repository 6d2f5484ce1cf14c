"""Time the composite actions' Python setup: cold (fresh RUNNER_TEMP) and warm (reused venv).

Runs `actions/factory-run.sh oidc-login --help` — a factory subcommand that needs the installed
package but no AWS — against an export of the suite, the way `uses:` sees it.

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


def timed(script: Path, runner_temp: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "HOOPSTAT_FACTORY_VENV_ROOT"}
    env["RUNNER_TEMP"] = str(runner_temp)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    started = time.perf_counter()
    subprocess.run(
        ["bash", str(script), "oidc-login", "--help"], check=True, env=env, capture_output=True
    )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        suite = export_suite(ROOT, Path(tmp) / "suite")
        script = suite / "actions" / "factory-run.sh"
        cold, warm = [], []
        for round_ in range(args.rounds):
            runner_temp = Path(tmp) / f"runner-temp-{round_}"
            runner_temp.mkdir()
            cold.append(timed(script, runner_temp))
            warm.append(timed(script, runner_temp))
    print(
        f"cold setup (new venv + pip install): median {statistics.median(cold):.2f}s "
        f"over {len(cold)} rounds (min {min(cold):.2f}s, max {max(cold):.2f}s)"
    )
    print(
        f"warm (venv reused in the same job):  median {statistics.median(warm):.2f}s "
        f"(min {min(warm):.2f}s, max {max(warm):.2f}s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
