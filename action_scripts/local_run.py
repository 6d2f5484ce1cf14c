"""``factory local-run``: rehearse the pipeline on this machine, against the bench.

Brings up the bench (moto, the local OIDC issuer, the fake GitHub API), provisions the deploy
role the way production does (an OIDC provider and a role trusting ``main`` of the app repo),
then runs an app repo's workflow through ``act``, with the suite mapped in from this checkout:

1. a push to ``main``: ``oidc-login`` by full reference, then a step that calls AWS as the
   assumed role;
2. a push to an untrusted branch: the same login must be refused (``access-denied``).

It prints what happened and tears down what it started.
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from action_scripts.bench import act
from action_scripts.bench.stack import Bench

SUITE_ROOT = Path(__file__).resolve().parents[1]
DEMO_REPOSITORY = "hoopstat-haus/demo-app"

LOGIN_WORKFLOW = """\
name: deploy
on: push
permissions: {}
jobs:
  deploy:
    runs-on: ubuntu-latest
    timeout-minutes: 10
    permissions:
      id-token: write  # Needed to exchange the OIDC token for AWS credentials
    steps:
      - id: login
        uses: hoopstat-haus/hoopstat-factory/actions/oidc-login@main
        with:
          role-to-assume: ${{ vars.DEPLOY_ROLE_ARN }}
          aws-region: us-east-1
      - name: Who am I
        shell: python3 {0}
        run: |
          import boto3
          print("caller-identity", boto3.client("sts").get_caller_identity()["Arn"])
      - name: Failure reason
        if: failure()
        env:
          REASON: ${{ steps.login.outputs.failure-reason }}
        run: echo "failure-reason=${REASON}"
"""


@dataclass
class Outcome:
    name: str
    expected: str
    ok: bool
    seconds: float
    detail: str


def _first(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    return found.group(1) if found else ""


def run_pipeline(workdir: Path, *, keep: bool) -> list[Outcome]:
    if not (SUITE_ROOT / "actions").is_dir():
        raise SystemExit(
            f"factory local-run needs a checkout of the suite (no actions/ under {SUITE_ROOT})"
        )
    outcomes: list[Outcome] = []
    print(f"Hoopstat Factory local run (work dir {workdir})", flush=True)
    started = time.monotonic()
    with Bench(workdir / "bench") as bench:
        print(
            f"  bench up in {time.monotonic() - started:.1f}s: moto {bench.moto_url}, "
            f"OIDC issuer {bench.issuer_url}, fake GitHub API {bench.github_api_url}",
            flush=True,
        )
        role = bench.github_oidc_role(
            "hoopstat-deploy", subjects=[f"repo:{DEMO_REPOSITORY}:ref:refs/heads/main"]
        )
        print(f"  deploy role {role} trusts repo:{DEMO_REPOSITORY}:ref:refs/heads/main")
        suite = act.export_suite(SUITE_ROOT, workdir / "suite")
        repo = act.init_app_repo(workdir / "app", repository=DEMO_REPOSITORY)
        workflow = repo / ".github" / "workflows" / "deploy.yml"
        workflow.parent.mkdir(parents=True, exist_ok=True)
        workflow.write_text(LOGIN_WORKFLOW)
        act.commit_all(repo, "demo app")
        cache = workdir / "act-cache"
        for ref, expected in (("refs/heads/main", "success"), ("refs/heads/wip", "access-denied")):
            ctx = {"repository": DEMO_REPOSITORY, "ref": ref, "event_name": "push"}
            result = act.run_act(
                repo,
                event_name="push",
                event={"ref": ref},
                suite_dir=suite,
                env={
                    **bench.aws_env(),
                    **bench.oidc_env(ctx),
                    "HOOPSTAT_FACTORY_VENV_ROOT": str(cache / "venvs"),
                },
                variables={"DEPLOY_ROLE_ARN": role},
                workdir=workdir / f"run-{ref.rsplit('/', 1)[-1]}",
                cache_dir=cache,
            )
            (workdir / f"act-{ref.rsplit('/', 1)[-1]}.log").write_text(result.log)
            if expected == "success":
                identity = _first(r"caller-identity (\S+)", result.log)
                ok = result.ok and bool(identity)
                detail = f"AWS identity {identity}" if identity else "no identity"
            else:
                reason = _first(r"failure-reason=(\S+)", result.log)
                ok = (not result.ok) and reason == expected
                detail = f"refused as expected: {reason}" if ok else f"unexpected: {reason}"
            outcomes.append(Outcome(f"push {ref}", expected, ok, result.seconds, detail))
            mark = "✅" if ok else "❌"
            print(f"  {mark} push {ref}: {detail} ({result.seconds:.1f}s)", flush=True)
    if not keep:
        shutil.rmtree(workdir / "suite", ignore_errors=True)
        shutil.rmtree(workdir / "act-cache", ignore_errors=True)
    total = time.monotonic() - started
    print(f"Done in {total:.1f}s; logs in {workdir}", flush=True)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="factory local-run", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None, help="keep logs here")
    parser.add_argument("--keep", action="store_true", help="keep the act cache and suite copy")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hoopstat-local-run-"))
    workdir.mkdir(parents=True, exist_ok=True)
    outcomes = run_pipeline(workdir, keep=args.keep)
    failed = [o for o in outcomes if not o.ok]
    print("\n| step | expected | result | seconds |\n| --- | --- | --- | --- |")
    for o in outcomes:
        print(
            f"| {o.name} | {o.expected} | {'ok' if o.ok else 'FAILED'}: {o.detail} | "
            f"{o.seconds:.1f} |"
        )
    return 1 if failed else 0
