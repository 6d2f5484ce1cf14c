"""lambda-deploy's ECR rollback tags against the bench's moto server.

The contract (docs/ecr-tag-scheme.md): every version lambda-deploy publishes gets the tag
``lambda-<function>-<version>`` on its image before any traffic moves, the tag goes when retention
deletes the version, and the lifecycle policy never expires an image carrying such a tag.

moto's ECR behaves as ECR documents for the calls used: PutImage of an image's own manifest
under a new tag adds the tag (same digest, no second image); PutImage of a tag already on that
digest answers ImageAlreadyExistsException; BatchDeleteImage by ``imageTag`` removes only that tag
while the image has others, and deletes the image with its last tag. Unlike ECR, moto answers
ImageAlreadyExistsException (not ImageTagAlreadyExistsException) when an IMMUTABLE tag names
another image.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from action_scripts import ecr_lifecycle, lambda_deploy, lambda_ecr_tags
from action_scripts.ecr_lifecycle import rollback_tag
from action_scripts.lambda_image import ImageRef
from factory_bench.fault_proxy import FaultProxy
from factory_bench.stack import Bench
from tests.helpers.lambda_app import App, put_image, seed_app, unique


def tags_of(app: App, digest: str) -> list[str]:
    found = app.ecr.describe_images(repositoryName=app.repository,
                                    imageIds=[{"imageDigest": f"sha256:{digest}"}])
    return sorted(found["imageDetails"][0].get("imageTags") or [])


def lambda_tags(app: App) -> dict[str, str]:
    """tag -> digest for every ``lambda-`` tag in the app's repository."""
    found: dict[str, str] = {}
    for page in app.ecr.get_paginator("describe_images").paginate(repositoryName=app.repository):
        for image in page["imageDetails"]:
            for tag in image.get("imageTags") or []:
                if tag.startswith("lambda-"):
                    found[tag] = str(image["imageDigest"]).removeprefix("sha256:")
    return found


def deploy(run_action: Any, app: App, index: int, *, keep: int = 0,
           env: dict[str, str] | None = None) -> Any:
    return run_action(lambda_deploy.run, {"function-name": app.function,
                                          "image-uri": app.uri(index),
                                          "keep-versions": str(keep)}, env=env)


# --- tagging --------------------------------------------------------------------------------


def test_each_deployed_version_tags_its_image(run_action: Any, bench: Bench) -> None:
    """After two deploys both versions' images carry their rollback tags beside their own tags."""
    app = seed_app(bench)
    for index in (1, 2):
        run = deploy(run_action, app, index)
        assert run.code == 0, run.stdout
    assert tags_of(app, app.digests[1]) == sorted(["v1", rollback_tag(app.function, "2")])
    assert tags_of(app, app.digests[2]) == sorted(["v2", rollback_tag(app.function, "3")])
    assert lambda_tags(app) == {rollback_tag(app.function, "2"): app.digests[1],
                                rollback_tag(app.function, "3"): app.digests[2]}
    images = app.ecr.describe_images(repositoryName=app.repository)["imageDetails"]
    assert len(images) == 3  # tagging stored no second image


def test_function_arn_input_tags_with_the_function_name(run_action: Any, bench: Bench) -> None:
    """With `function-name` given as an ARN the tag still uses the bare function name."""
    app = seed_app(bench)
    arn = app.lam.get_function_configuration(FunctionName=app.function)["FunctionArn"]
    run = run_action(lambda_deploy.run, {"function-name": arn, "image-uri": app.uri(1)})
    assert run.code == 0, run.stdout
    assert lambda_tags(app) == {f"lambda-{app.function}-2": app.digests[1]}


def test_tagging_is_idempotent(bench: Bench) -> None:
    """Protecting a version twice keeps one tag on the one image and does not fail."""
    app = seed_app(bench, images=1, live=False)
    ref = ImageRef(app.registry, "123456789012", "us-east-1", app.repository, app.digests[0])
    for _ in range(2):
        assert lambda_ecr_tags.protect(app.ecr, image=ref, function_name=app.function,
                                       version="7") == rollback_tag(app.function, "7")
    assert tags_of(app, app.digests[0]) == sorted(["v0", rollback_tag(app.function, "7")])


