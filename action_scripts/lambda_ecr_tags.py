"""The ``lambda-<function>-<version>`` ECR tags that keep rollback targets' images alive.

The repository lifecycle policy (:mod:`action_scripts.ecr_lifecycle`) expires all but the newest
builds, except images carrying a ``lambda-`` tag. lambda-deploy therefore tags the image of every
version it publishes (:func:`protect`) and removes the tag when retention deletes the version
(:func:`release`). A retained version whose image expired is no safe rollback target: Lambda
re-reads the image from ECR when it re-optimises an idle version, and lambda-rollback refuses a
target whose image is gone.

ECR has no "add tag" call: a tag is added by PutImage with the image's own manifest and media
type (read by BatchGetImage), which stores no new image. A tag is removed by BatchDeleteImage with
only ``imageTag``: ECR then removes just that tag while the image has others, and deletes the
image when it was the last one — so :func:`release` never removes an image's last tag.

Local mode (the bench): the image URI names the loopback registry and no account; the bench
mirrors registry pushes into moto's ECR, so the same calls go to the ECR API with ``registryId``
omitted (the caller's own registry).
"""

from __future__ import annotations

from typing import Any

import botocore.exceptions

from action_scripts import aws, runner
from action_scripts.ecr_lifecycle import rollback_tag
from action_scripts.errors import FactoryError
from action_scripts.lambda_image import ImageRef

# Everything Lambda can run, so BatchGetImage returns the manifest as stored (ECR would otherwise
# convert an OCI manifest to Docker schema 2 and PutImage would store a second image).
MANIFEST_TYPES = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
]
# ECR answers ImageAlreadyExistsException for "this tag is already on this digest" and
# ImageTagAlreadyExistsException for "an IMMUTABLE tag names another digest"; moto answers the
# former for both, so the holder of the tag is always read back rather than trusting the code.
_TAG_EXISTS = frozenset({"ImageAlreadyExistsException", "ImageTagAlreadyExistsException"})


def _registry(image: ImageRef) -> dict[str, str]:
    return {"registryId": image.account} if image.account else {}


def tag_holder(ecr: Any, image: ImageRef, tag: str) -> tuple[str, list[str]] | None:
    """(digest without ``sha256:``, all its tags) of the image ``tag`` names, or None."""
    try:
        found = ecr.describe_images(
            **_registry(image), repositoryName=image.repository, imageIds=[{"imageTag": tag}]
        )
    except botocore.exceptions.ClientError as exc:
        if aws.error_code(exc) == "ImageNotFoundException":
            return None
        raise
    details = found.get("imageDetails") or []
    if not details:
        return None
    digest = str(details[0]["imageDigest"]).removeprefix("sha256:")
    return digest, [str(t) for t in details[0].get("imageTags") or []]


def _put_tag(ecr: Any, image: ImageRef, tag: str, manifest: dict[str, Any]) -> bool:
    """PutImage the manifest under ``tag``; False when the tag already existed (on any image)."""
    media = manifest.get("imageManifestMediaType")
    try:
        ecr.put_image(
            **_registry(image), repositoryName=image.repository,
            imageManifest=manifest["imageManifest"], imageTag=tag,
            imageDigest=f"sha256:{image.digest}",
            **({"imageManifestMediaType": media} if media else {}),
        )
    except botocore.exceptions.ClientError as exc:
        if aws.error_code(exc) in _TAG_EXISTS:
            return False
        raise
    return True


