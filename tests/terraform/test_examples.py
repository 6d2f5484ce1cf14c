"""Each module's example, applied for real against the bench's moto: apply, a fresh plan shows no
changes, the resources are what the module promises, and destroy removes them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from action_scripts import ecr_lifecycle, oidc_login
from action_scripts.errors import FactoryError
from factory_bench.stack import Bench
from tests.helpers.terraform_examples import Applied, unique
from tests.terraform import iam

ApplyExample = Callable[[str, dict[str, str]], Applied]


def replan_then_destroy(applied: Applied) -> None:
    changes = applied.workspace.plan_changes(variables=applied.variables)
    assert changes is None, f"a plan right after apply shows changes:\n{changes}"
    applied.workspace.destroy(variables=applied.variables)
    assert applied.workspace.state_addresses() == []


def without_descriptions(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in rule.items() if k != "description"} for rule in policy["rules"]]


def test_ecr_repository_example(apply_example: ApplyExample) -> None:
    """The ecr-repository example creates an immutable, scanned, KMS-encrypted repository whose
    lifecycle policy is the one ecr-push applies (rollback targets never expire), re-plans clean
    and destroys."""
    name = unique("hoopstat/ecr")
    applied = apply_example("ecr-repository", {"name": name})
    ecr = applied.client("ecr")
    repo = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True
    assert repo["encryptionConfiguration"]["encryptionType"] == "KMS"
    policy = json.loads(ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"])
    # One policy whoever creates the repository: the module's default is ecr-push's document.
    assert without_descriptions(policy) == without_descriptions(ecr_lifecycle.lifecycle_policy())
    assert ecr_lifecycle.validate(policy) == []

    replan_then_destroy(applied)
    assert ecr.describe_repositories()["repositories"] == []


def test_github_oidc_example_trusts_only_main_and_the_environment(
    apply_example: ApplyExample, bench: Bench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The github-oidc example's role can be assumed by a token for the repository's main branch
    or its production environment and is refused for any other branch, re-plans clean and
    destroys."""
    repository = f"hoopstat-haus/{unique('app')}"
    applied = apply_example(
        "github-oidc", {"role_name": unique("deploy"), "repository": repository}
    )
    outputs = applied.workspace.outputs()
    role_arn = str(outputs["role_arn"])
    assert applied.account_id in role_arn

    github_env = tmp_path / "github_env"
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
                 "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", bench.moto_url)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("HOOPSTAT_FACTORY_RETRY_BASE_SECONDS", "0.01")
    monkeypatch.setenv("GITHUB_ENV", str(github_env))
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "github_output"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary"))

    def login(**ctx: str) -> None:
        github_env.write_text("")
        env = {
            "INPUT_ROLE_TO_ASSUME": role_arn, "INPUT_AWS_REGION": bench.region,
            "INPUT_RETRY_MAX_ATTEMPTS": "1", "GITHUB_REPOSITORY": repository,
            **bench.oidc_env({"repository": repository, "event_name": "push", **ctx}),
        }
        oidc_login.login(env)

    login(ref="refs/heads/main")
    assert "AWS_SESSION_TOKEN<<" in github_env.read_text()

    login(ref="refs/heads/main", environment="production")
    assert "AWS_SESSION_TOKEN<<" in github_env.read_text()

    with pytest.raises(FactoryError) as refused:
        login(ref="refs/heads/feature-x")
    assert refused.value.reason == "access-denied"
    assert "AWS_SESSION_TOKEN" not in github_env.read_text()

    with pytest.raises(FactoryError) as other_env:
        login(ref="refs/heads/main", environment="staging")
    assert other_env.value.reason == "access-denied"

    iam = applied.client("iam")
    providers = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert [p["Arn"].split("/")[-1] for p in providers] == ["token.actions.githubusercontent.com"]

    replan_then_destroy(applied)
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