def test_stale_tag_in_an_immutable_repository_is_moved(run_action: Any, bench: Bench) -> None:
    """A leftover tag of a recreated function's old version 2 is moved to the new version 2's
    image, with a warning, even under IMMUTABLE tags."""
    app = seed_app(bench)
    app.ecr.put_image_tag_mutability(repositoryName=app.repository,
                                     imageTagMutability="IMMUTABLE")
    tag = rollback_tag(app.function, "2")
    stale = app.ecr.batch_get_image(repositoryName=app.repository,
                                    imageIds=[{"imageDigest": f"sha256:{app.digests[2]}"}])
    app.ecr.put_image(repositoryName=app.repository, imageTag=tag,
                      imageManifest=stale["images"][0]["imageManifest"])
    run = deploy(run_action, app, 1)
    assert run.code == 0, run.stdout
    assert "Stale rollback tag moved" in run.stdout
    assert lambda_tags(app) == {tag: app.digests[1]}
    assert tags_of(app, app.digests[2]) == ["v2"]  # the old image kept its own tag


def test_local_mode_tags_through_the_ecr_api_without_registry_id(
    run_action: Any, bench: Bench
) -> None:
    """In local mode (loopback registry URI, no account) the tag is added through moto's ECR API
    with registryId omitted."""
    app = seed_app(bench)
    host = "127.0.0.1:5999"  # only parsed: preflight and tagging speak to the ECR API
    local_uri = f"{host}/{app.repository}@sha256:{app.digests[1]}"
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": local_uri},
                     env={"HOOPSTAT_FACTORY_REGISTRY_ENDPOINT": f"http://{host}"})
    assert run.code == 0, run.stdout
    assert lambda_tags(app) == {rollback_tag(app.function, "2"): app.digests[1]}


# --- retention ------------------------------------------------------------------------------


def test_pruning_removes_only_the_pruned_versions_tag(run_action: Any, bench: Bench) -> None:
    """When retention deletes a version, its tag goes and its image stays with its other tags."""
    app = seed_app(bench, images=4)
    for index in (1, 2):
        assert deploy(run_action, app, index).code == 0
    run = deploy(run_action, app, 3, keep=2)
    assert run.code == 0, run.stdout
    assert app.versions() == ["3", "4"]
    assert lambda_tags(app) == {rollback_tag(app.function, "3"): app.digests[2],
                                rollback_tag(app.function, "4"): app.digests[3]}
    assert tags_of(app, app.digests[1]) == ["v1"]  # version 2's image: tag gone, image kept
    assert "Removed ECR tag" in run.stdout


def test_an_images_last_tag_is_never_removed(run_action: Any, bench: Bench) -> None:
    """If the rollback tag is an image's only tag, pruning keeps it (removing it would delete the
    image) and warns."""
    app = seed_app(bench, images=4)
    assert deploy(run_action, app, 1).code == 0
    app.ecr.batch_delete_image(repositoryName=app.repository, imageIds=[{"imageTag": "v1"}])
    assert deploy(run_action, app, 2).code == 0
    run = deploy(run_action, app, 3, keep=2)  # prunes 1 and 2 (4 is new, 3 was live)
    assert run.code == 0, run.stdout
    assert app.versions() == ["3", "4"]
    assert "Rollback tag kept" in run.stdout
    assert tags_of(app, app.digests[1]) == [rollback_tag(app.function, "2")]


def test_failing_to_untag_only_warns(
    run_action: Any, bench: Bench, proxy: FaultProxy
) -> None:
    """BatchDeleteImage refused: the version is still pruned, the deploy succeeds with a warning,
    and the tag stays (the image stays protected)."""
    app = seed_app(bench, images=4)
    for index in (1, 2):
        assert deploy(run_action, app, index).code == 0
    proxy.add(service="ecr", operation="BatchDeleteImage", status=400,
              code="AccessDeniedException", times=-1)
    run = deploy(run_action, app, 3, keep=2, env={"AWS_ENDPOINT_URL": proxy.url})
    assert run.code == 0, run.stdout
    assert "Rollback tag not removed" in run.stdout
    assert app.versions() == ["3", "4"]
    assert app.alias()["FunctionVersion"] == "4"
    assert rollback_tag(app.function, "2") in tags_of(app, app.digests[1])


# --- tagging failures stop the deploy before traffic moves ----------------------------------


