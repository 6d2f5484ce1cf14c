"""oidc-login run as a real workflow step through act, against the bench."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from factory_bench.stack import Bench

WORKFLOW = (Path(__file__).parents[1] / "workflows" / "oidc-login.yml").read_text()
REPO = "hoopstat-haus/demo-app"

pytestmark = pytest.mark.act


@pytest.fixture(scope="module")
def deploy_role(bench: Bench) -> str:
    return bench.github_oidc_role("act-deploy", subjects=[f"repo:{REPO}:ref:refs/heads/main"])


def test_login_then_aws_call_with_exported_credentials(
    run_workflow: Any, deploy_role: str, tmp_path: Path, bench: Bench
) -> None:
    """The action logs in by full reference; the next step calls AWS as the assumed role."""
    capture = tmp_path / "captured.json"
    result = run_workflow(
        WORKFLOW, variables={"ROLE_ARN": deploy_role, "CAPTURE_FILE": str(capture)}
    )
    assert result.ok, result.log[-4000:]
    assert "identity-ok arn:aws:sts::123456789012:assumed-role/act-deploy/" in result.log
    # No credential value appears unmasked anywhere in the run's log.
    secrets = json.loads(capture.read_text())
    assert set(secrets) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
    for name, value in secrets.items():
        assert len(value) > 10
        assert value not in result.log, f"{name} leaked into the log"
    request_token = bench.services["oidc-issuer"].info["request_token"]
    assert request_token not in result.log
    assert "eyJ" not in result.log  # no JWT (the OIDC token) printed either


def expect_failure(result: Any, reason: str) -> None:
    assert not result.ok, result.log[-3000:]
    assert f"failure-reason={reason}" in result.log, result.log[-3000:]
    assert "identity-ok" not in result.log


def test_without_id_token_permission(run_workflow: Any, deploy_role: str, tmp_path: Path) -> None:
    """A job with no token-request variables fails id-token-unavailable, naming the permission."""
    result = run_workflow(
        WORKFLOW,
        use_oidc=False,
        variables={"ROLE_ARN": deploy_role, "CAPTURE_FILE": str(tmp_path / "c")},
    )
    expect_failure(result, "id-token-unavailable")
    assert "missing id-token: write" in result.log


def test_untrusted_branch_is_denied(run_workflow: Any, deploy_role: str, tmp_path: Path) -> None:
    """A push to a branch the trust policy does not name fails access-denied."""
    result = run_workflow(
        WORKFLOW,
        event={"ref": "refs/heads/experiment"},
        variables={"ROLE_ARN": deploy_role, "CAPTURE_FILE": str(tmp_path / "c")},
    )
    expect_failure(result, "access-denied")
    assert "repo:hoopstat-haus/demo-app:ref:refs/heads/experiment" in result.log


@pytest.mark.parametrize(
    "variables,reason,needle",
    [
        ({"ROLE_ARN": "deploy-role"}, "invalid-input", "Invalid input role-to-assume"),
        ({"DURATION": "100"}, "invalid-input", "Invalid input role-duration-seconds"),
        ({"ALLOWED_ACCOUNTS": "111111111111"}, "account-not-allowed", "AWS account not allowed"),
    ],
)
def test_bad_input_fails_the_step(
    run_workflow: Any,
    deploy_role: str,
    tmp_path: Path,
    variables: dict[str, str],
    reason: str,
    needle: str,
) -> None:
    """Bad role ARN, out-of-range duration and a disallowed account each fail with their reason."""
    merged = {"ROLE_ARN": deploy_role, "CAPTURE_FILE": str(tmp_path / "c"), **variables}
    result = run_workflow(WORKFLOW, variables=merged)
    expect_failure(result, reason)
    assert needle in result.log
