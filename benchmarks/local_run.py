"""Time the whole hello-stats rehearsal (`./dev local-run`), with the split per stage and per job.

Runs exactly what `factory-bench local-run` runs (same code, :func:`local_run.rehearse`), then
prints the total, every stage (bench up, Terraform apply, seed, render, suite export, each act
run, teardown), and inside each act run the time of each job's main steps as act logged them
(setup-python, pip install, lint, tests; OIDC login, build and push, deploy). The issue 13.5 goal
is 60 s on a 2-core machine; the load average at start and end is printed beside the figure,
because other work on the same cores changes it.

    .venv/bin/python benchmarks/local_run.py [--scenario deploy] [--runs 1] [--workdir DIR]

Run from the suite checkout (`terraform` on PATH, the provider mirror, act, buildah,
docker-registry: what `./dev local-run` needs). Exits 1 if a rehearsal fails.

Latest, 2026-12-02 session 3, on a freshly booted machine (load 0.1-1.5): at commit c2acf1f
**totals 78.9 s and 76.7 s**; of the 76.7 s, **63.4 s are inside the jobs' named steps** (the
line this benchmark now prints: what a runner itself runs, before act's job set-up or any bench
stage), so the four merges' own work already exceeds the 60 s goal. Per merge: setup-python
0.6-0.9, install 2.3-3.0 (4.7 first: the hash-checked uv), tests 6.1-6.9, OIDC 0.9-1.2 (5.1
first: the actions' venv), build 0.9-1.9, deploy 1.0-2.0; act ~1.4 a run; bench up 1.2, checks
1.4, cleanup 0.9. Measured by hand in a job-like fresh environment: the app's pytest session 4.2
s (four fresh-interpreter handler runs, ~0.55 s of imports each, 0.13 s of it the X-Ray
recorder; moto's start 0.4 s) plus ~1.2 s of start-up, ~2-3 s more while bytecode is compiled on
first import; an environment restored from a cache and then synced exactly (`uv pip install
--exact --upgrade` with the local packages reinstalled) saved ~1.5 s a job net on this machine,
not enough to reach 60 s, so it was not built. After the invoke hook change (the handler runs on
the image's Python 3.12 with the image's requirements, commit 5b64b93): 106.1 s (the first
rehearsal installs hello-stats' requirements once, ~10 s with pip, then kept per content) and
82.2 s (load ~1; named steps 67.6 s; the deploy step +0.3-0.5 s). At commit 30c85b9 (load
1.4-1.5, requirements already kept): **78.6 s and 73.8 s; named steps 65.0 s and 60.6 s**.
Rehearsal 2: act runs 21.9 / 12.9 / 15.3 / 2.6 / 16.1; tests 6.1-6.6, install 2.2-2.8 (4.2
first), OIDC 0.8-0.9 (6.2 first), build 0.8-1.5, deploy 0.9-1.8; Terraform 11.0 alongside.

Previous, 2026-12-02 session 2: `./dev local-run` in a fresh clone of f8cab6d right after its
`CI=true bash .ci/run` (814 passed; 2.3 GB of pytest dirs left in /tmp): **89.7 s**, first merge
27.2 s with Terraform 13.7 s alongside (the same command after CI took 183.3 s and 290.3 s before
the temp-dir fix). This benchmark (commits 64347c4 and before, release v0.3.2; two rehearsals back
to back, load 0.6-1.6): **totals 121.5 s and 100.3 s**; earlier the same session 96.4/101.2 s and
98.2/100.3 s (load ~1-1.4). Rehearsal 2 of the latest: bench up 1.8, render 0.1, suite export
2.1, the five act runs 28.9 / 18.0 / 20.1 / 3.4 / 20.0, checks 2.2, cleanup 3.3; alongside the
first merge (not in the total): Terraform 17.9 (init 5.4, apply 12.3), seed 0.4. Per merge:
setup-python 0.7-1.1 (was 1.5-1.9), install 2.9-3.1 (5.3 first), tests 8.6-11.0, OIDC 0.8-1.3
(8.7 first: the actions' venv, its wheels from the index as on a runner), build 1.1-1.9, deploy
1.3-2.8. Rehearsal 1 paid a cold page cache for the 700 MB provider (init 17.3, apply 18.7).
What changed: (1) each act run gets a temp dir of its own (the first rehearsal after `.ci/run`
measured 490.9 s, its first merge 268.1 s: the app's pytest deleting the suite's stale basetemp
dirs in the shared /tmp); (2) pip installs the hash-checked uv with --target, no venv (-3.5 s on
the first job); (3) Terraform applies alongside the first merge's CI job, the deploy job's token
waiting at a gate (122.5/118.6 s -> 96-101 s); (4) the FAKE setup-python hard-links its copy.
Still over 60 s: four runs of the app's tests at 8.6-11 s each in a fresh environment (~2.5 s of
it compiling boto3/moto/flask bytecode; the four fresh-interpreter handler invocations ~3 s), and
~4.5 s a merge of deploy-job steps. Measured by hand: `uv pip install --compile-bytecode` costs
10.3 s against the ~2.5 s it would save.

Previous, 2026-12-02 (commit 14efe86, release v0.3.1; two rehearsals back to back, load
1.0-1.2 on the 2 cores): **totals 107.9 s and 119.4 s**, still about twice the 60 s goal.
Rehearsal 1: bench up 2.1, Terraform 12.5 (init 2.6, apply 9.7), checks 2.0, seed 0.3, render
0.1, suite export 0.1, git commits 0.1, the five act runs 27.7 / 17.4 / 20.6 / 3.6 / 19.7,
teardown 0.6, cleanup 1.2, untimed 0.0. Inside each of the four merges: setup-python 0.9-1.5,
Install (uv-pip) 9.3 on the first merge (pip installs the hash-checked uv once per rehearsal)
then 2.4-2.7, the app's tests 7.8-9.1, the deploy job's OIDC login 4.4 first (the actions'
venv from the hash-pinned lock) then 0.9-1.1, build and push 1.1-1.9, deploy 1.5-2.5.

What got it here from 238.5 s (commit 10cc152, same scenario, load 0.7-1.2): installer uv-pip
(the same `.[test]` through the hash-checked uv, in an environment made without ensurepip:
install 18.0-27.1 s -> 2.4-2.7 s); the app's tests seeding moto in-process and one smoke
invocation fewer (10.3-24.5 s -> 7.8-9.1 s); moto's URL reaching Terraform as AWS_ENDPOINT_URL
instead of an `endpoints` block (28.9 s -> 12.5 s, see below) and one moto client per service.
What is left for 60 s: the four runs of the app's tests (~34 s: four fresh-interpreter
invocations of the real handler at ~1.5 s each on this sandbox, where `import boto3` alone takes
0.5-0.8 s, plus moto's server start), Terraform's fixed waits, and ~4 s a merge of job setup.

Bench side (issue 13.5), measured 2026-12-02 on commit b586e3b plus the CI changes of that hour, by
a helper (load 0.7-1.1): **total 97.2 s**; bench up 1.0, Terraform 10.5 (init 0.6, apply 9.7),
checks 1.6 (the rows' moto reads and two live invokes of the real handler), seed 0.5, render 0.1,
suite export 0.3, git commits 0.1, the five act runs 25.5 / 18.6 / 17.8 / 2.3 / 16.7, teardown 0.3,
cleanup 2.1 (removing the act cache, ~11k files), untimed 0.0. The Terraform stage was 14.3 s on
the same quiet machine before moto's URL reached the provider as AWS_ENDPOINT_URL instead of an
`endpoints` block (hashicorp/aws 5.100 validates that block for seconds of CPU per provider
configure; 20-27 s vs 16-18 s under load 3). What is left of it: the provider's fixed 5 s wait
after CreateFunction (`Delay: 5s` in its waiter) and four provider process starts (~1.5 s of schema
loading in the first); `terraform output` is no longer run (the apply's state is read).

Earlier: 2026-12-01 (commit f5ecb51, load 2.0-4.4) total 560.7 s. `--scenario monorepo` (the
real client's fixture, 5 rows) measured 132.2 s on 2026-12-02; the `terraform` scenario (load
8-13, 2026-12-01) PR plan and comment 59.6 s, merge apply 77.7 s, the merge's deploy 220.9 s;
again on 2026-12-02 (`./dev local-run --scenario terraform`, commit e2043b2 plus the endpoints
change, load ~1): 22.8 s, 16.2 s and 57.9 s.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from factory_bench import local_run

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 60.0
# act ends each step with "[<workflow>/<job>]   ✅  Success - Main <step> [1.234s]".
STEP_DONE = re.compile(
    r"^\[(?P<job>[^\]]+)\]\s+(?:✅|❌)\s+(?:Success|Failure) - Main (?P<step>.+?) "
    r"\[(?P<value>[0-9.]+)(?P<unit>ms|s|m\d*[0-9.]*s?)\]\s*$"
)
# The steps worth naming in the split (the caller's step names in the reusable workflows).
NAMED = re.compile(r"^(Set up Python|Install.*|Lint|Test|Log in to AWS.*|Build and push.*|"
                   r"Deploy to Lambda|Roll back.*|Terraform .*|Post the plan.*|Check out.*)$")


def seconds(value: str, unit: str) -> float:
    if unit == "ms":
        return float(value) / 1000
    if unit == "s":
        return float(value)
    # act prints minutes as e.g. "3m6.84s": value holds the minutes, unit the rest.
    minutes_rest = re.fullmatch(r"m([0-9.]*)s?", unit)
    return float(value) * 60 + (float(minutes_rest.group(1) or 0) if minutes_rest else 0.0)


def step_split(log: str) -> list[tuple[str, str, float]]:
    """(job, step, seconds) of each named main step, in log order."""
    split = []
    for line in log.splitlines():
        match = STEP_DONE.match(line.strip())
        if match and NAMED.match(match["step"]):
            job = match["job"].rsplit("/", 1)[-1]
            split.append((job, match["step"], seconds(match["value"], match["unit"])))
    return split


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def print_stages(timings: dict[str, float], terraform: list[tuple[str, float]]) -> None:
    """One line per stage; the Terraform stage's commands indented under it."""
    for stage, took in timings.items():
        print(f"{stage:<34} {took:>8.1f}")
        if stage == "terraform apply":
            for command, spent in terraform:
                print(f"    terraform {command:<24} {spent:>8.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--app", type=Path, default=ROOT / "examples" / "hello-stats")
    parser.add_argument("--scenario", action="append", choices=[*local_run.SCENARIOS],
                        help="default: the default run's scenarios")
    parser.add_argument("--runs", type=int, default=1, help="rehearsals to time (default 1)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep logs here")
    args = parser.parse_args()
    missing = local_run.preflight(ROOT)
    if missing:
        print("benchmarks/local_run.py needs: " + "; ".join(missing), file=sys.stderr)
        return 1
    names = tuple(args.scenario or local_run.DEFAULT_SCENARIOS)
    totals: list[float] = []
    floors: list[float] = []  # seconds inside the jobs' named steps, per rehearsal
    for index in range(1, args.runs + 1):
        workdir = ((args.workdir / f"run-{index}") if args.workdir
                   else Path(tempfile.mkdtemp(prefix="hoopstat-local-run-bench-"))).resolve()
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        before = load()
        done = local_run.rehearse(args.app.resolve(), workdir, suite_root=ROOT, keep=False,
                                  scenario_names=names)
        after = load()
        if done.code != 0 or done.pipeline is None:
            print(f"rehearsal {index} failed; logs in {workdir}", file=sys.stderr)
            return 1
        totals.append(done.total)
        print(f"\n### rehearsal {index}: total {done.total:.1f}s (goal {GOAL_SECONDS:.0f}s); "
              f"at start {before}; at end {after}")
        print(f"{'stage':<34} {'seconds':>8}")
        workspace = done.pipeline._workspace
        split = workspace.seconds if workspace is not None else []
        print_stages(done.pipeline.timings, split)
        accounted = sum(done.pipeline.timings.values())
        print(f"{'(other: untimed)':<34} {done.total - accounted:>8.1f}")
        if done.pipeline.overlapped:
            print("alongside the first merge (not in the total's split):")
            print_stages(done.pipeline.overlapped, split)
        in_steps = 0.0
        for run in done.pipeline.runs:
            print(f"\n{run.name} ({run.seconds:.1f}s, {run.image_step}):")
            for job, step, took in step_split(run.log):
                print(f"    {job:<40.40} {step:<44.44} {took:>7.1f}")
                in_steps += took
        floors.append(in_steps)
        print(f"\nthe jobs' named steps (what a runner runs; above): {in_steps:.1f}s of the "
              f"{done.total:.1f}s total; act's job set-up and the bench's stages: the rest")
    if len(totals) > 1:
        print(f"\ntotals: {', '.join(f'{t:.1f}s' for t in totals)}; in the jobs' named "
              f"steps: {', '.join(f'{f:.1f}s' for f in floors)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
