"""Time ecr-push on the bench: a first build+push, a cache hit, and a rebuild after a change.

Starts its own bench (moto + OIDC issuer) and registry, builds a busybox image with buildah, and
runs the action's main() in a subprocess per round (as the composite action would).

    .venv/bin/python benchmarks/ecr_push_cache.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from factory_bench.stack import Bench, start_service  # noqa: E402


def push_once(env: dict[str, str], workdir: Path) -> float:
    outputs = workdir / f"out-{secrets.token_hex(3)}"
    run_env = {**env, "GITHUB_OUTPUT": str(outputs), "GITHUB_SHA": secrets.token_hex(20)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "action_scripts.ecr_push"], env=run_env,
                          capture_output=True, text=True, cwd=ROOT, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stdout[-3000:] + done.stderr[-3000:])
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Bench(Path(tmp) / "bench") as bench:
        work = Path(tmp)
        registry = start_service(
            "registry", [sys.executable, "-m", "factory_bench.registry",
                         "--moto-url", bench.moto_url, "--workdir", str(work / "registry")],
            log_dir=work / "logs")
        try:
            app = work / "app"
            app.mkdir()
            shutil.copy("/bin/busybox", app / "busybox")
            (app / "msg").write_text("0\n")
            (app / "Dockerfile").write_text("FROM scratch\nCOPY busybox /bin/busybox\nCOPY msg /\n")
            repository = f"bench/app-{secrets.token_hex(3)}"
            bench.admin_client("ecr").create_repository(
                repositoryName=repository, imageTagMutability="IMMUTABLE",
                imageScanningConfiguration={"scanOnPush": True})
            env = {**{k: v for k, v in os.environ.items() if not k.startswith("INPUT_")},
                   **bench.admin_env(), "GITHUB_WORKSPACE": str(work), "RUNNER_TEMP": str(work),
                   "HOOPSTAT_FACTORY_REGISTRY_ENDPOINT": registry.info["url"],
                   "INPUT_REPOSITORY": repository, "INPUT_CONTEXT": "app",
                   "INPUT_BUILDER": "buildah"}
            builds, hits = [], []
            for round_number in range(1, args.rounds + 1):
                (app / "msg").write_text(f"{round_number}\n")
                builds.append(push_once(env, work))
                hits.append(push_once(env, work))
            for name, values in (("build + push", builds), ("cache hit", hits)):
                print(f"{name:>13}: median {statistics.median(values):.2f}s "
                      f"(min {min(values):.2f}s, max {max(values):.2f}s, n={len(values)})")
        finally:
            registry.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
