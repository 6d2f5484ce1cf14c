"""Time a merge re-run with no app change: the whole deploy workflow under act, and the factory
steps' own share of it (issue 7: "no build, a few seconds of tool time").

Brings up the bench (moto, local registry, OIDC issuer, FAKE GitHub API), applies the local-run
Terraform, deploys hello-stats once, then pushes N commits that do not touch the app and runs
the merge workflow for each. Per run it prints: act's wall time, the ecr-push and lambda-deploy
steps' time as act logged it, whether an image was built, and whether a Lambda version was
published. Both must be "no"; the script exits 1 otherwise.

    .venv/bin/python benchmarks/pipeline_rerun.py [--runs 3] [--app DIR] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from factory_bench import act, local_run
from factory_bench.stack import Bench

ROOT = Path(__file__).resolve().parents[1]

# act ends each step with "✅  Success - Main <step name> [1.234s]" (or "❌  Failure - ...");
# composite actions log their inner steps the same way, so the outer step is the one whose
# name matches the caller's step and whose line comes last.
STEP_DONE = re.compile(
    r"^\[(?P<job>[^\]]+)\]\s+(?:✅|❌)\s+(?:Success|Failure) - Main (?P<step>.+?) "
    r"\[(?P<seconds>[0-9.]+)(?P<unit>ms|s|m)\]\s*$"
)
# Which logged step counts as which factory action: matched on the step name as act prints it.
FACTORY_STEPS = {
    "ecr-push": re.compile(r"ecr[- ]push|push.*image|image.*push", re.I),
    "lambda-deploy": re.compile(r"lambda[- ]deploy|deploy.*lambda", re.I),
}


def step_seconds(log: str) -> dict[str, float]:
    """Seconds per factory action, from act's step-completion lines (the longest match per
    action, which is the outer composite step rather than one of its inner steps)."""
    found: dict[str, float] = {}
    for line in log.splitlines():
        match = STEP_DONE.match(line.strip())
        if not match:
            continue
        value = float(match["seconds"])
        value = (
            value / 1000 if match["unit"] == "ms" else value * 60 if match["unit"] == "m" else value
        )
        for action, pattern in FACTORY_STEPS.items():
            if pattern.search(match["step"]):
                found[action] = max(found.get(action, 0.0), value)
    return found


def all_steps(log: str) -> list[tuple[str, str, str]]:
    """(job, step, time) of every completed step, for the --steps listing."""
    return [
        (m["job"], m["step"], m["seconds"] + m["unit"])
        for m in (STEP_DONE.match(line.strip()) for line in log.splitlines())
        if m
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="re-runs to time (default 3)")
    parser.add_argument("--app", type=Path, default=ROOT / "examples" / "hello-stats")
    parser.add_argument("--workdir", type=Path, default=None, help="keep logs here")
    parser.add_argument("--steps", action="store_true", help="also list every step's time")
    args = parser.parse_args()
    missing = local_run.preflight(ROOT)
    if missing:
        print("pipeline_rerun needs: " + "; ".join(missing), file=sys.stderr)
        return 1
    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="hoopstat-rerun-bench-"))).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"Work dir {workdir}", flush=True)
    failures = 0
    try:
        with Bench(workdir / "bench", registry=True) as bench:
            pipeline = local_run.Pipeline(bench=bench, app_dir=args.app.resolve(), workdir=workdir,
                                          suite_root=ROOT)
            started = time.monotonic()
            pipeline.provision()
            pipeline.seed()
            pipeline.render()
            suite = act.export_suite(ROOT, workdir / "suite")
            cache = workdir / "act-cache"
            print(
                f"setup (terraform apply, seed, render) {time.monotonic() - started:.1f}s",
                flush=True,
            )
            first = pipeline.push(
                "first deploy",
                change=None,
                suite=suite,
                cache=cache,
                expected="build, push, deploy",
            )
            first_steps = step_seconds(first.log)
            print(
                f"first deploy: act {first.seconds:.1f}s, ecr-push "
                f"{first_steps.get('ecr-push', float('nan')):.1f}s, lambda-deploy "
                f"{first_steps.get('lambda-deploy', float('nan')):.1f}s, built "
                f"{'yes' if first.built else 'no'}, new versions "
                f"{','.join(first.new_versions) or 'none'} (log {first.log_path})",
                flush=True,
            )
            if not first.ok or not first.new_versions:
                print("first deploy did not publish a version; nothing to re-run", file=sys.stderr)
                return 1

            print(
                f"\n{'run':>4} {'act wall s':>11} {'ecr-push s':>11} {'lambda-deploy s':>16} "
                f"{'factory s':>10} {'built':>6} {'new version':>12}"
            )
            walls: list[float] = []
            tools: list[float] = []
            for index in range(1, args.runs + 1):
                run = pipeline.push(
                    f"rerun {index}",
                    change=None,
                    suite=suite,
                    cache=cache,
                    expected="no build, no new version",
                )
                steps = step_seconds(run.log)
                tool = sum(steps.values())
                new = ",".join(run.new_versions) or "no"
                walls.append(run.seconds)
                tools.append(tool)
                bad = not run.ok or run.built or bool(run.new_versions) or len(steps) < 2
                failures += bad
                print(
                    f"{index:>4} {run.seconds:>11.1f} "
                    f"{steps.get('ecr-push', float('nan')):>11.2f} "
                    f"{steps.get('lambda-deploy', float('nan')):>16.2f} {tool:>10.2f} "
                    f"{'yes' if run.built else 'no':>6} {new:>12}"
                    + (f"  <- FAILED (ok={run.ok}; log {run.log_path})" if bad else ""),
                    flush=True,
                )
                if args.steps:
                    for job, step, took in all_steps(run.log):
                        print(f"       {job}: {step} [{took}]")
            print(
                f"\nmedian act wall {statistics.median(walls):.1f}s, median factory-step time "
                f"{statistics.median(tools):.2f}s over {len(walls)} re-run(s); "
                f"logs in {workdir}"
            )
    finally:
        for heavy in ("suite", "act-cache", "tf", "tf-src"):
            shutil.rmtree(workdir / heavy, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
