"""Tests for oidc-login against the bench: real moto (trust policies enforced) and issuer."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from action_scripts import runner
from action_scripts.oidc_login import default_session_name, login
from factory_bench.stack import Bench
from tests.helpers.runner_files import parse_file_commands

REPO = "hoopstat-haus/demo-app"
_names = itertools.count()


@pytest.fixture
def role(bench: Bench) -> str:
    """A fresh deploy role trusting main of the demo app only."""
    return bench.github_oidc_role(
        f"deploy-{next(_names)}",
        subjects=[f"repo:{REPO}:ref:refs/heads/main"],
        max_session_seconds=7200,
    )


class Run:
    def __init__(self, tmp_path: Path, code: int, stdout: str) -> None:
        self.code = code
        self.stdout = stdout
        self.outputs = (
            parse_file_commands((tmp_path / "output").read_text())
            if (tmp_path / "output").exists()
            else {}
        )
        env_file = tmp_path / "env"
        self.exported = parse_file_commands(env_file.read_text()) if env_file.exists() else {}
        summary = tmp_path / "summary"
        self.summary = summary.read_text() if summary.exists() else ""


@pytest.fixture
def run_login(
    bench: Bench,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Any:
    def run(
        inputs: dict[str, str], *, ctx: dict[str, Any] | None = None, token_env: bool = True
    ) -> Run:
        for name in ("output", "env", "summary"):
            (tmp_path / name).unlink(missing_ok=True)
        for key in (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
        ):
            monkeypatch.delenv(key, raising=False)
        monkeypatch.setattr(runner, "_masked", set())
        environ = {
            **bench.aws_env(),
            "GITHUB_OUTPUT": str(tmp_path / "output"),
            "GITHUB_ENV": str(tmp_path / "env"),
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_RUN_ID": "4242",
            "GITHUB_RUN_ATTEMPT": "1",
            "HOOPSTAT_FACTORY_RETRY_BASE_SECONDS": "0.001",
        }
        if token_env:
            environ.update(
                bench.oidc_env({"repository": REPO, "ref": "refs/heads/main", **(ctx or {})})
            )
        environ.update({"INPUT_" + k.upper().replace("-", "_"): v for k, v in inputs.items()})
        for key, value in environ.items():
            monkeypatch.setenv(key, value)
        code = runner.run_action(lambda: login(dict(environ)))
        return Run(tmp_path, code, capsys.readouterr().out)

    return run


def test_login_exports_verified_credentials(run_login: Any, role: str, bench: Bench) -> None:
    """A trusted job gets masked, working credentials, the region, and the identity outputs."""
    run = run_login({"role-to-assume": role, "aws-region": "eu-west-1"})
    assert run.code == 0, run.stdout
    assert set(run.exported) == {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    }
    assert run.exported["AWS_REGION"] == "eu-west-1"
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        assert f"::add-mask::{run.exported[key]}" in run.stdout
    role_name = role.rsplit("/", maxsplit=1)[-1]
    assert run.outputs["authenticated-arn"] == (
        f"arn:aws:sts::123456789012:assumed-role/{role_name}/gha-demo-app-4242-1"
    )
    assert run.outputs["aws-account-id"] == "123456789012"
    assert run.outputs["aws-expiration"].startswith("20")
    import boto3

    sts = boto3.client(
        "sts",
        region_name="eu-west-1",
        endpoint_url=bench.moto_url,
        aws_access_key_id=run.exported["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=run.exported["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=run.exported["AWS_SESSION_TOKEN"],
    )
    assert sts.get_caller_identity()["Arn"] == run.outputs["authenticated-arn"]


def test_access_denied_explains_claims_and_condition(run_login: Any, role: str) -> None:
    """A branch the role does not trust fails access-denied, showing claims and a matching sub."""
    run = run_login(
        {"role-to-assume": role, "aws-region": "us-east-1"}, ctx={"ref": "refs/heads/feature-x"}
    )
    assert run.code == 1
    assert run.outputs == {"failure-reason": "access-denied"}
    assert run.exported == {}
    assert "::error title=Access denied assuming the role::" in run.stdout
    assert "| `sub` | `repo:hoopstat-haus/demo-app:ref:refs/heads/feature-x` |" in run.summary
    assert (
        '"token.actions.githubusercontent.com:sub": '
        '"repo:hoopstat-haus/demo-app:ref:refs/heads/feature-x"'
    ) in run.summary
    assert "| `job_workflow_ref` |" in run.summary


def test_environment_hint_when_sub_has_environment_form(run_login: Any, role: str) -> None:
    """A job in an environment is told its sub uses the environment form, not the ref form."""
    run = run_login(
        {"role-to-assume": role, "aws-region": "us-east-1"}, ctx={"environment": "production"}
    )
    assert run.code == 1
    assert "repo:hoopstat-haus/demo-app:environment:production" in run.summary
    assert "not the `ref:` form" in run.summary


def test_missing_id_token_permission(run_login: Any, role: str) -> None:
    """No token URL means no id-token: write; the fix shows the YAML and names fork PRs."""
    run = run_login({"role-to-assume": role, "aws-region": "us-east-1"}, token_env=False)
    assert run.code == 1
    assert run.outputs["failure-reason"] == "id-token-unavailable"
    assert "id-token: write" in run.summary and "forks" in run.summary
    assert run.exported == {}


def test_bad_inputs_are_all_reported_before_anything_else(run_login: Any) -> None:
    """Every bad input is named with its accepted form; validation runs before the token fetch."""
    run = run_login(
        {
            "role-to-assume": "arn:aws:iam::123:user/x",
            "aws-region": "Mars-1",
            "role-duration-seconds": "60",
            "allowed-account-ids": "12,abc",
            "mask-aws-account-id": "maybe",
            "retry-max-attempts": "0",
            "role-session-name": "has spaces in it",
        },
        token_env=False,
    )  # had validation not come first, this would be id-token-unavailable
    assert run.code == 1
    assert run.outputs == {"failure-reason": "invalid-input"}
    for name in (
        "role-to-assume",
        "aws-region",
        "role-duration-seconds",
        "allowed-account-ids",
        "mask-aws-account-id",
        "retry-max-attempts",
        "role-session-name",
    ):
        assert f"::error title=Invalid input {name}::" in run.stdout
    assert "900 to 43200" in run.stdout
    assert run.exported == {}


def test_account_not_allowed_fails_before_any_call(run_login: Any, role: str) -> None:
    """A role outside allowed-account-ids fails account-not-allowed and exports nothing."""
    run = run_login(
        {
            "role-to-assume": role,
            "aws-region": "us-east-1",
            "allowed-account-ids": "111111111111, 222222222222",
        },
        token_env=False,
    )
    assert run.code == 1
    assert run.outputs["failure-reason"] == "account-not-allowed"
    assert run.exported == {}


def test_allowed_account_passes(run_login: Any, role: str) -> None:
    """A role inside allowed-account-ids logs in."""
    run = run_login(
        {
            "role-to-assume": role,
            "aws-region": "us-east-1",
            "allowed-account-ids": "111111111111\n123456789012",
        }
    )
    assert run.code == 0, run.stdout


def test_duration_above_role_maximum(run_login: Any, role: str) -> None:
    """A duration within 900-43200 but above the role's MaxSessionDuration explains both fixes."""
    run = run_login(
        {"role-to-assume": role, "aws-region": "us-east-1", "role-duration-seconds": "43200"}
    )
    assert run.code == 1
    assert run.outputs["failure-reason"] == "invalid-input"
    assert "MaxSessionDuration" in run.summary


