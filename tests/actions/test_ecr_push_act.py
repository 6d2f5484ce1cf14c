"""ecr-push as a real workflow through act: oidc-login, then build and push on the bench."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from factory_bench import act
from factory_bench.stack import Bench
from factory_bench.testing import BenchRegistry, need_tool, write_app
from tests.helpers.ecr import skopeo_inspect, unique

WORKFLOW = (Path(__file__).parents[1] / "workflows" / "ecr-push.yml").read_text()
REPO = "hoopstat-haus/demo-app"

pytestmark = [pytest.mark.act, pytest.mark.slow]


@pytest.fixture(scope="module")
def push_role(bench: Bench) -> str:
    return bench.github_oidc_role("act-ecr-push", subjects=[f"repo:{REPO}:ref:refs/heads/main"])


def test_build_then_cache_hit_then_rebuild_on_change(
    run_workflow: Any, push_role: str, bench: Bench, registry: BenchRegistry,
    buildah: str, tmp_path: Path,
) -> None:
    """Run 1 builds and pushes, run 2 (same tree) is a cache hit, a changed file builds anew."""
    need_tool("skopeo", install_hint="apt-get install skopeo")
    repository = unique("act/app")
    bench.admin_client("ecr").create_repository(
        repositoryName=repository, imageTagMutability="IMMUTABLE",
        imageScanningConfiguration={"scanOnPush": True},
    )
    app_repo = act.init_app_repo(tmp_path / "demo-app", repository=REPO)
    write_app(app_repo / "app")

    def run(n: int) -> tuple[dict[str, str], str]:
        capture = tmp_path / f"outputs-{n}.json"
        result = run_workflow(
            WORKFLOW, repo=app_repo,
            env={"HOOPSTAT_FACTORY_REGISTRY_ENDPOINT": registry.url},
            variables={"ROLE_ARN": push_role, "REPOSITORY": repository,
                       "CAPTURE_FILE": str(capture)},
        )
        assert result.ok, result.log[-5000:]
        head = act.git(app_repo, "rev-parse", "HEAD")
        outputs: dict[str, str] = json.loads(capture.read_text())
        return outputs, result.log + f"\nHEAD={head}"

    first, log1 = run(1)
    assert first["CACHE_HIT"] == "false"
    assert "Build (buildah)" in log1
    second, log2 = run(2)
    assert second["CACHE_HIT"] == "true"
    assert second["IMAGE_DIGEST"] == first["IMAGE_DIGEST"]
    assert "Build (buildah)" not in log2 and "no build, no push" in log2
    head2 = log2.rsplit("HEAD=", 1)[1].strip()
    assert head2 in second["IMAGE_TAGS"].split(",")

    (app_repo / "app" / "message.txt").write_text("a new message\n")
    third, log3 = run(3)
    assert third["CACHE_HIT"] == "false"
    assert third["IMAGE_DIGEST"] != first["IMAGE_DIGEST"]

    # Every output is pullable by digest from the registry, and ECR agrees on the digests.
    for outputs in (first, third):
        info = skopeo_inspect(outputs["IMAGE_URI"], username=registry.username,
                              password=registry.password)
        assert info["Digest"] == outputs["IMAGE_DIGEST"]
    ecr_digests = {i["imageDigest"] for i in bench.admin_client("ecr").describe_images(
        repositoryName=repository)["imageDetails"]}
    assert ecr_digests == {first["IMAGE_DIGEST"], third["IMAGE_DIGEST"]}
    # The registry password is masked: never printed in clear.
    assert registry.password not in log1 + log2 + log3


def test_scan_gate_failure_reported_through_the_workflow(
    run_workflow: Any, push_role: str, bench: Bench, registry: BenchRegistry,
    buildah: str, tmp_path: Path,
) -> None:
    """fail-on-severity HIGH against moto's canned HIGH finding fails the job with scan-findings."""
    repository = unique("act/gate")
    bench.admin_client("ecr").create_repository(
        repositoryName=repository, imageScanningConfiguration={"scanOnPush": True},
        imageTagMutability="IMMUTABLE",
    )
    app_repo = act.init_app_repo(tmp_path / "demo-app", repository=REPO)
    write_app(app_repo / "app")
    result = run_workflow(
        WORKFLOW, repo=app_repo,
        env={"HOOPSTAT_FACTORY_REGISTRY_ENDPOINT": registry.url},
        variables={"ROLE_ARN": push_role, "REPOSITORY": repository,
                   "CAPTURE_FILE": str(tmp_path / "c.json"), "FAIL_ON_SEVERITY": "HIGH"},
    )
    assert not result.ok
    assert "failure-reason=scan-findings" in result.log, result.log[-4000:]
    assert "outputs-recorded" not in result.log


def test_tag_prefix_reaches_the_action_through_the_workflow(
    run_workflow: Any, push_role: str, bench: Bench, registry: BenchRegistry,
    buildah: str, tmp_path: Path,
) -> None:
    """`tag-prefix` set in a workflow reaches ecr-push: every tag it writes, in ECR and in the
    outputs, starts with the prefix, and the commit tag is <prefix><sha>."""
    repository = unique("act/shared")
    bench.admin_client("ecr").create_repository(
        repositoryName=repository, imageTagMutability="IMMUTABLE",
        imageScanningConfiguration={"scanOnPush": True},
    )
    app_repo = act.init_app_repo(tmp_path / "demo-app", repository=REPO)
    write_app(app_repo / "app")
    capture = tmp_path / "outputs.json"
    result = run_workflow(
        WORKFLOW, repo=app_repo,
        env={"HOOPSTAT_FACTORY_REGISTRY_ENDPOINT": registry.url},
        variables={"ROLE_ARN": push_role, "REPOSITORY": repository,
                   "CAPTURE_FILE": str(capture), "TAG_PREFIX": "box-scores-"},
    )
    assert result.ok, result.log[-5000:]
    outputs = json.loads(capture.read_text())
    head = act.git(app_repo, "rev-parse", "HEAD")
    tags = outputs["IMAGE_TAGS"].split(",")
    assert tags[0].startswith("box-scores-src-") and f"box-scores-{head}" in tags
    (image,) = bench.admin_client("ecr").describe_images(repositoryName=repository)["imageDetails"]
    assert sorted(image["imageTags"]) == sorted(tags)
