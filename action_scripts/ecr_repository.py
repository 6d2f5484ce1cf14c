"""ECR repository preflight and image look-ups (the control-plane half of ecr-push)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from action_scripts import aws, ecr_lifecycle, runner
from action_scripts.errors import FactoryError


@dataclass(frozen=True)
class RepositoryInfo:
    name: str
    registry_id: str
    created: bool


def preflight(ecr: Any, *, name: str, create: bool) -> RepositoryInfo:
    """The repository exists (or is created, IMMUTABLE and scan-on-push, with the lifecycle policy);
    settings that weaken the guarantees are warnings that say how to fix them."""
    try:
        repo = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    except Exception as exc:
        if aws.error_code(exc) != "RepositoryNotFoundException":
            raise _aws_error("DescribeRepositories", exc) from exc
        if not create:
            raise FactoryError(
                f"The ECR repository `{name}` does not exist in this account and region.",
                title="ECR repository not found",
                fix="Create it with the `ecr-repository` Terraform module (recommended), or set "
                "`create-repository: true` to let this action create it IMMUTABLE with "
                "scan-on-push. Check `repository` and `aws-region` for typos.",
                reason="repository-not-found",
            ) from exc
        return _create(ecr, name)
    if repo.get("imageTagMutability") != "IMMUTABLE":
        runner.warning(
            f"Repository {name} has MUTABLE tags: a tag could later point at another image. Fix: "
            f"aws ecr put-image-tag-mutability --repository-name {name} "
            "--image-tag-mutability IMMUTABLE",
            title="ECR tags are mutable",
        )
    if not repo.get("imageScanningConfiguration", {}).get("scanOnPush"):
        runner.warning(
            f"Repository {name} does not scan on push; this action starts a scan itself. Fix: "
            f"aws ecr put-image-scanning-configuration --repository-name {name} "
            "--image-scanning-configuration scanOnPush=true",
            title="ECR scan-on-push is off",
        )
    return RepositoryInfo(name=name, registry_id=str(repo["registryId"]), created=False)


def _create(ecr: Any, name: str) -> RepositoryInfo:
    try:
        repo = ecr.create_repository(
            repositoryName=name,
            imageTagMutability="IMMUTABLE",
            imageScanningConfiguration={"scanOnPush": True},
            encryptionConfiguration={"encryptionType": "AES256"},
            tags=[{"Key": "managed-by", "Value": "hoopstat-factory"}],
        )["repository"]
        ecr.put_lifecycle_policy(
            repositoryName=name, lifecyclePolicyText=ecr_lifecycle.policy_text()
        )
    except Exception as exc:
        raise _aws_error("CreateRepository", exc) from exc
    runner.notice(
        f"Created ECR repository {name} (IMMUTABLE tags, scan on push, lifecycle policy that "
        "keeps rollback targets).",
        title="ECR repository created",
    )
    return RepositoryInfo(name=name, registry_id=str(repo["registryId"]), created=True)


def _aws_error(call: str, exc: Exception) -> FactoryError:
    code = aws.error_code(exc)
    denied = code in {"AccessDeniedException", "AccessDenied"}
    return FactoryError(
        f"{call} failed: {exc}",
        title="ECR access denied" if denied else "ECR call failed",
        fix="Give the deploy role the ECR permissions listed in actions/ecr-push/README.md."
        if denied else "Re-run; if it persists, check the AWS Health Dashboard for ECR.",
        reason="access-denied" if denied else "aws-error",
    )


def image_by(ecr: Any, *, repository: str, tag: str | None = None,
             digest: str | None = None) -> dict[str, Any] | None:
    """The image's details, or None if ECR has no image with that tag/digest."""
    image_id = {"imageTag": tag} if tag else {"imageDigest": str(digest)}
    try:
        details = ecr.describe_images(repositoryName=repository, imageIds=[image_id])
    except Exception as exc:
        if aws.error_code(exc) == "ImageNotFoundException":
            return None
        raise _aws_error("DescribeImages", exc) from exc
    found: list[dict[str, Any]] = details.get("imageDetails", [])
    return found[0] if found else None