def protect(ecr: Any, *, image: ImageRef, function_name: str, version: str) -> str:
    """Tag ``image`` (digest form) as the image of ``function_name`` version ``version``.

    Idempotent. A tag left on another image by an earlier function of the same name (deleting
    and recreating a function restarts its version numbers) is stale — version ``version`` runs
    this image now — so it is moved here, with a warning. Raises ``image-tag-failed``.
    """
    tag = rollback_tag(function_name, version)
    try:
        got = ecr.batch_get_image(
            **_registry(image), repositoryName=image.repository,
            imageIds=[{"imageDigest": f"sha256:{image.digest}"}],
            acceptedMediaTypes=MANIFEST_TYPES,
        )
        images = got.get("images") or []
        if not images:
            raise _tag_failed(image, tag, f"BatchGetImage found no image: {got.get('failures')}")
        if _put_tag(ecr, image, tag, images[0]):
            runner.info(f"Tagged sha256:{image.digest} as {tag} (kept from lifecycle expiry).")
            return tag
        holder = tag_holder(ecr, image, tag)
        if holder is not None and holder[0] == image.digest:
            runner.info(f"sha256:{image.digest} already carries {tag}.")
            return tag
        if holder is not None:
            runner.warning(
                f"ECR tag {tag} named sha256:{holder[0]}, but version {version} of "
                f"{function_name} runs sha256:{image.digest} (the function was recreated and its "
                "version numbers restarted); moving the tag.",
                title="Stale rollback tag moved",
            )
            _delete_tag(ecr, image, tag)
        if not _put_tag(ecr, image, tag, images[0]):
            raise _tag_failed(image, tag, "another run tagged a different image at the same time")
    except botocore.exceptions.ClientError as exc:
        raise _tag_failed(image, tag, str(exc)) from exc
    runner.info(f"Tagged sha256:{image.digest} as {tag} (kept from lifecycle expiry).")
    return tag


def _delete_tag(ecr: Any, image: ImageRef, tag: str) -> list[dict[str, Any]]:
    """BatchDeleteImage by tag only; returns ECR's per-image failures."""
    result = ecr.batch_delete_image(
        **_registry(image), repositoryName=image.repository, imageIds=[{"imageTag": tag}]
    )
    failures: list[dict[str, Any]] = result.get("failures") or []
    return failures


def _tag_failed(image: ImageRef, tag: str, what: str) -> FactoryError:
    return FactoryError(
        f"Could not tag sha256:{image.digest} in ECR repository `{image.repository}` as `{tag}`: "
        f"{what}. Without that tag the lifecycle policy may expire the image, and the new version "
        "would not be a safe rollback target.",
        title="Rollback tag not added",
        fix="The alias was not touched. The deploy role needs `ecr:BatchGetImage`, "
        "`ecr:PutImage` and `ecr:DescribeImages` on the repository (see the action's README); "
        "throttling and 5xx were already retried. Re-run once fixed: the version is reused.",
        reason="image-tag-failed",
    )


def release(ecr: Any, *, image: ImageRef, function_name: str, version: str) -> bool:
    """Remove the tag of a deleted version, so its image can age out. Only warns on failure.

    Never removes an image's last tag (ECR would delete the image at once instead of letting the
    lifecycle policy decide). Returns True when the tag is gone.
    """
    tag = rollback_tag(function_name, version)
    try:
        holder = tag_holder(ecr, image, tag)
        if holder is None:
            return True
        if holder[1] == [tag]:
            runner.warning(
                f"ECR tag {tag} is the only tag of sha256:{holder[0]}; removing it would delete "
                "the image, so it was kept (remove it by hand once no one needs the image).",
                title="Rollback tag kept",
            )
            return False
        failures = _delete_tag(ecr, image, tag)
    except botocore.exceptions.ClientError as exc:
        failures = [{"failureReason": str(exc)}]
    if failures:
        reasons = "; ".join(str(f.get("failureReason") or f) for f in failures)
        runner.warning(
            f"Could not remove ECR tag {tag} from `{image.repository}` ({reasons}); the image "
            "stays protected from lifecycle expiry until the tag is removed. The deploy role "
            "needs `ecr:BatchDeleteImage` on the repository.",
            title="Rollback tag not removed",
        )
        return False
    runner.info(f"Removed ECR tag {tag} (version {version} was pruned).")
    return True
