"""ECR repository preflight and image look-ups (the control-plane half of ecr-push)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from action_scripts import aws, ecr_lifecycle, runner
from action_scripts.errors import FactoryError


@dataclass(frozen=True)
class RepositoryInfo:
    name: str
    registry_id: str
    created: bool


def preflight(ecr: Any, *, name: str, create: bool, tag_prefix: str = "") -> RepositoryInfo:
    """The repository exists (or is created, IMMUTABLE and scan-on-push, with the lifecycle policy);
    settings that weaken the guarantees are warnings that say how to fix them.

    With a ``tag_prefix`` (a repository shared by several apps) a created repository's policy
    counts this app's builds on their own, and an existing repository's policy is checked for
    rules that would let other apps' pushes expire this app's images (warnings, with the fix)."""
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
        return _create(ecr, name, tag_prefix)
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
    if tag_prefix:
        check_shared_policy(ecr, name=name, tag_prefix=tag_prefix)
    return RepositoryInfo(name=name, registry_id=str(repo["registryId"]), created=False)


def check_shared_policy(ecr: Any, *, name: str, tag_prefix: str) -> None:
    """Warn when the repository's lifecycle policy does not keep this app's images apart."""
    fix = (
        f"Fix: list the app in the `ecr-repository` Terraform module's `apps` (prefix "
        f"`<app>-`) so it gets its own rule for `{tag_prefix}src-*`; see "
        "docs/adr/0010-shared-ecr-repository.md."
    )
    try:
        text = ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
    except Exception as exc:
        code = aws.error_code(exc)
        if code == "LifecyclePolicyNotFoundException":
            runner.warning(
                f"Repository {name} has no lifecycle policy: builds under `{tag_prefix}` (and "
                f"every other app's) never expire. {fix}",
                title="No ECR lifecycle policy",
            )
        elif code in {"AccessDeniedException", "AccessDenied"}:
            runner.info(f"Lifecycle policy of {name} not checked: the role lacks "
                        "ecr:GetLifecyclePolicy.")
        else:
            raise _aws_error("GetLifecyclePolicy", exc) from exc
        return
    try:
        policy = json.loads(text)
        problems = ecr_lifecycle.check_shared(policy, prefix=tag_prefix, now=datetime.now(UTC))
    except (ValueError, KeyError, TypeError) as exc:
        runner.warning(f"The lifecycle policy of {name} could not be read ({exc}); it was not "
                       "checked for per-app rules.", title="ECR lifecycle policy unreadable")
        return
    if problems:
        runner.warning(
            f"The lifecycle policy of shared repository {name}, for tag-prefix `{tag_prefix}`: "
            + "; ".join(problems) + f". {fix}",
            title="ECR lifecycle policy mixes apps",
        )


def _create(ecr: Any, name: str, tag_prefix: str = "") -> RepositoryInfo:
    try:
        repo = ecr.create_repository(
            repositoryName=name,
            imageTagMutability="IMMUTABLE",
            imageScanningConfiguration={"scanOnPush": True},
            encryptionConfiguration={"encryptionType": "AES256"},
            tags=[{"Key": "managed-by", "Value": "hoopstat-factory"}],
        )["repository"]
        ecr.put_lifecycle_policy(
            repositoryName=name,
            lifecyclePolicyText=ecr_lifecycle.policy_text(tag_prefixes=(tag_prefix,)),
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
