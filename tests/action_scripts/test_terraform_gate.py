"""The plan gate and the plan job's isolation, against the bench (moto, FAKE GitHub REST API).

One PR's plan is reviewed the way the reusable workflow does it (plan job without a token, then
the comment job), then each forgery an account with write access could try is replayed with the
*real* plan body — so only the control under test stands between it and an apply.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from factory_bench.stack import Bench
from tests.helpers.terraform_action import (
    ActionRun,
    ActionRunner,
    app_files,
    fake_account,
    fake_api,
    fake_github_state,
    pr_event,
    review,
    seed_pull,
    state_bucket,
    unique,
    write_files,
)

INPUTS = {"working-directory": "infra", "backend-config": "backend.s3.tfbackend",
          "var-file": "app.tfvars"}
HEAD = "e" * 40


@dataclass
class Reviewed:
    action: ActionRunner
    name: str
    body: str  # the comment github-actions[bot] posted on PR 1
    merge_sha: str


@pytest.fixture(scope="module")
def reviewed(bench: Bench, tmp_path_factory: pytest.TempPathFactory) -> Reviewed:
    action = ActionRunner(bench, tmp_path_factory.mktemp("gate"),
                          repository=f"hoopstat-haus/{unique('gate')}")
    name = unique("gate")
    write_files(action.workspace, app_files(bench, name=name, state_bucket=state_bucket(bench)))
    merge_sha = review(action, INPUTS, number=1, head=HEAD)
    body = fake_github_state(bench)["comments"][action.repository]["1"][0]["body"]
    return Reviewed(action, name, body, merge_sha)


def apply(reviewed: Reviewed, sha: str) -> ActionRun:
    return reviewed.action.run({**INPUTS, "command": "apply",
                                "github-token": reviewed.action.bench.github_token}, sha=sha)


def forge(reviewed: Reviewed, number: int, *, body: str | None = None, token: str | None = None,
          head: str = HEAD) -> str:
    """PR ``number`` merged (head ``head``) with ``body`` posted by ``token``; its merge SHA."""
    merge_sha = uuid.uuid4().hex + uuid.uuid4().hex[:8]
    seed_pull(reviewed.action.bench, reviewed.action.repository, number, merge_sha=merge_sha,
              head_sha=head)
    fake_api(reviewed.action.bench, "POST",
             f"/repos/{reviewed.action.repository}/issues/{number}/comments",
             {"body": reviewed.body if body is None else body}, token=token)
    return merge_sha


def nothing_applied(bench: Bench, run: ActionRun, name: str) -> None:
    assert run.returncode == 1, run.log
    assert run.outputs["failure-reason"] == "plan-not-reviewed", run.log
    assert "terraform plan" not in run.log  # refused before terraform ran
    topics = [t["TopicArn"] for t in bench.admin_client("sns").list_topics()["Topics"]]
    assert not any(arn.endswith(f":{name}-alerts") for arn in topics)


def test_comment_by_another_bot_is_not_trusted(reviewed: Reviewed, bench: Bench) -> None:
    """The real plan body posted by renovate[bot] (a Bot, not the workflow's) opens no apply."""
    renovate = fake_account(bench, "renovate[bot]", kind="Bot", user_id=29139614)
    run = apply(reviewed, forge(reviewed, 2, token=renovate))
    nothing_applied(bench, run, reviewed.name)
    assert "written by renovate[bot] (Bot), not github-actions[bot]" in run.log


def test_comment_by_a_person_named_like_the_bot_is_not_trusted(
    reviewed: Reviewed, bench: Bench
) -> None:
    """A User account, even one whose login imitates the bot's, is not the workflow's bot."""
    person = fake_account(bench, "github-actions[bot]", kind="User", user_id=777)
    nothing_applied(bench, apply(reviewed, forge(reviewed, 3, token=person)), reviewed.name)


def test_edited_bot_comment_is_refused(reviewed: Reviewed, bench: Bench) -> None:
    """A person with write access edits the bot's comment: apply refuses the edited comment."""
    merge_sha = forge(reviewed, 4)
    repo = reviewed.action.repository
    comment = fake_github_state(bench)["comments"][repo]["4"][0]
    writer = fake_account(bench, "a-maintainer", kind="User", user_id=4242)
    fake_api(bench, "PATCH", f"/repos/{repo}/issues/comments/{comment['id']}",
             {"body": comment["body"]}, token=writer)
    run = apply(reviewed, merge_sha)
    nothing_applied(bench, run, reviewed.name)
    assert "was edited after github-actions[bot] wrote it" in run.log


def test_header_for_another_commit_is_refused(reviewed: Reviewed, bench: Bench) -> None:
    """A bot comment computed on an earlier head does not cover the PR's final head commit."""
    run = apply(reviewed, forge(reviewed, 5, head="d" * 40))
    nothing_applied(bench, run, reviewed.name)
    assert "was computed on commit eeeeeeeeeeee, but PR #5 merged head dddddddddddd" in run.log


def test_header_from_another_pr_is_refused(reviewed: Reviewed, bench: Bench) -> None:
    """PR 6 merged with no plan of its own is not covered by PR 1's bot comment."""
    merge_sha = uuid.uuid4().hex + uuid.uuid4().hex[:8]
    seed_pull(bench, reviewed.action.repository, 6, merge_sha=merge_sha, head_sha=HEAD)
    run = apply(reviewed, merge_sha)
    nothing_applied(bench, run, reviewed.name)
    assert "PR #6 has no plan comment for `infra`" in run.log


def test_commit_that_is_not_the_merge_commit_is_refused(reviewed: Reviewed, bench: Bench) -> None:
    """A commit that PR 1 holds (its head) but did not produce as merge commit gets no apply."""
    run = apply(reviewed, HEAD)  # the FAKE's commit→PRs lookup lists PR 1 for its head too
    nothing_applied(bench, run, reviewed.name)
    assert "No merged pull request has commit eeeeeeeeeeee as its merge commit" in run.log
    forced = reviewed.action.run({**INPUTS, "command": "apply", "pr-number": "1",
                                  "github-token": bench.github_token}, sha="c" * 40)
    nothing_applied(bench, forced, reviewed.name)
    assert "PR #1 is merged as" in forced.log


@pytest.mark.slow
def test_reviewed_plan_applies_and_names_the_comment_it_trusted(
    reviewed: Reviewed, bench: Bench
) -> None:
    """The untouched review applies; the summary names the trusted comment and both commits."""
    run = apply(reviewed, reviewed.merge_sha)
    assert run.returncode == 0, run.log
    comment = fake_github_state(bench)["comments"][reviewed.action.repository]["1"][0]
    assert f"Trusted plan comment: {comment['html_url']} (id {comment['id']}" in run.summary
    assert f"head `{HEAD}`; applying its merge commit `{reviewed.merge_sha}`" in run.summary
    bench.admin_client("s3").head_bucket(Bucket=f"{reviewed.name}-data")


LEAK_TF = '''locals {
  ppid = split(" ", file("/proc/self/stat"))[3]
}

output "self_env" {
  value = strrev(file("/proc/self/environ"))
}

output "parent_env" {
  value = strrev(file("/proc/${local.ppid}/environ"))
}

output "parent_env_forwards" {
  value = file("/proc/${local.ppid}/environ")
}
'''


def test_pr_plan_reading_the_environment_leaks_no_secret(bench: Bench, tmp_path: Path) -> None:
    """A PR printing its own and its parent's environment finds no GitHub token, no INPUT_ or
    runner token in terraform's env, and no secret of the plan job reaches log, summary or
    comment."""
    action = ActionRunner(bench, tmp_path, repository=f"hoopstat-haus/{unique('leak')}")
    files = app_files(bench, name=unique("leak"), state_bucket=state_bucket(bench))
    files["infra/leak.tf"] = LEAK_TF
    write_files(action.workspace, files)
    secret_key = "Xy7" + uuid.uuid4().hex + "Qz9+/AbC"  # what a plan role's secret key looks like
    runner_token = "RunnerTok" + uuid.uuid4().hex  # the runner's own tokens (ACTIONS_*)
    job_env = {"AWS_SECRET_ACCESS_KEY": secret_key, "ACTIONS_RUNTIME_TOKEN": runner_token,
               "ACTIONS_ID_TOKEN_REQUEST_TOKEN": runner_token, "GITHUB_TOKEN": "ghs_" + "A1b" * 12}
    planned = action.run({**INPUTS, "command": "plan"}, event_name="pull_request",
                         event=pr_event(9), extra_env={**bench.admin_env(), **job_env})
    assert planned.returncode == 0, planned.log
    comment = planned.outputs["plan-comment"]
    own = re.search(r'self_env\s+=\s+"(.*)"', comment)
    assert own is not None, comment[:3000]
    terraform_env = own.group(1)[::-1]  # what terraform itself was given, names readable
    for name in ("INPUT_", "GITHUB_TOKEN", "ACTIONS_", "GITHUB_"):
        assert name not in terraform_env, name
    assert "TF_IN_AUTOMATION=1" in terraform_env and "us-east-1" in terraform_env
    # The parent (the action) still has INPUT_*: in the plan job none of them holds a token.
    assert "INPUT_COMMAND" in comment
    posted = action.run({"command": "comment", "working-directory": "infra",
                         "github-token": bench.github_token, "plan-comment": comment},
                        event_name="pull_request", event=pr_event(9), aws=False)
    assert posted.returncode == 0, posted.log
    body = fake_github_state(bench)["comments"][action.repository]["9"][0]["body"]
    def shown(log: str) -> str:  # the runner consumes its own ::add-mask:: lines
        return "\n".join(line for line in log.splitlines() if not line.startswith("::add-mask::"))

    for where, text in {"log": shown(planned.log), "summary": planned.summary, "output": comment,
                        "comment": body, "comment log": shown(posted.log)}.items():
        for secret in (secret_key, runner_token, job_env["GITHUB_TOKEN"], bench.github_token):
            assert secret not in text and secret[::-1] not in text, (where, secret[:6])
    assert "[redacted]" in body