def test_tagging_failure_leaves_the_alias_untouched(
    run_action: Any, bench: Bench, proxy: FaultProxy
) -> None:
    """PutImage refused: the deploy fails with image-tag-failed and the alias never moves."""
    app = seed_app(bench)
    before = app.alias()
    proxy.add(service="ecr", operation="PutImage", status=400, code="AccessDeniedException",
              times=-1)
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(1),
                                         "smoke-payload": "{}"},
                     env={"AWS_ENDPOINT_URL": proxy.url})
    assert run.code == 1, run.stdout
    assert run.reason == "image-tag-failed"
    assert "::error title=Rollback tag not added::" in run.stdout
    assert "The alias was not touched" in run.summary
    assert run.outputs["version"] == "2"  # published, never routed to
    after = app.alias()
    assert after["FunctionVersion"] == before["FunctionVersion"] == "1"
    assert after["RevisionId"] == before["RevisionId"]
    assert "lambda:PublishVersion" in proxy.passed
    assert "lambda:Invoke" not in proxy.passed  # it stopped before the smoke test
    assert lambda_tags(app) == {}


def test_manifest_read_failure_leaves_the_alias_untouched(
    run_action: Any, bench: Bench, proxy: FaultProxy
) -> None:
    """BatchGetImage refused: same outcome, nothing is tagged and the alias stays."""
    app = seed_app(bench)
    proxy.add(service="ecr", operation="BatchGetImage", status=400,
              code="AccessDeniedException", times=-1)
    run = deploy(run_action, app, 1, env={"AWS_ENDPOINT_URL": proxy.url})
    assert run.code == 1 and run.reason == "image-tag-failed", run.stdout
    assert app.alias()["FunctionVersion"] == "1"
    assert lambda_tags(app) == {}


def test_tagging_converges_through_5xx(
    run_action: Any, bench: Bench, proxy: FaultProxy
) -> None:
    """Transient 5xx on BatchGetImage and PutImage are retried; the deploy lands tagged."""
    app = seed_app(bench)
    proxy.add(service="ecr", operation="BatchGetImage", status=500, times=2)
    proxy.add(service="ecr", operation="PutImage", status=503, times=2)
    run = deploy(run_action, app, 1, env={"AWS_ENDPOINT_URL": proxy.url})
    assert run.code == 0, run.stdout
    assert proxy.injected.count("ecr:PutImage") == 2
    assert app.alias()["FunctionVersion"] == "2"
    assert lambda_tags(app) == {rollback_tag(app.function, "2"): app.digests[1]}


# --- the lifecycle policy over what deploys leave behind ------------------------------------


def test_lifecycle_policy_keeps_deployed_images(run_action: Any, bench: Bench) -> None:
    """Over 40 src-* builds, the images lambda-deploy tagged survive the lifecycle policy however
    old they are, and lose that shield once retention prunes their versions."""
    name = unique("builds")
    ecr, lam = bench.admin_client("ecr"), bench.admin_client("lambda")
    repo = ecr.create_repository(repositoryName=name)["repository"]
    registry = repo["repositoryUri"].split("/")[0]
    src_tags = [f"src-{i:040d}" for i in range(40)]  # index 39 is the newest build
    digests = [put_image(ecr, name, tag) for tag in src_tags]
    role = bench.admin_client("iam").create_role(
        RoleName=f"{name}-exec", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(FunctionName=name, Role=role, PackageType="Image",
                        Code={"ImageUri": f"{registry}/{name}@sha256:{digests[39]}"})
    app = App(name, name, registry, digests, lam, ecr, bench.admin_client("cloudwatch"), role)

    def expired() -> set[int]:
        # moto reports push times to the second, so push order is the seeding order.
        start = datetime(2026, 1, 1, tzinfo=UTC)
        images = []
        for page in ecr.get_paginator("describe_images").paginate(repositoryName=name):
            for detail in page["imageDetails"]:
                tags = tuple(detail.get("imageTags") or ())
                index = next(src_tags.index(t) for t in tags if t in src_tags)
                images.append(ecr_lifecycle.Image(
                    str(detail["imageDigest"]), tags, start + timedelta(hours=index)))
        doomed = ecr_lifecycle.evaluate(ecr_lifecycle.lifecycle_policy(), images,
                                        now=start + timedelta(days=30))
        return {digests.index(d.removeprefix("sha256:")) for d in doomed}

    for index in (2, 5, 8):  # old builds deployed (or rolled forward to) as versions 1, 2, 3
        assert deploy(run_action, app, index).code == 0
    assert set(lambda_tags(app).values()) == {digests[2], digests[5], digests[8]}
    assert expired() == {0, 1, 3, 4, 6, 7, 9}  # the 10 oldest builds, minus the tagged ones

    run = deploy(run_action, app, 9, keep=2)  # version 4; prunes 1 and 2, keeps 3 (previous)
    assert run.code == 0, run.stdout
    assert app.versions() == ["3", "4"]
    assert expired() == {0, 1, 2, 3, 4, 5, 6, 7}  # 2 and 5 age out again; 8 and 9 are kept
