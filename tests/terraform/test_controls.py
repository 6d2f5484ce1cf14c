"""Module controls proven, not named: each example is applied on the bench's moto, the policies
are read back from moto as applied, and a real IAM evaluator (tests/terraform/iam.py) decides
requests against them. Removing a control (Deny -> Allow, a dropped condition, an empty action
list) makes these tests fail."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from action_scripts import ecr_lifecycle
from tests.helpers.terraform_examples import Applied, unique
from tests.terraform.iam import ALLOWED, Request, decide

ApplyExample = Callable[[str, dict[str, str]], Applied]
DENIED = "ExplicitlyDenied"
NOT_ALLOWED = ("ImplicitlyDenied", "ExplicitlyDenied")


def role_policy(applied: Applied, role: str, name: str) -> dict[str, Any]:
    document: dict[str, Any] = applied.client("iam").get_role_policy(
        RoleName=role, PolicyName=name
    )["PolicyDocument"]
    return document


def trust_policy(applied: Applied, role: str) -> dict[str, Any]:
    document: dict[str, Any] = applied.client("iam").get_role(RoleName=role)["Role"][
        "AssumeRolePolicyDocument"
    ]
    return document


def test_github_oidc_roles_are_least_privilege(apply_example: ApplyExample) -> None:
    """As applied, the plan role cannot write Lambda, ECR, IAM or state (only its lock file) nor
    read secret values, the deploy role cannot touch another app's function, repository, alarms
    or state nor invoke the live alias, and break glass needs MFA."""
    role = unique("deploy")
    applied = apply_example(
        "github-oidc", {"role_name": role, "repository": "hoopstat-haus/stats-api"}
    )
    account = applied.account_id
    deploy_arn = f"arn:aws:iam::{account}:role/{role}"
    plan_arn = f"arn:aws:iam::{account}:role/{role}-plan"
    fn = f"arn:aws:lambda:us-east-1:{account}:function:stats-api"
    other_fn = f"arn:aws:lambda:us-east-1:{account}:function:box-scores"
    repo = f"arn:aws:ecr:us-east-1:{account}:repository/hoopstat-haus/stats-api"
    other_repo = f"arn:aws:ecr:us-east-1:{account}:repository/hoopstat-haus/box-scores"
    state = "arn:aws:s3:::hoopstat-haus-tfstate/stats-api/terraform.tfstate"
    other_state = "arn:aws:s3:::hoopstat-haus-tfstate/box-scores/terraform.tfstate"

    def req(principal: str, action: str, resource: str, **context: str) -> Request:
        return Request(principal, action, resource, account, dict(context))

    plan = decide(
        {
            "update code": req(plan_arn, "lambda:UpdateFunctionCode", fn),
            "publish": req(plan_arn, "lambda:PublishVersion", fn),
            "move alias": req(plan_arn, "lambda:UpdateAlias", f"{fn}:live"),
            "invoke": req(plan_arn, "lambda:InvokeFunction", f"{fn}:3"),
            "push image": req(plan_arn, "ecr:PutImage", repo),
            "delete image": req(plan_arn, "ecr:BatchDeleteImage", repo),
            "put role policy": req(plan_arn, "iam:PutRolePolicy", deploy_arn),
            "create role": req(plan_arn, "iam:CreateRole", f"arn:aws:iam::{account}:role/x"),
            "write state": req(plan_arn, "s3:PutObject", state),
            "delete state": req(plan_arn, "s3:DeleteObject", state),
            "read secret": req(
                plan_arn, "secretsmanager:GetSecretValue",
                f"arn:aws:secretsmanager:us-east-1:{account}:secret:stats-api/key-AbCdEf",
            ),
            "read other state": req(plan_arn, "s3:GetObject", other_state),
            # What a plan needs:
            "read state": req(plan_arn, "s3:GetObject", state),
            "write lock": req(plan_arn, "s3:PutObject", f"{state}.tflock"),
            "remove lock": req(plan_arn, "s3:DeleteObject", f"{state}.tflock"),
            "read function": req(plan_arn, "lambda:GetFunction", fn),
            "read role": req(plan_arn, "iam:GetRole", deploy_arn),
        },
        identity_policies=[role_policy(applied, f"{role}-plan", "plan-read-only")],
    )
    needed = {"read state", "write lock", "remove lock", "read function", "read role"}
    assert {k for k, v in plan.items() if v == ALLOWED} == needed, plan

    deploy = decide(
        {
            "update own": req(deploy_arn, "lambda:UpdateFunctionCode", fn),
            "update other": req(deploy_arn, "lambda:UpdateFunctionCode", other_fn),
            "move other alias": req(deploy_arn, "lambda:UpdateAlias", f"{other_fn}:live"),
            "smoke-test version": req(deploy_arn, "lambda:InvokeFunction", f"{fn}:7"),
            "invoke live": req(deploy_arn, "lambda:InvokeFunction", f"{fn}:live"),
            "invoke $LATEST": req(deploy_arn, "lambda:InvokeFunction", fn),
            "delete function": req(deploy_arn, "lambda:DeleteFunction", fn),
            "push own": req(deploy_arn, "ecr:PutImage", repo),
            "push other": req(deploy_arn, "ecr:PutImage", other_repo),
            "untag other": req(deploy_arn, "ecr:BatchDeleteImage", other_repo),
            "own alarm": req(
                deploy_arn, "cloudwatch:DescribeAlarms",
                f"arn:aws:cloudwatch:us-east-1:{account}:alarm:stats-api-errors",
            ),
            "other alarm": req(
                deploy_arn, "cloudwatch:DescribeAlarms",
                f"arn:aws:cloudwatch:us-east-1:{account}:alarm:box-scores-errors",
            ),
            "alarm elsewhere": req(
                deploy_arn, "cloudwatch:DescribeAlarms",
                f"arn:aws:cloudwatch:eu-west-1:{account}:alarm:stats-api-errors",
            ),
            "own state": req(deploy_arn, "s3:PutObject", state),
            "other state": req(deploy_arn, "s3:GetObject", other_state),
            "other state write": req(deploy_arn, "s3:PutObject", other_state),
            "iam": req(deploy_arn, "iam:PutRolePolicy", deploy_arn),
        },
        identity_policies=[role_policy(applied, role, "deploy")],
    )
    allowed = {"update own", "smoke-test version", "push own", "own alarm", "own state"}
    assert {k for k, v in deploy.items() if v == ALLOWED} == allowed, deploy
    assert deploy["invoke live"] == DENIED

    admin = f"arn:aws:iam::{account}:role/hoopstat-admin"
    trust = decide(
        {
            "with MFA": req(admin, "sts:AssumeRole", deploy_arn,
                            **{"aws:MultiFactorAuthPresent": "true"}),
            "without MFA": req(admin, "sts:AssumeRole", deploy_arn,
                               **{"aws:MultiFactorAuthPresent": "false"}),
            "no MFA context": req(admin, "sts:AssumeRole", deploy_arn),
            "someone else": req(f"arn:aws:iam::{account}:role/dev", "sts:AssumeRole", deploy_arn,
                                **{"aws:MultiFactorAuthPresent": "true"}),
        },
        resource_policy=trust_policy(applied, role),
    )
    assert trust["with MFA"] == ALLOWED
    assert trust["without MFA"] in NOT_ALLOWED
    assert trust["no MFA context"] in NOT_ALLOWED
    assert trust["someone else"] in NOT_ALLOWED


def test_github_oidc_customized_subjects(apply_example: ApplyExample) -> None:
    """With a subject template, the deploy role trusts exactly the repository id, the contexts and
    the pinned reusable deploy workflow, and the plan role only the pull_request context of the
    pinned terraform workflow, in the `key:value` format GitHub emits."""
    role = unique("deploy")
    applied = apply_example("github-oidc", {
        "role_name": role, "repository": "hoopstat-haus/stats-api",
        "subject_claim_keys":
            '["repository_owner_id","repository_id","context","job_workflow_ref"]',
        "repository_id": "123456", "repository_owner_id": "7890",
    })
    outputs = applied.workspace.outputs()
    head = "repository_owner_id:7890:repository_id:123456"
    workflows = "hoopstat-haus/hoopstat-factory/.github/workflows"
    deploy_wf = f"{workflows}/deploy-lambda-app.yml@refs/tags/v1"
    plan_wf = f"{workflows}/terraform.yml@refs/tags/v1"
    assert outputs["subjects"] == [
        f"{head}:ref:refs/heads/main:job_workflow_ref:{deploy_wf}",
        f"{head}:environment:production:job_workflow_ref:{deploy_wf}",
    ]
    assert outputs["plan_subjects"] == [f"{head}:pull_request:job_workflow_ref:{plan_wf}"]
    for name, subjects in ((role, outputs["subjects"]), (f"{role}-plan", outputs["plan_subjects"])):
        statement = trust_policy(applied, name)["Statement"][0]
        condition = statement["Condition"]["StringEquals"]
        assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
        found = condition["token.actions.githubusercontent.com:sub"]
        assert sorted([found] if isinstance(found, str) else found) == sorted(subjects)


def test_lambda_app_alarms_notify_the_topic_and_triggers_use_the_alias(
    apply_example: ApplyExample,
) -> None:
    """Every alarm notifies the alarm topic on ALARM and OK, failed asynchronous invocations of the
    alias go to the dead-letter queue the role may write to, and the example's S3 trigger and its
    permission target the live alias."""
    name = unique("fn")
    applied = apply_example("lambda-app", {"function_name": name})
    outputs = applied.workspace.outputs()
    topic = outputs["alarm_topic_arn"]
    assert isinstance(topic, str) and topic.endswith(f":{name}-alarms")
    alarms = applied.client("cloudwatch").describe_alarms(AlarmNamePrefix=name)["MetricAlarms"]
    assert len(alarms) == 3
    for alarm in alarms:
        assert alarm["AlarmActions"] == [topic], alarm["AlarmName"]
        assert alarm["OKActions"] == [topic], alarm["AlarmName"]
    assert applied.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]

    lam = applied.client("lambda")
    alias_arn = outputs["alias_arn"]
    assert alias_arn == lam.get_alias(FunctionName=name, Name="live")["AliasArn"]
    invoke_config = lam.get_function_event_invoke_config(FunctionName=name, Qualifier="live")
    queue = outputs["failure_destination_arn"]
    assert queue == f"arn:aws:sqs:us-east-1:{applied.account_id}:{name}-dlq"
    assert invoke_config["DestinationConfig"]["OnFailure"]["Destination"] == queue
    policy = role_policy(applied, f"{name}-execution", "least-privilege")
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["OnFailureDestination"]["Action"] == "sqs:SendMessage"
    assert statements["OnFailureDestination"]["Resource"] == queue

    s3 = applied.client("s3")
    notification = s3.get_bucket_notification_configuration(Bucket=f"{name}-uploads")
    targets = [c["LambdaFunctionArn"] for c in notification["LambdaFunctionConfigurations"]]
    assert targets == [alias_arn]
    grant = json.loads(lam.get_policy(FunctionName=name, Qualifier="live")["Policy"])
    assert [s["Principal"] for s in grant["Statement"]] == [{"Service": "s3.amazonaws.com"}]
    assert grant["Statement"][0]["Resource"] == alias_arn


def test_state_backend_denies_destructive_changes_to_non_admins(
    apply_example: ApplyExample,
) -> None:
    """As applied, the state bucket's policy denies everyone but the administrator role deleting
    state versions, suspending versioning, changing lifecycle rules or the bucket policy, and
    denies plain-HTTP access to all."""
    bucket = unique("tfstate")
    applied = apply_example("state-backend", {"bucket_name": bucket})
    policy = json.loads(applied.client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    account = applied.account_id
    admin = f"arn:aws:iam::{account}:role/hoopstat-admin"
    deployer = f"arn:aws:iam::{account}:role/stats-api-deploy"
    everything = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    bucket_arn = f"arn:aws:s3:::{bucket}"
    tls = {"aws:SecureTransport": "true"}
    requests = {}
    for who, principal in (("admin", admin), ("deployer", deployer)):
        for action, resource in (
            ("s3:PutLifecycleConfiguration", bucket_arn), ("s3:PutBucketPolicy", bucket_arn),
            ("s3:DeleteBucketPolicy", bucket_arn), ("s3:PutBucketVersioning", bucket_arn),
            ("s3:DeleteObjectVersion", f"{bucket_arn}/stats-api/terraform.tfstate"),
            ("s3:PutObject", f"{bucket_arn}/stats-api/terraform.tfstate"),
        ):
            requests[f"{who} {action}"] = Request(principal, action, resource, account, dict(tls))
    requests["admin over http"] = Request(
        admin, "s3:GetObject", f"{bucket_arn}/stats-api/terraform.tfstate", account,
        {"aws:SecureTransport": "false"},
    )
    found = decide(requests, identity_policies=[everything], resource_policy=policy)
    assert {k for k, v in found.items() if v == DENIED} == {
        "deployer s3:PutLifecycleConfiguration", "deployer s3:PutBucketPolicy",
        "deployer s3:DeleteBucketPolicy", "deployer s3:PutBucketVersioning",
        "deployer s3:DeleteObjectVersion", "admin over http",
    }, found
    assert found["deployer s3:PutObject"] == ALLOWED


def test_app_secret_values_only_for_readers(apply_example: ApplyExample) -> None:
    """As applied, the secret's resource policy lets only the reader and rotation roles read its
    values, and anyone else with IAM access only the placeholder version; it is encrypted with its
    own rotated customer managed key."""
    prefix = unique("sec")
    applied = apply_example("app-secret", {"prefix": prefix})
    sm = applied.client("secretsmanager")
    secret = sm.describe_secret(SecretId=f"{prefix}/upstream-api-key")
    key = secret["KmsKeyId"]
    assert ":key/" in key
    kms = applied.client("kms")
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is True
    policy = json.loads(sm.get_resource_policy(SecretId=secret["ARN"])["ResourcePolicy"])
    placeholder = applied.workspace.outputs()["placeholder_version_id"]
    account = applied.account_id
    reader = f"arn:aws:iam::{account}:role/stats-api-execution"
    rotation = f"arn:aws:iam::{account}:role/{prefix}-rotation"
    other = f"arn:aws:iam::{account}:role/stats-api-deploy-plan"
    everything = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}]}

    def get(principal: str, **context: str) -> Request:
        return Request(principal, "secretsmanager:GetSecretValue", secret["ARN"], account,
                       dict(context))

    found = decide(
        {
            "reader": get(reader),
            "rotation": get(rotation, **{"secretsmanager:VersionStage": "AWSPENDING"}),
            "other, current": get(other),
            "other, placeholder": get(other, **{"secretsmanager:VersionId": str(placeholder)}),
            "other, another version": get(other, **{"secretsmanager:VersionId": "v-2"}),
        },
        identity_policies=[everything], resource_policy=policy,
    )
    assert found == {
        "reader": ALLOWED, "rotation": ALLOWED, "other, current": DENIED,
        "other, placeholder": ALLOWED, "other, another version": DENIED,
    }


def test_shared_ecr_repository_expires_builds_per_app(apply_example: ApplyExample) -> None:
    """In a repository shared by two apps, the applied lifecycle policy (evaluated by ECR's rules)
    expires each app's builds beyond its own newest N only, never the other app's builds nor any
    rollback-protected image."""
    name = unique("hoopstat/shared")
    applied = apply_example("ecr-repository", {"name": name, "apps": '["stats-api","ingest"]'})
    ecr = applied.client("ecr")
    policy = json.loads(ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"])
    assert ecr_lifecycle.validate(policy) == []
    patterns = {r["rulePriority"]: r["selection"].get("tagPatternList") for r in policy["rules"]}
    assert patterns[20] == ["stats-api-src-*"] and patterns[21] == ["ingest-src-*"]

    now = datetime(2026, 12, 1, tzinfo=UTC)
    keep = 30
    # 40 busy stats-api builds (newest first by push time), 3 old ingest builds, and an old
    # stats-api build that a retained Lambda version still runs.
    images = [
        ecr_lifecycle.Image(f"s{i}", (f"stats-api-src-{i:04x}", f"stats-api-{i:040x}"),
                            now - timedelta(hours=i))
        for i in range(40)
    ] + [
        ecr_lifecycle.Image(f"i{i}", (f"ingest-src-{i:04x}",), now - timedelta(days=200 + i))
        for i in range(3)
    ] + [
        ecr_lifecycle.Image("rollback", ("stats-api-src-ffff", "lambda-stats-api-12"),
                            now - timedelta(days=400)),
    ]
    expired = ecr_lifecycle.evaluate(policy, images, now=now)
    assert set(expired) == {f"s{i}" for i in range(keep, 40)}
    assert set(expired.values()) == {20}
