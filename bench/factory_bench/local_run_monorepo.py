"""The monorepo rehearsal: a Hoopstat Haus-shaped repository, whole, through its rendered workflows.

``factory-bench local-run --scenario monorepo`` (and ``tests/e2e/test_hoopstat_monorepo.py``)
take the real client's fixture (``tests/fixtures/hoopstat-monorepo`` in a suite checkout: Poetry
apps under ``apps/`` with path dependencies on ``libs/`` and lib→lib, two Lambda apps sharing one
ECR repository with tag prefixes, two CI-only apps), copy it into a git repository, let
``factory init --monorepo`` write its root workflows, and run them with act against the bench:

1. a change to the runtime library ``hoopstat-s3``: CI for the three apps that use it, deploys for
   the two Lambda ones, each to a new version behind ``live``;
2. a change to the test-only library ``hoopstat-testkit``: CI for its two users, no deploy;
3. a change inside one app: CI and deploy of that app alone;
4. a dispatched rollback of one app: its alias back on the previous version, the other untouched;
5. a push adding an unknown settings key: the plan fails naming the file; nothing runs after it.

Each row is judged from moto's state and the run's log, and the first row that fails stops the
rest. What the copy changes, all bench-only and in the rehearsal's own commit: each deployable
app's settings point at names unique to this run and at its offline ``Dockerfile.bench`` (no
Lambda base image offline). The apps' ``poetry.lock`` files are real and kept: CI's ``poetry
install`` installs what they pin, from the package index, as a runner would.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factory_bench import act
from factory_bench.stack import Bench
from factory_cli import init_repo

LAMBDA_APPS = ("box-score-api", "standings-api")
CI_ONLY_APPS = ("game-ingest", "local-proxy")
ENVIRONMENT = "production"
# The workflows `factory init --monorepo` renders pin this release of actions/setup-python.
SETUP_PYTHON = "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065"
STUBS_DIR = Path(__file__).resolve().parent / "stubs"
FIXTURE_IN_CHECKOUT = Path("tests") / "fixtures" / "hoopstat-monorepo"


class MonorepoError(RuntimeError):
    """The monorepo rehearsal cannot start: the fixture is missing or a setup step failed."""


@dataclass(frozen=True)
class FunctionState:
    alias_version: str
    versions: tuple[str, ...]


@dataclass
class MonoRun:
    """One act run of the monorepo's workflows and what it changed in moto."""

    label: str
    expected: str
    result: act.ActResult
    log_path: Path
    before: dict[str, FunctionState]
    after: dict[str, FunctionState]
    verdict: bool = False
    detail: str = ""

    @property
    def log(self) -> str:
        return self.result.log

    def ci_apps(self) -> list[str]:
        """Apps whose CI job ran its tests (the job's name carries the app's directory)."""
        return sorted(set(re.findall(r"Lint and test apps/([a-z-]+)\].*Success - Main Test",
                                     self.log)))

    def deployed_apps(self) -> list[str]:
        return sorted(set(re.findall(rf"Deploy ([a-z-]+) to {ENVIRONMENT}\].*Job succeeded",
                                     self.log)))


class RowFailed(RuntimeError):
    """A monorepo row did not do what it expects: the rehearsal stops there."""

    def __init__(self, run: MonoRun, haus: Haus) -> None:
        super().__init__(f"{run.label}: {run.detail}")
        self.run = run
        self.haus = haus


@dataclass
class Haus:
    """The rehearsed monorepo: its git repository, names, and the runs in order."""

    prefix: str
    repository: str
    repo: Path
    bench: Bench
    runs: dict[str, MonoRun] = field(default_factory=dict)

    def function(self, app: str) -> str:
        return f"{self.prefix}-{app}"

    def states(self) -> dict[str, FunctionState]:
        return {app: state(self.bench, self.function(app)) for app in LAMBDA_APPS}


def find_fixture(suite_root: Path) -> Path:
    """The real client's fixture in a suite checkout, or a clear error."""
    fixture = suite_root / FIXTURE_IN_CHECKOUT
    if not (fixture / "apps").is_dir() or not (fixture / "libs").is_dir():
        raise MonorepoError(
            f"the monorepo scenario rehearses the real client's fixture, {FIXTURE_IN_CHECKOUT}, "
            f"which is not in {suite_root}: pass --suite-root with a git checkout of the suite")
    return fixture