def test_lambda_app_example(apply_example: ApplyExample) -> None:
    """The lambda-app example creates an image function with JSON logging, active tracing, the
    `live` alias, a log group with retention and three alarms, re-plans clean and destroys."""
    name = unique("fn")
    applied = apply_example("lambda-app", {"function_name": name})
    lam = applied.client("lambda")
    config = lam.get_function_configuration(FunctionName=name)
    assert config["PackageType"] == "Image"
    assert config["TracingConfig"]["Mode"] == "Active"
    assert config["LoggingConfig"]["LogFormat"] == "JSON"
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] != "$LATEST"
    groups = applied.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")
    assert groups["logGroups"][0]["retentionInDays"] == 30
    alarms = applied.client("cloudwatch").describe_alarms(AlarmNamePrefix=name)["MetricAlarms"]
    assert sorted(a["AlarmName"].removeprefix(name) for a in alarms) == [
        "-duration-p95", "-errors", "-throttles",
    ]
    policy = applied.client("iam").get_role_policy(
        RoleName=f"{name}-execution", PolicyName="least-privilege"
    )["PolicyDocument"]
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["ReadPrefixes"]["Resource"] == "arn:aws:s3:::hoopstat-haus-data/raw/*"
    assert statements["WritePrefixes"]["Resource"] == (
        "arn:aws:s3:::hoopstat-haus-data/processed/stats-api/*"
    )

    replan_then_destroy(applied)
    assert name not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]


def test_app_secret_example(apply_example: ApplyExample) -> None:
    """The app-secret example creates a secret whose rotation is wired to the rotation function
    without rotating at once, re-plans clean and destroys."""
    prefix = unique("sec")
    applied = apply_example("app-secret", {"prefix": prefix})
    sm = applied.client("secretsmanager")
    secret = sm.describe_secret(SecretId=f"{prefix}/upstream-api-key")
    assert secret["RotationEnabled"] is True
    assert secret["RotationLambdaARN"].endswith(f":function:{prefix}-rotation")
    assert secret["RotationRules"]["AutomaticallyAfterDays"] == 30
    # Not rotated: AWSCURRENT is still the placeholder Terraform wrote (moto, unlike AWS, leaves
    # the AWSPENDING version that RotateSecret stages for testSecret; it is never made current).
    current = [v for v, stages in secret["VersionIdsToStages"].items() if "AWSCURRENT" in stages]
    assert len(current) == 1
    value = sm.get_secret_value(SecretId=secret["ARN"], VersionStage="AWSCURRENT")
    assert value["VersionId"] == current[0]
    assert json.loads(value["SecretString"]) == {
        "placeholder": "set by the rotation function or put-secret-value"
    }

    replan_then_destroy(applied)
    assert sm.list_secrets()["SecretList"] == []


def test_state_backend_example(apply_example: ApplyExample) -> None:
    """The state-backend example creates a versioned, KMS-encrypted, private, TLS-only bucket,
    re-plans clean and destroys."""
    bucket = unique("tfstate")
    applied = apply_example("state-backend", {"bucket_name": bucket})
    s3 = applied.client("s3")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    sse = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert sse["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert {s["Sid"] for s in policy["Statement"]} == {
        "DenyInsecureTransport", "DenyStateDeletion", "DenyPolicyAndLifecycleChanges",
    }
    assert applied.workspace.outputs()["backend_config"] == {
        "bucket": bucket, "region": "us-east-1", "encrypt": True, "use_lockfile": True,
    }

    replan_then_destroy(applied)
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_cost_example(apply_example: ApplyExample) -> None:
    """The cost example creates a tagged monthly budget filtered to the project with three actual
    and one forecast alert, re-plans clean and destroys."""
    name = unique("budget")
    applied = apply_example("cost", {"budget_name": name})
    budgets = applied.client("budgets")
    budget = budgets.describe_budget(AccountId=applied.account_id, BudgetName=name)["Budget"]
    assert budget["BudgetLimit"] == {"Amount": "25.00", "Unit": "USD"}
    assert budget["CostFilters"] == {"TagKeyValue": ["user:Project$hoopstat-haus"]}
    notifications = budgets.describe_notifications_for_budget(
        AccountId=applied.account_id, BudgetName=name
    )["Notifications"]
    assert sorted((n["NotificationType"], n["Threshold"]) for n in notifications) == [
        ("ACTUAL", 50.0), ("ACTUAL", 80.0), ("ACTUAL", 100.0), ("FORECASTED", 100.0),
    ]

    replan_then_destroy(applied)
    assert budgets.describe_budgets(AccountId=applied.account_id).get("Budgets", []) == []


