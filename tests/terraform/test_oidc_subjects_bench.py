"""The github-oidc example's roles against real tokens: the bench's issuer mints GitHub-format
tokens (default or customized `sub`), and the bench's moto STS evaluates the roles' trust
policies, as applied, for AssumeRoleWithWebIdentity in the example's own account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from action_scripts.oidc_token import request_token
from factory_bench import jwt
from factory_bench.stack import Bench
from tests.helpers.terraform_examples import Applied, unique

ApplyExample = Callable[[str, dict[str, str]], Applied]
REPOSITORY = "hoopstat-haus/stats-api"
WORKFLOWS = "hoopstat-haus/hoopstat-factory/.github/workflows"
PINNED_DEPLOY = f"{WORKFLOWS}/deploy-lambda-app.yml@refs/tags/v1"  # the example's pinned ref
PINNED_PLAN = f"{WORKFLOWS}/terraform.yml@refs/tags/v1"
EVIL = f"{REPOSITORY}/.github/workflows/evil.yml@refs/heads/feature-x"
TEMPLATE = ["repository_owner_id", "repository_id", "context", "job_workflow_ref"]
REPO_ID, OWNER_ID = "123456", "7890"


def token(bench: Bench, ctx: dict[str, Any]) -> str:
    env = bench.oidc_env({"repository": REPOSITORY, **ctx})
    return request_token(
        env["ACTIONS_ID_TOKEN_REQUEST_URL"],
        env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"],
        "sts.amazonaws.com",
    )


def assume(bench: Bench, role_arn: str, web_token: str) -> str:
    """AssumeRoleWithWebIdentity on the bench's moto: the session's ARN, or the STS error code."""
    sts = boto3.session.Session(region_name=bench.region).client(
        "sts", endpoint_url=bench.moto_url, config=Config(retries={"max_attempts": 1})
    )
    try:
        answer = sts.assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="subject-test", WebIdentityToken=web_token
        )
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return str(answer["AssumedRoleUser"]["Arn"])


def sub_of(web_token: str) -> str:
    return str(jwt.unverified_claims(web_token)["sub"])


def accepted(answer: str, role: str) -> bool:
    return f":assumed-role/{role}/" in answer


def test_default_subject_lets_any_branch_declaring_the_environment_deploy(
    bench: Bench, apply_example: ApplyExample
) -> None:
    """With GitHub's default subject, an attacker's own workflow on branch feature-x that declares
    `environment: production` gets a token the deploy role accepts, which is why every
    environment used in trust needs a deployment-branch policy."""
    role = unique("deploy")
    applied = apply_example("github-oidc", {"role_name": role, "repository": REPOSITORY})
    outputs = applied.workspace.outputs()
    attacker = token(bench, {
        "ref": "refs/heads/feature-x", "environment": "production",
        "workflow_path": ".github/workflows/evil.yml",
    })
    assert sub_of(attacker) == f"repo:{REPOSITORY}:environment:production"
    assert sub_of(attacker) in outputs["subjects"]
    role_arn = f"arn:aws:iam::{applied.account_id}:role/{role}"
    answer = assume(bench, role_arn, attacker)
    assert accepted(answer, role), answer
    # The same branch without the environment is refused: only the environment's gate stops it.
    no_env = token(bench, {"ref": "refs/heads/feature-x"})
    assert assume(bench, role_arn, no_env) == "AccessDenied"


def test_customized_subject_trusts_only_the_pinned_workflow_of_this_repository_id(
    bench: Bench, apply_example: ApplyExample
) -> None:
    """With the subject template holding repository_id and job_workflow_ref, the deploy role
    refuses an attacker's own workflow in production and a re-created repository of the same name
    and accepts the pinned reusable deploy workflow (from any branch in production, so the branch
    policy is still required), and the plan role accepts only the pinned terraform workflow's
    pull_request job."""
    role = unique("deploy")
    applied = apply_example("github-oidc", {
        "role_name": role, "repository": REPOSITORY,
        "subject_claim_keys": "[" + ",".join(f'"{k}"' for k in TEMPLATE) + "]",
        "repository_id": REPO_ID, "repository_owner_id": OWNER_ID,
    })
    outputs = applied.workspace.outputs()
    role_arn = f"arn:aws:iam::{applied.account_id}:role/{role}"
    plan_arn = f"arn:aws:iam::{applied.account_id}:role/{role}-plan"
    base = {"sub_claim_keys": TEMPLATE, "repository_id": REPO_ID, "repository_owner_id": OWNER_ID}

    attacker = token(bench, {**base, "ref": "refs/heads/feature-x", "environment": "production",
                             "job_workflow_ref": EVIL})
    assert assume(bench, role_arn, attacker) == "AccessDenied"

    recreated = token(bench, {**base, "repository_id": "999999", "ref": "refs/heads/main",
                              "environment": "production", "job_workflow_ref": PINNED_DEPLOY})
    assert assume(bench, role_arn, recreated) == "AccessDenied"

    pinned = token(bench, {**base, "ref": "refs/heads/main", "environment": "production",
                           "job_workflow_ref": PINNED_DEPLOY})
    assert sub_of(pinned) == (
        f"repository_owner_id:{OWNER_ID}:repository_id:{REPO_ID}:environment:production"
        f":job_workflow_ref:{PINNED_DEPLOY}"
    )
    assert sub_of(pinned) in outputs["subjects"]  # the module expects what GitHub emits
    answer = assume(bench, role_arn, pinned)
    assert accepted(answer, role), answer
    on_main = token(bench, {**base, "ref": "refs/heads/main", "job_workflow_ref": PINNED_DEPLOY})
    assert sub_of(on_main) in outputs["subjects"]
    assert accepted(assume(bench, role_arn, on_main), role)
    # What the template cannot see: the pinned workflow called from any branch in production has
    # the same sub (the environment context carries no ref), so the branch policy stays required.
    pinned_elsewhere = token(bench, {**base, "ref": "refs/heads/feature-x",
                                     "environment": "production",
                                     "job_workflow_ref": PINNED_DEPLOY})
    assert accepted(assume(bench, role_arn, pinned_elsewhere), role)

    plan = token(bench, {**base, "event_name": "pull_request", "ref": "refs/pull/7/merge",
                         "job_workflow_ref": PINNED_PLAN})
    assert sub_of(plan) in outputs["plan_subjects"]
    assert accepted(assume(bench, plan_arn, plan), f"{role}-plan")
    assert assume(bench, role_arn, plan) == "AccessDenied"
    evil_plan = token(bench, {
        **base, "event_name": "pull_request", "ref": "refs/pull/7/merge",
        "job_workflow_ref": f"{REPOSITORY}/.github/workflows/evil.yml@refs/pull/7/merge",
    })
    assert assume(bench, plan_arn, evil_plan) == "AccessDenied"