def edit(repo: Path, path: str, old: str, new: str) -> None:
    """Replace ``old`` once in ``repo/path``; a fixture without ``old`` is an error, not a skip."""
    target = repo / path
    text = target.read_text()
    if old not in text:
        raise MonorepoError(f"{path} no longer contains {old!r}: the monorepo rehearsal's "
                            "scripted change does not fit the fixture")
    target.write_text(text.replace(old, new, 1))


def bench_settings(repo: Path, prefix: str) -> None:
    """Point each deployable app at this run's names and at its offline Dockerfile.bench."""
    for app in LAMBDA_APPS:
        path = f"apps/{app}/pyproject.toml"
        edit(repo, path, '"hoopstat-haus/prod"', f'"{prefix}/prod"')
        edit(repo, path, f'function = "hoopstat-{app}"', f'function = "{prefix}-{app}"')
        if f'"hoopstat-{app}-errors"' in (repo / path).read_text():  # the canary's alarm
            edit(repo, path, f'"hoopstat-{app}-errors"', f'"{prefix}-{app}-errors"')
        edit(repo, path, f'"apps/{app}/Dockerfile"', f'"apps/{app}/Dockerfile.bench"')


def seed(bench: Bench, *, prefix: str, repository: str) -> str:
    """The shared ECR repository, each Lambda app's function (alias live → 1), the canary's alarm
    and the deploy role; returns the role's ARN."""
    ecr, lam, cloudwatch = (bench.admin_client(s) for s in ("ecr", "lambda", "cloudwatch"))
    execution = bench.lambda_execution_role(f"{prefix}-exec")
    repo = ecr.create_repository(repositoryName=f"{prefix}/prod")["repository"]
    for app in LAMBDA_APPS:
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                       "digest": "sha256:" + uuid.uuid4().hex * 2},
            "layers": [],
        })
        image = ecr.put_image(repositoryName=repo["repositoryName"], imageManifest=manifest,
                              imageTag=f"{app}-bootstrap")["image"]["imageId"]["imageDigest"]
        lam.create_function(
            FunctionName=f"{prefix}-{app}", Role=execution, PackageType="Image", Timeout=30,
            Code={"ImageUri": f"{repo['repositoryUri']}@{image}"},
        )
        version = lam.publish_version(FunctionName=f"{prefix}-{app}")["Version"]
        lam.create_alias(FunctionName=f"{prefix}-{app}", Name="live", FunctionVersion=version)
        cloudwatch.put_metric_alarm(
            AlarmName=f"{prefix}-{app}-errors", MetricName="Errors", Namespace="AWS/Lambda",
            Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
    return bench.github_oidc_role(
        f"{prefix}-deploy", subjects=[f"repo:{repository}:environment:{ENVIRONMENT}"])


def state(bench: Bench, function: str) -> FunctionState:
    lam = bench.admin_client("lambda")
    alias = str(lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"])
    listed = lam.list_versions_by_function(FunctionName=function)["Versions"]
    return FunctionState(alias, tuple(sorted((str(v["Version"]) for v in listed
                                              if v["Version"] != "$LATEST"), key=int)))


def job_env(bench: Bench, *, registry_url: str, cache: Path) -> dict[str, str]:
    """What every act run gets: the bench's AWS, registry and the runner-like caches."""
    return {
        **bench.aws_env(),
        "HOOPSTAT_FACTORY_REGISTRY_ENDPOINT": registry_url,
        "HOOPSTAT_FACTORY_VENV_ROOT": str(cache / "venvs"),
        "HOOPSTAT_FACTORY_RETRY_BASE_SECONDS": "0.05",
        "HOOPSTAT_FACTORY_MINUTE_SECONDS": "0.05",  # the canary's 5 minutes in 15 s
        "HOOPSTAT_BENCH_TOOLCACHE": str(cache / "setup-python"),
        **act.ci_cache_env(cache),
    }


def factory_init(argv: list[str], *, log: Path) -> tuple[int, str]:
    """Run ``factory init`` in-process with its output kept in ``log``: (exit code, output)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = init_repo.main(argv)
    log.write_text(out.getvalue())
    return code, out.getvalue()


def prepare(bench: Bench, *, fixture: Path, workdir: Path, ref: str) -> Haus:
    """Seed AWS, copy the fixture into a git repository and render its workflows (pinned to
    ``ref``) with ``factory init --monorepo``."""
    suffix = uuid.uuid4().hex[:6]
    prefix, repository = f"haus-{suffix}", f"hoopstat-haus/haus-{suffix}"
    role_arn = seed(bench, prefix=prefix, repository=repository)
    repo = act.init_app_repo(workdir / "repo", repository=repository)
    shutil.copytree(fixture, repo, dirs_exist_ok=True)
    bench_settings(repo, prefix)
    code, output = factory_init([
        "--dir", str(repo), "--monorepo", "--role-arn", role_arn, "--region", bench.region,
        "--builder", "buildah", "--ref", ref,
    ], log=workdir / "factory-init-monorepo.log")
    if code != 0:
        raise MonorepoError(f"factory init --monorepo failed on the fixture:\n{output}")
    act.commit_all(repo, "Hoopstat Haus monorepo, factory init --monorepo")
    return Haus(prefix, repository, repo, bench)


Check = Callable[[MonoRun], tuple[bool, str]]


def _changed(run: MonoRun) -> str:
    moved = [f"{app} {run.before[app].alias_version}→{run.after[app].alias_version}"
             for app in LAMBDA_APPS if run.before[app] != run.after[app]]
    return ", ".join(moved) or "no function changed"


def _ok_run(expect_ci: list[str], expect_deploy: list[str]) -> Check:
    """A green run whose CI and deploy jobs are exactly the expected apps; the deployed ones
    gained one version each behind ``live`` and the others did not move."""
    def check(run: MonoRun) -> tuple[bool, str]:
        ci, deployed = run.ci_apps(), run.deployed_apps()
        moved_right = all(
            (run.after[app].alias_version not in run.before[app].versions
             and len(run.after[app].versions) == len(run.before[app].versions) + 1)
            if app in expect_deploy else run.after[app] == run.before[app]
            for app in LAMBDA_APPS)
        ok = run.result.ok and ci == expect_ci and deployed == expect_deploy and moved_right
        return ok, (f"{'green' if run.result.ok else 'RED'}; CI: {', '.join(ci) or 'none'}; "
                    f"deployed: {', '.join(deployed) or 'none'}; {_changed(run)}")
    return check


def _rolled_back(app: str) -> Check:
    def check(run: MonoRun) -> tuple[bool, str]:
        before, after = run.before[app], run.after[app]
        previous = [v for v in before.versions if int(v) < int(before.alias_version)]
        others_still = all(run.after[a] == run.before[a] for a in LAMBDA_APPS if a != app)
        ok = (run.result.ok and bool(previous) and after.alias_version == previous[-1]
              and after.versions == before.versions and others_still)
        return ok, f"{'green' if run.result.ok else 'RED'}; {_changed(run)}"
    return check


def _refused(settings: str, key: str) -> Check:
    def check(run: MonoRun) -> tuple[bool, str]:
        named = settings in run.log and key in run.log
        ok = (not run.result.ok and named and not run.ci_apps() and not run.deployed_apps()
              and run.after == run.before)
        return ok, (f"{'red' if not run.result.ok else 'GREEN'}; the error names {settings} "
                    f"and `{key}`: {named}; CI: {', '.join(run.ci_apps()) or 'none'}; "
                    f"{_changed(run)}")
    return check


def local_repositories(suite: Path, *, ref: str) -> dict[str, Path]:
    """The suite at the rendered ``ref`` (act maps ``@main`` itself) and the FAKE setup-python."""
    mapped = {SETUP_PYTHON: STUBS_DIR / "actions" / "setup-python"}
    if ref != "main":
        mapped[f"{act.SUITE}@{ref}"] = suite
    return mapped


def rehearse(haus: Haus, *, env: dict[str, str], suite: Path, ref: str, cache: Path,
             workdir: Path, stop_on_failure: bool = True,
             report: Callable[[MonoRun], None] | None = None) -> list[MonoRun]:
    """The five rows in order, each judged; the first failed row stops the rest (unless
    ``stop_on_failure`` is off, for tests that check each row themselves). ``ref`` is what
    :func:`prepare` pinned the workflows to."""
    bench, repo = haus.bench, haus.repo
    stubs = local_repositories(suite, ref=ref)

    def run(label: str, expected: str, check: Check, *, event_name: str,
            event: dict[str, Any], workflow: str) -> MonoRun:
        ctx = {"repository": haus.repository, "ref": "refs/heads/main",
               "event_name": event_name, "environment": ENVIRONMENT}
        before = haus.states()
        result = act.run_act(
            repo, event_name=event_name, event={"ref": "refs/heads/main", **event},
            suite_dir=suite, workflow=f".github/workflows/{workflow}",
            env={**env, **bench.oidc_env(ctx)}, local_repositories=stubs,
            workdir=workdir / label, cache_dir=cache, timeout=900, bench_python=False,
        )
        log_path = workdir / f"monorepo-{label}.log"
        log_path.write_text(result.log)
        made = MonoRun(label, expected, result, log_path, before, haus.states())
        made.verdict, made.detail = check(made)
        haus.runs[label] = made
        if report:
            report(made)
        if stop_on_failure and not made.verdict:
            raise RowFailed(made, haus)
        return made

    def push(label: str, expected: str, check: Check, before_sha: str) -> str:
        run(label, expected, check, event_name="push", event={"before": before_sha},
            workflow="deploy.yml")
        return act.git(repo, "rev-parse", "HEAD")

    previous = act.git(repo, "rev-parse", "HEAD")
    edit(repo, "libs/hoopstat-s3/hoopstat_s3/__init__.py", "", "# s3: v2\n")
    act.commit_all(repo, "hoopstat-s3: runtime library change")
    previous = push("runtime-lib", "CI for its 3 users, deploy of the 2 Lambda ones",
                    _ok_run(["box-score-api", "game-ingest", "standings-api"], list(LAMBDA_APPS)),
                    previous)
    edit(repo, "libs/hoopstat-testkit/hoopstat_testkit/__init__.py", "", "# testkit: v2\n")
    act.commit_all(repo, "hoopstat-testkit: test-only library change")
    previous = push("test-only-lib", "CI for its 2 users, no deploy",
                    _ok_run(["box-score-api", "game-ingest"], []), previous)
    edit(repo, "apps/standings-api/app/handler.py", '"app": "standings-api"',
         '"app": "standings-api", "rev": 2')
    act.commit_all(repo, "standings-api: app change")
    previous = push("app-only", "CI and deploy of standings-api alone",
                    _ok_run(["standings-api"], ["standings-api"]), previous)
    run("rollback", "box-score-api back on its previous version, nothing else moves",
        _rolled_back("box-score-api"), event_name="workflow_dispatch", workflow="rollback.yml",
        event={"inputs": {"app": "box-score-api", "target": "previous", "dry-run": "false"}})
    settings = "apps/standings-api/pyproject.toml"
    edit(repo, settings, 'platform = "linux/amd64"',
         'platform = "linux/amd64"\nstratgy = "all-at-once"')
    edit(repo, "apps/standings-api/app/handler.py", '"rev": 2', '"rev": 3')
    act.commit_all(repo, "standings-api: a typo in its settings")
    push("bad-settings", "red at the plan, naming the file; nothing runs",
         _refused(settings, "stratgy"), previous)
    return list(haus.runs.values())


def print_row(run: MonoRun) -> None:
    mark = "✅" if run.verdict else "❌"
    print(f"  {mark} monorepo {run.label}: {run.detail} ({run.result.seconds:.1f}s; log "
          f"{run.log_path.name})", flush=True)


def summary(haus: Haus) -> str:
    runs = list(haus.runs.values())
    lines = [
        "", f"## Hoopstat Factory local run: monorepo {FIXTURE_IN_CHECKOUT.name}", "",
        f"{len(LAMBDA_APPS)} Lambda apps ({', '.join(LAMBDA_APPS)}) in one ECR repository "
        f"`{haus.prefix}/prod`, {len(CI_ONLY_APPS)} CI-only apps; workflows by "
        "`factory init --monorepo`.", "",
        "| run | expected | result | CI jobs | deploy jobs | seconds |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        lines.append(
            f"| {run.label} | {run.expected} | {'ok' if run.verdict else 'FAILED'}: "
            f"{run.detail} | {', '.join(run.ci_apps()) or 'none'} | "
            f"{', '.join(run.deployed_apps()) or 'none'} | {run.result.seconds:.1f} |")
    return "\n".join(lines)


def run_monorepo(bench: Bench, *, registry_url: str, suite_root: Path, suite: Path,
                 ref: str, workdir: Path, cache: Path) -> Haus:
    """The monorepo scenario for ``local-run``: prepare and rehearse (rows printed as they are
    judged); raises :class:`RowFailed` at the first failed row. ``haus.runs`` holds the rows."""
    fixture = find_fixture(suite_root)
    started = time.monotonic()
    haus = prepare(bench, fixture=fixture, workdir=workdir / "monorepo", ref=ref)
    print(f"  monorepo {fixture.name} rendered with factory init --monorepo in "
          f"{time.monotonic() - started:.1f}s ({haus.repository})", flush=True)
    env = job_env(bench, registry_url=registry_url, cache=cache)
    rehearse(haus, env=env, suite=suite, ref=ref, cache=cache, workdir=workdir / "monorepo",
             report=print_row)
    return haus
