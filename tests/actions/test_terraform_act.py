"""actions/terraform through real act against the bench (moto, OIDC issuer, FAKE GitHub API).

One app repo per test; its Terraform root module is tests/fixtures/terraform/basic with the
bench's moto provider override and an S3 backend on moto (``use_lockfile = true``). The plan
job logs in with a plan role trusting only the ``pull_request`` subject, apply with a deploy role
trusting only ``main``; the plan comment lands in the bench's FAKE GitHub REST API.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from factory_bench import act
from factory_bench.stack import Bench
from factory_bench.testing import need_tool
from tests.helpers import WorkflowRunner
from tests.helpers.terraform_action import (
    app_files,
    apply_directly,
    fake_github_state,
    state_bucket,
    terraform_env,
    tfvars,
    unique,
)

WORKFLOW = (Path(__file__).resolve().parents[1] / "workflows" / "terraform-review.yml").read_text()
REPOSITORY = "hoopstat-haus/tf-act-app"

pytestmark = [pytest.mark.act]


class App:
    """One app repository driven through several workflow runs."""

    def __init__(self, bench: Bench, run_workflow: WorkflowRunner, tmp: Path, name: str) -> None:
        need_tool("terraform", install_hint="terraform 1.11 from the HashiCorp apt repo")
        self.bench = bench
        self.run_workflow = run_workflow
        self.tmp = tmp
        self.name = name
        self.bucket = state_bucket(bench)
        self.repo = act.init_app_repo(tmp / "app", repository=REPOSITORY)
        self.role = bench.github_oidc_role(
            unique("tf-deploy"), subjects=[f"repo:{REPOSITORY}:ref:refs/heads/main"])
        self.plan_role = bench.github_oidc_role(
            unique("tf-plan"), subjects=[f"repo:{REPOSITORY}:pull_request"])
        self.tf_env = terraform_env(tmp)
        self.files = app_files(bench, name=name, state_bucket=self.bucket)
        self.runs = 0

    def run(self, command: str, *, event_name: str = "push", event: dict[str, Any] | None = None,
            files: dict[str, str] | None = None, env: dict[str, str] | None = None,
            **variables: str) -> tuple[act.ActResult, dict[str, str]]:
        self.runs += 1
        capture = self.tmp / f"outputs-{self.runs}.json"
        self.files.update(files or {})
        result = self.run_workflow(
            WORKFLOW, files=self.files, event_name=event_name, event=event,
            repository=REPOSITORY, repo=self.repo,
            env={**self.tf_env, **self.bench.github_env(), **(env or {})},
            variables={"ROLE_ARN": self.role, "PLAN_ROLE_ARN": self.plan_role,
                       "COMMAND": command, "CAPTURE_FILE": str(capture),
                       "FAKE_GITHUB_URL": self.bench.github_api_url, **variables},
            secrets={"FAKE_GITHUB_TOKEN": self.bench.github_token},
        )
        outputs = json.loads(capture.read_text()) if capture.exists() else {}
        return result, outputs


def pr_event(number: int) -> dict[str, Any]:
    return {"ref": f"refs/pull/{number}/merge",
            "pull_request": {"number": number, "head": {"sha": "e" * 40}}}


@pytest.mark.slow
def test_plan_comment_then_apply_then_plan_changed(
    bench: Bench, run_workflow: WorkflowRunner, tmp_path: Path
) -> None:
    """PR plans post one comment (replaced, never edited); the merge applies it; a change fails."""
    app = App(bench, run_workflow, tmp_path, unique("tfact"))
    first, outputs = app.run("plan", event_name="pull_request", event=pr_event(11))
    assert first.ok, first.log[-6000:]
    assert outputs["changes"] == "true" and outputs["to-add"] == "2", outputs
    second, again = app.run("plan", event_name="pull_request", event=pr_event(11))
    assert second.ok, second.log[-6000:]
    comments = fake_github_state(bench)["comments"][REPOSITORY]["11"]
    assert len(comments) == 1, "the second plan must replace the first comment"
    assert comments[0]["created_at"] == comments[0]["updated_at"], "never edited"
    assert comments[0]["body"].startswith("<!-- hoopstat-factory {")
    assert again["plan-hash"] == outputs["plan-hash"]
    assert outputs["plan-hash"] in comments[0]["body"]

    # act pins github.sha to the app repo's HEAD, which each run re-commits: the apply job's
    # first step seeds the FAKE API with PR 11 merged as that commit (head e…e, as planned).
    applied, result = app.run("apply", MERGED_PR="11", MERGED_HEAD="e" * 40)
    assert applied.ok, applied.log[-6000:]
    assert result["plan-hash"] == outputs["plan-hash"]
    assert "The plan matches the one reviewed on PR #11" in applied.log
    assert f"Trusted plan comment: {comments[0]['html_url']}" in applied.log
    for result_log in (first.log, second.log, applied.log):
        assert bench.github_token not in result_log
    sns = bench.admin_client("sns")
    arn = next(t["TopicArn"] for t in sns.list_topics()["Topics"]
               if t["TopicArn"].endswith(f":{app.name}-alerts"))
    bench.admin_client("s3").head_bucket(Bucket=f"{app.name}-data")

    changed, failed = app.run(
        "apply", MERGED_PR="11", MERGED_HEAD="e" * 40,
        files={"infra/app.tfvars": tfvars(name=app.name, setting="v9")})
    assert not changed.ok
    assert failed["failure-reason"] == "plan-changed", changed.log[-6000:]
    assert "title=Plan changed since review::" in changed.log
    # Reviewed: create bucket + topic; now: only the topic's display name changes.
    assert "`aws_sns_topic.alerts`: reviewed create, now update" in changed.log
    assert "reviewed but no longer planned: `aws_s3_bucket.data[0]`" in changed.log
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["DisplayName"] == "v1"  # nothing applied


@pytest.mark.slow
def test_protected_destroy_is_blocked_and_held_lock_is_reported(
    bench: Bench, run_workflow: WorkflowRunner, tmp_path: Path
) -> None:
    """Destroying a protected bucket fails destroy-blocked; a held lock fails state-locked."""
    app = App(bench, run_workflow, tmp_path, unique("tfguard"))
    apply_directly(bench, tmp_path, app.files)

    blocked, outputs = app.run(
        "plan", event_name="pull_request", event=pr_event(13), PROTECTED="aws_s3_bucket.data",
        files={"infra/app.tfvars": tfvars(name=app.name, keep_data_bucket=False)})
    assert not blocked.ok
    assert outputs["failure-reason"] == "destroy-blocked", blocked.log[-6000:]
    assert outputs["to-destroy"] == "1"
    assert "aws_s3_bucket.data[0]" in blocked.log
    posted = fake_github_state(bench)["comments"][REPOSITORY]["13"][0]["body"]
    assert "Blocked: protected resources would be destroyed" in posted  # the comment job ran
    bench.admin_client("s3").head_bucket(Bucket=f"{app.name}-data")  # still there

    lock = {"ID": "5a5a5a5a-0000-4000-8000-000000000042", "Operation": "OperationTypeApply",
            "Info": "", "Who": "runner@release-pipeline", "Version": "1.11.4",
            "Created": "2026-01-01T00:00:00Z", "Path": f"{app.bucket}/{app.name}/terraform.tfstate"}
    bench.admin_client("s3").put_object(
        Bucket=app.bucket, Key=f"{app.name}/terraform.tfstate.tflock",
        Body=json.dumps(lock).encode())
    locked, outputs = app.run("plan", event_name="pull_request", event=pr_event(12))
    assert not locked.ok
    assert outputs["failure-reason"] == "state-locked", locked.log[-6000:]
    assert "locked by runner@release-pipeline since 2026-01-01T00:00:00+00:00" in locked.log
    assert re.search(r"\(\d+d \d\dh ago\)", locked.log)
    assert "12" not in fake_github_state(bench)["comments"].get(REPOSITORY, {})  # no comment