@pytest.mark.slow
def test_data_bucket_example(apply_example: ApplyExample) -> None:
    """The data-bucket example creates a bucket that is versioned, SSE-KMS encrypted, fully
    public-access-blocked and denies plain-HTTP requests (its policy as applied, decided by a real
    IAM evaluator), whose new versions (not deletes, SSE-KMS objects included) replicate to a
    backup bucket in another region; it re-plans clean and destroys (slow: the lifecycle resource
    settles for ~55 s)."""
    bucket = unique("data")
    applied = apply_example("data-bucket", {"bucket_name": bucket})
    s3 = applied.client("s3")
    for name, client in ((bucket, s3), (f"{bucket}-backup", applied.client("s3", "us-west-2"))):
        assert client.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
        sse = client.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
        assert sse["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        block = client.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                         "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
        policy = json.loads(client.get_bucket_policy(Bucket=name)["Policy"])
        reader = f"arn:aws:iam::{applied.account_id}:role/reader"
        may_read = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}]}
        decisions = iam.evaluate(
            [iam.Request(reader, action, resource, applied.account_id,
                         {"aws:SecureTransport": secure})
             for secure in ("true", "false")
             for action, resource in (("s3:GetObject", f"arn:aws:s3:::{name}/raw/a.json"),
                                      ("s3:ListBucket", f"arn:aws:s3:::{name}"))],
            identity_policies=[may_read], resource_policy=policy,
        )
        assert decisions == ["Allowed", "Allowed", "ExplicitlyDenied", "ExplicitlyDenied"], name
    rule = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]["Rules"][0]
    assert rule["Destination"]["Bucket"] == f"arn:aws:s3:::{bucket}-backup"
    assert rule["DeleteMarkerReplication"]["Status"] == "Disabled"
    assert rule["SourceSelectionCriteria"]["SseKmsEncryptedObjects"]["Status"] == "Enabled"
    backup = applied.client("s3", region="us-west-2")
    location = backup.get_bucket_location(Bucket=f"{bucket}-backup")["LocationConstraint"]
    assert location == "us-west-2"
    assert backup.get_bucket_versioning(Bucket=f"{bucket}-backup")["Status"] == "Enabled"
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [r["ID"] for r in lifecycle] == ["default"]
    assert lifecycle[0]["Transitions"] == [{"Days": 30, "StorageClass": "INTELLIGENT_TIERING"}]

    replan_then_destroy(applied)
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert bucket not in names and f"{bucket}-backup" not in names


@pytest.mark.slow
def test_hoopstat_stack_example(apply_example: ApplyExample) -> None:
    """The composed Hoopstat stack (every module wired together) applies, re-plans clean and
    destroys, and its deploy role may touch exactly the stack's repository and function."""
    app = unique("stack")
    applied = apply_example("hoopstat-stack", {"app": app, "disposable": "true"})
    outputs = applied.workspace.outputs()
    assert outputs["function_name"] == app
    policy = applied.client("iam").get_role_policy(
        RoleName=f"{app}-deploy", PolicyName="deploy"
    )["PolicyDocument"]
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["EcrPushPull"]["Resource"].endswith(f":repository/hoopstat-haus/{app}")
    assert sorted(statements["LambdaDeploy"]["Resource"]) == sorted(
        [f"arn:aws:lambda:us-east-1:{applied.account_id}:function:{app}",
         f"arn:aws:lambda:us-east-1:{applied.account_id}:function:{app}:*"]
    )
    assert statements["StateReadWrite"]["Resource"] == f"arn:aws:s3:::hoopstat-haus-tfstate/{app}/*"

    replan_then_destroy(applied)