def test_unknown_role_is_access_denied(run_login: Any) -> None:
    """A role that does not exist is refused like AWS does (AccessDenied), not created."""
    run = run_login(
        {
            "role-to-assume": "arn:aws:iam::123456789012:role/does-not-exist",
            "aws-region": "us-east-1",
        }
    )
    assert run.code == 1
    assert run.outputs["failure-reason"] == "access-denied"


def test_wrong_audience_is_invalid_identity_token(run_login: Any, role: str) -> None:
    """An audience the OIDC provider does not list fails invalid-identity-token with the fix."""
    run = run_login(
        {"role-to-assume": role, "aws-region": "us-east-1", "audience": "my-other-audience"}
    )
    assert run.code == 1
    assert run.outputs["failure-reason"] == "invalid-identity-token"
    assert "client ID" in run.summary


def test_transient_token_endpoint_failures_are_retried(run_login: Any, role: str) -> None:
    """Two 503s from the token endpoint are retried with a log line each, then login succeeds."""
    run = run_login(
        {"role-to-assume": role, "aws-region": "us-east-1"},
        ctx={"fail_first": 2, "run_id": "retry-case"},
    )
    assert run.code == 0, run.stdout
    assert run.stdout.count("Requesting the GitHub OIDC token: attempt") == 2


def test_mask_account_id(run_login: Any, role: str) -> None:
    """mask-aws-account-id masks the account before it is printed."""
    run = run_login(
        {"role-to-assume": role, "aws-region": "us-east-1", "mask-aws-account-id": "true"}
    )
    assert run.code == 0
    assert "::add-mask::123456789012" in run.stdout
    masked_at = run.stdout.index("::add-mask::123456789012")
    assert "123456789012" not in run.stdout[:masked_at]
    assert "123456789012" not in run.summary


