"""The terraform action end to end in a subprocess: real terraform, moto's S3 backend, FAKE GitHub.

These drive ``python -m action_scripts.terraform`` as the composite action does (``INPUT_*``,
``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``), against the bench's moto for AWS and the bench's FAKE
GitHub REST API for the PR comment. The act tests (tests/actions/test_terraform_act.py) run the
main review flow through a real workflow; these cover the other paths.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from action_scripts import terraform as tf_action
from action_scripts.errors import FactoryError
from factory_bench.stack import Bench
from tests.helpers.terraform_action import (
    ActionRunner,
    app_files,
    apply_directly,
    fake_github_state,
    review,
    seed_pull,
    state_bucket,
    tfvars,
    unique,
    write_files,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "terraform" / "basic"


@pytest.fixture
def action(bench: Bench, tmp_path: Path) -> ActionRunner:
    return ActionRunner(bench, tmp_path)


BASE_INPUTS = {"working-directory": "infra", "backend-config": "backend.s3.tfbackend",
               "var-file": "app.tfvars"}


def test_invalid_inputs_fail_together_before_terraform_runs(action: ActionRunner) -> None:
    """Every bad input is named with its accepted form, and terraform never starts."""
    run = action.run({
        "command": "apply", "working-directory": "../outside", "allow-destroy": "yes",
        "protected-resources": "aws_s3_bucket data", "terraform-version": "latest",
        "pr-number": "0", "github-token": "",
    }, extra_env={"PATH": "/nonexistent"})  # terraform is not even findable
    assert run.returncode == 1
    assert run.outputs["failure-reason"] == "invalid-input"
    for name in ("working-directory", "allow-destroy", "protected-resources",
                 "terraform-version", "pr-number", "github-token"):
        assert f"title=Invalid input {name}::" in run.log, name
    assert "Nothing was changed" in run.summary
    assert "terraform not found" not in run.log


def test_missing_files_and_command_are_reported(action: ActionRunner) -> None:
    """A missing command, backend-config or var-file fails as invalid input naming each."""
    (action.workspace / "infra").mkdir()
    run = action.run({"command": "", "working-directory": "infra",
                      "backend-config": "nope.tfbackend", "var-file": "a.tfvars,b.tfvars"})
    assert run.returncode == 1 and run.outputs["failure-reason"] == "invalid-input"
    assert "title=Invalid input command::" in run.log
    assert "title=Invalid input backend-config::" in run.log
    assert run.log.count("title=Invalid input var-file::") == 2


def test_token_is_masked(action: ActionRunner) -> None:
    """The github-token is registered as a secret before anything else is printed."""
    (action.workspace / "infra").mkdir()
    run = action.run({"command": "plan", "working-directory": "infra",
                      "github-token": "ghs_supersecret123", "pr-number": "x"})
    assert run.returncode == 1
    assert run.log.splitlines()[0] == "::add-mask::ghs_supersecret123"


def test_unformatted_code_fails_validate_failed(action: ActionRunner, bench: Bench) -> None:
    """`fmt -check` failure stops the run with validate-failed and shows the diff."""
    files = app_files(bench, name=unique("fmt"), state_bucket=state_bucket(bench))
    files["infra/extra.tf"] = 'locals {\n  a   = 1\n}\n'
    write_files(action.workspace, files)
    run = action.run({**BASE_INPUTS, "command": "plan"})
    assert run.returncode == 1, run.log
    assert run.outputs["failure-reason"] == "validate-failed"
    assert "not formatted" in run.summary and "extra.tf" in run.summary


def test_invalid_configuration_fails_validate_failed(action: ActionRunner, bench: Bench) -> None:
    """A reference to an undeclared resource fails `validate` with its diagnostic shown."""
    files = app_files(bench, name=unique("val"), state_bucket=state_bucket(bench))
    files["infra/extra.tf"] = 'output "x" {\n  value = aws_sns_topic.missing.arn\n}\n'
    write_files(action.workspace, files)
    run = action.run({**BASE_INPUTS, "command": "plan"})
    assert run.returncode == 1, run.log
    assert run.outputs["failure-reason"] == "validate-failed"
    assert "Reference to undeclared resource" in run.summary


def test_missing_state_bucket_fails_init(action: ActionRunner, bench: Bench) -> None:
    """A backend bucket that does not exist fails with init-failed."""
    write_files(action.workspace, app_files(bench, name=unique("init"),
                                            state_bucket=unique("no-such-bucket")))
    run = action.run({**BASE_INPUTS, "command": "plan"})
    assert run.returncode == 1, run.log
    assert run.outputs["failure-reason"] == "init-failed"


def test_terraform_version_mismatch(action: ActionRunner, bench: Bench) -> None:
    """Asking for a terraform version that is not installed fails before init."""
    write_files(action.workspace, app_files(bench, name=unique("ver"),
                                            state_bucket=state_bucket(bench)))
    run = action.run({**BASE_INPUTS, "command": "plan", "terraform-version": "0.12"})
    assert run.returncode == 1
    assert run.outputs["failure-reason"] == "terraform-unavailable"
    assert "asks for 0.12" in run.log
    assert not (action.workspace / "infra" / ".terraform").exists()


def pr_event(number: int) -> dict[str, Any]:
    return {"pull_request": {"number": number, "head": {"sha": "e" * 40}}}


@pytest.mark.slow
def test_state_lock_held_by_another_run(action: ActionRunner, bench: Bench) -> None:
    """A .tflock written by another holder fails the plan with state-locked, holder and age."""
    name = unique("lock")
    bucket = state_bucket(bench)
    write_files(action.workspace, app_files(bench, name=name, state_bucket=bucket))
    lock = {"ID": "9e1f0000-aaaa-bbbb-cccc-000000000001", "Operation": "OperationTypeApply",
            "Info": "", "Who": "deployer@other-runner", "Version": "1.11.4",
            "Created": "2026-01-02T03:04:05.000000006Z",
            "Path": f"{bucket}/{name}/terraform.tfstate"}
    bench.admin_client("s3").put_object(Bucket=bucket, Key=f"{name}/terraform.tfstate.tflock",
                                        Body=json.dumps(lock).encode())
    run = action.run({**BASE_INPUTS, "command": "plan"})
    assert run.returncode == 1, run.log
    assert run.outputs["failure-reason"] == "state-locked"
    assert "locked by deployer@other-runner since 2026-01-02T03:04:05" in run.log
    assert "9e1f0000-aaaa-bbbb-cccc-000000000001" in run.summary
    assert re.search(r"\| age \| \d+d \d\dh \|", run.summary), run.summary


@pytest.mark.slow
def test_drift_passes_when_in_sync_and_fails_after_a_manual_change(
    action: ActionRunner, bench: Bench, tmp_path: Path
) -> None:
    """Drift finds nothing right after an apply, then names a resource changed outside Terraform."""
    name = unique("drift")
    files = app_files(bench, name=name, state_bucket=state_bucket(bench))
    write_files(action.workspace, files)
    apply_directly(bench, tmp_path, files)

    clean = action.run({**BASE_INPUTS, "command": "drift"})
    assert clean.returncode == 0, clean.log
    assert clean.outputs["changes"] == "false"
    assert "No drift in `infra`" in clean.summary

    sns = bench.admin_client("sns")
    arn = next(t["TopicArn"] for t in sns.list_topics()["Topics"]
               if t["TopicArn"].endswith(f":{name}-alerts"))
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName",
                             AttributeValue="edited-in-console")
    drifted = action.run({**BASE_INPUTS, "command": "drift"})
    assert drifted.returncode == 1, drifted.log
    assert drifted.outputs["failure-reason"] == "drift-detected"
    assert drifted.outputs["to-change"] == "1"
    assert "- `aws_sns_topic.alerts`: update" in drifted.summary
    assert "`aws_sns_topic.alerts` changed outside Terraform" in drifted.summary
    assert "title=Infrastructure drift detected::" in drifted.log


def test_apply_finds_the_pr_of_the_merge_commit_and_needs_its_comment(
    action: ActionRunner, bench: Bench
) -> None:
    """Apply maps GITHUB_SHA to its merged PR; without that PR's plan comment nothing applies."""
    name = unique("unrev")
    write_files(action.workspace, app_files(bench, name=name, state_bucket=state_bucket(bench)))
    merge_sha = uuid.uuid4().hex + "0" * 8
    seed_pull(bench, action.repository, 41, merge_sha=merge_sha)
    run = action.run({**BASE_INPUTS, "command": "apply", "github-token": bench.github_token},
                     sha=merge_sha)
    assert run.returncode == 1, run.log
    assert run.outputs["failure-reason"] == "plan-not-reviewed"
    assert "PR #41 has no plan comment for `infra`" in run.log
    topics = [t["TopicArn"] for t in bench.admin_client("sns").list_topics()["Topics"]]
    assert not any(arn.endswith(f":{name}-alerts") for arn in topics)