def test_default_session_name_is_sts_valid() -> None:
    """The default session name comes from repo and run, within STS's limits."""
    name = default_session_name(
        {"GITHUB_REPOSITORY": "o/" + "r" * 80, "GITHUB_RUN_ID": "123", "GITHUB_RUN_ATTEMPT": "2"}
    )
    assert len(name) <= 64 and name.endswith("-123-2")


@pytest.fixture
def sts_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Every STS request's operation and parameters, recorded by a botocore event hook on the
    real clients (a spy: the calls still go to moto)."""
    from action_scripts import aws

    calls: list[tuple[str, dict[str, Any]]] = []
    real_client = aws.client

    def client(service: str, **kwargs: Any) -> Any:
        made = real_client(service, **kwargs)
        if service == "sts":
            made.meta.events.register(
                "provide-client-params.sts.*",
                lambda params, model, **_: calls.append((model.name, dict(params))),
            )
        return made

    monkeypatch.setattr(aws, "client", client)
    return calls


def test_role_chaining_exports_the_second_roles_session(
    run_login: Any, role: str, bench: Bench, sts_calls: list[tuple[str, dict[str, Any]]]
) -> None:
    """With chain-role-to-assume the OIDC session assumes the second role with session tags and
    the session policies, and the exported credentials act as the second role."""
    iam = bench.admin_client("iam")
    chained = iam.create_role(RoleName=f"chained-{next(_names)}",
                              AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    policy = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}'  # noqa: E501
    run = run_login({"role-to-assume": role, "aws-region": "us-east-1",
                     "chain-role-to-assume": chained, "role-duration-seconds": "1800",
                     "inline-session-policy": policy,
                     "managed-session-policies": "arn:aws:iam::aws:policy/ReadOnlyAccess"})
    assert run.code == 0, run.stdout
    assert run.outputs["authenticated-arn"].startswith(
        f"arn:aws:sts::123456789012:assumed-role/{chained.rsplit('/', 1)[-1]}/")
    names = [name for name, _ in sts_calls]
    assert names == ["AssumeRoleWithWebIdentity", "GetCallerIdentity", "AssumeRole",
                     "GetCallerIdentity"]
    web, chain = sts_calls[0][1], sts_calls[2][1]
    assert "Policy" not in web and "PolicyArns" not in web  # only the final session is narrowed
    assert chain["RoleArn"] == chained and chain["DurationSeconds"] == 1800
    assert chain["PolicyArns"] == [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]
    assert '"s3:Get*"' in chain["Policy"]
    tags = {t["Key"]: t["Value"] for t in chain["Tags"]}
    assert tags["Repository"] == REPO and tags["GitHub"] == "Actions"


def test_session_policy_without_chaining_narrows_the_web_identity_session(
    run_login: Any, role: str, sts_calls: list[tuple[str, dict[str, Any]]]
) -> None:
    """Without chaining, the session policies go on AssumeRoleWithWebIdentity; with
    role-skip-session-tagging nothing is tagged."""
    run = run_login({"role-to-assume": role, "aws-region": "us-east-1",
                     "managed-session-policies": "arn:aws:iam::aws:policy/ReadOnlyAccess",
                     "role-skip-session-tagging": "true"})
    assert run.code == 0, run.stdout
    web = sts_calls[0][1]
    assert web["PolicyArns"] == [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]
    assert all("Tags" not in params for _, params in sts_calls)


@pytest.mark.parametrize(("inputs", "named"), [
    ({"chain-role-to-assume": "arn:aws:iam::123456789012:role/x",
      "role-duration-seconds": "7200"}, "role-duration-seconds"),
    ({"role-external-id": "abc"}, "role-external-id"),
    ({"inline-session-policy": "{not json"}, "inline-session-policy"),
    ({"managed-session-policies": "ReadOnlyAccess"}, "managed-session-policies"),
    ({"chain-role-to-assume": "arn:aws:iam::١٢٣٤٥٦٧٨٩٠١٢:role/x"}, "chain-role-to-assume"),
])
def test_bad_chaining_and_policy_inputs_fail_before_any_call(
    run_login: Any, role: str, inputs: dict[str, str], named: str,
    sts_calls: list[tuple[str, dict[str, Any]]],
) -> None:
    """Each bad chaining or session-policy input is named, and STS is never called."""
    run = run_login({"role-to-assume": role, "aws-region": "us-east-1", **inputs})
    assert run.code == 1 and run.outputs == {"failure-reason": "invalid-input"}
    assert f"`{named}`" in run.summary or f"input {named}" in run.stdout
    assert sts_calls == [] and run.exported == {}