def test_commit_without_a_merged_pr_has_no_reviewed_plan(bench: Bench, tmp_path: Path) -> None:
    """A pushed commit that no PR merged, or a PR that is not merged, has no reviewed plan."""
    (tmp_path / "infra").mkdir()
    environ = {"GITHUB_WORKSPACE": str(tmp_path), "INPUT_COMMAND": "apply",
               "INPUT_WORKING_DIRECTORY": "infra", "INPUT_GITHUB_TOKEN": bench.github_token,
               "GITHUB_REPOSITORY": "hoopstat-haus/no-pr", "GITHUB_SHA": "ab" * 20,
               "GITHUB_EVENT_NAME": "push", "GITHUB_API_URL": bench.github_api_url}
    inputs = tf_action.read_inputs(environ)
    comments = tf_action._comments(inputs, environ)
    with pytest.raises(FactoryError) as caught:
        comments.merged_pull("ab" * 20)
    assert caught.value.reason == "plan-not-reviewed"
    assert "No merged pull request has commit abababababab" in caught.value.message
    seed_pull(bench, "hoopstat-haus/no-pr", 7, merge_sha="cd" * 20, merged=False)
    with pytest.raises(FactoryError) as caught:
        comments.merged_pull("cd" * 20, 7)
    assert "PR #7 is not merged" in caught.value.message
    seed_pull(bench, "hoopstat-haus/no-pr", 8, merge_sha="ef" * 20, head_sha="12" * 20)
    found = comments.merged_pull("ef" * 20)
    assert (found.number, found.head_sha) == (8, "12" * 20)


@pytest.mark.slow
def test_allow_destroy_lets_a_reviewed_protected_destroy_through(
    action: ActionRunner, bench: Bench, tmp_path: Path
) -> None:
    """With allow-destroy, a reviewed plan destroying a protected bucket is applied, flagged."""
    name = unique("allow")
    files = app_files(bench, name=name, state_bucket=state_bucket(bench))
    apply_directly(bench, tmp_path, files)
    files["infra/app.tfvars"] = tfvars(name=name, keep_data_bucket=False)
    write_files(action.workspace, files)
    guarded = {**BASE_INPUTS, "github-token": bench.github_token,
               "protected-resources": "aws_s3_bucket.data"}

    allowed = {**guarded, "allow-destroy": "true"}
    merge_sha = review(action, allowed, number=21)
    comments = fake_github_state(bench)["comments"][action.repository]["21"]
    assert "Protected resources will be destroyed (`allow-destroy: true`)" in comments[0]["body"]
    applied = action.run({**allowed, "command": "apply"}, sha=merge_sha)
    assert applied.returncode == 0, applied.log
    buckets = [b["Name"] for b in bench.admin_client("s3").list_buckets()["Buckets"]]
    assert f"{name}-data" not in buckets
