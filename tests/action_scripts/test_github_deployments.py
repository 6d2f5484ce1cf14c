"""Tests for GitHub Deployment records, against the bench's FAKE GitHub REST API.

No real stand-in for api.github.com runs offline, so these use the fake
(:mod:`factory_bench.fake_github`), through PyGithub exactly as in a workflow.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from action_scripts import github_deployments, lambda_deploy, lambda_rollback, runner
from factory_bench.stack import Bench
from tests.helpers.lambda_app import SHA, queue_replies, seed_app

REPO = "hoopstat-haus/demo-app"


def fake_state(bench: Bench) -> dict[str, Any]:
    with urllib.request.urlopen(f"{bench.github_api_url}/_fake/state", timeout=10) as reply:
        state: dict[str, Any] = json.loads(reply.read())
    return state


def records_for(bench: Bench, function: str) -> list[tuple[dict[str, Any], list[str]]]:
    """(deployment, its status states oldest first) for deployments of one function."""
    state = fake_state(bench)
    found = []
    for record in state["deployments"].get(REPO, []):
        if record["payload"].get("function") == function:
            statuses = state["statuses"].get(str(record["id"]), [])
            found.append((record, [s["state"] for s in statuses]))
    return found


def github_env(bench: Bench) -> dict[str, str]:
    return {"GITHUB_API_URL": bench.github_api_url}


def test_deploy_records_deployment_with_statuses(run_action: Any, bench: Bench) -> None:
    """A deploy with a token creates a Deployment for the commit: in_progress, then success."""
    app = seed_app(bench)
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(1),
                                         "github-token": bench.github_token,
                                         "environment": "production"},
                     env=github_env(bench))
    assert run.code == 0, run.stdout
    [(record, states)] = records_for(bench, app.function)
    assert record["ref"] == SHA
    assert record["task"] == "deploy"
    assert record["environment"] == "production"
    assert record["payload"]["image"] == app.uri(1)
    assert states == ["in_progress", "success"]
    assert bench.github_token not in run.stdout.replace(f"::add-mask::{bench.github_token}", "")


def test_failed_deploy_records_failure(run_action: Any, bench: Bench) -> None:
    """A deploy stopped by its smoke test leaves a failure status on its Deployment."""
    app = seed_app(bench)
    queue_replies(bench, app.function, [{"payload": "{}", "function_error": "Unhandled"}],
                  qualifier="2")
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(1),
                                         "smoke-payload": "{}",
                                         "github-token": bench.github_token},
                     env=github_env(bench))
    assert run.code == 1
    [(_, states)] = records_for(bench, app.function)
    assert states == ["in_progress", "failure"]


def test_noop_and_tokenless_deploys_record_nothing(run_action: Any, bench: Bench) -> None:
    """No token means no record; a no-op deploy (same digest) records nothing either."""
    app = seed_app(bench)
    assert run_action(lambda_deploy.run, {"function-name": app.function,
                                          "image-uri": app.uri(1)},
                      env=github_env(bench)).code == 0
    noop = run_action(lambda_deploy.run, {"function-name": app.function,
                                          "image-uri": app.uri(1),
                                          "github-token": bench.github_token},
                      env=github_env(bench))
    assert noop.code == 0 and "Already deployed" in noop.stdout
    assert records_for(bench, app.function) == []


def test_rollback_is_recorded(run_action: Any, bench: Bench) -> None:
    """A rollback records a Deployment with task rollback for the target's commit."""
    app = seed_app(bench)
    assert run_action(lambda_deploy.run, {"function-name": app.function,
                                          "image-uri": app.uri(1)},
                      env={"GITHUB_SHA": "a" * 40}).code == 0
    assert run_action(lambda_deploy.run, {"function-name": app.function,
                                          "image-uri": app.uri(2)}).code == 0
    run = run_action(lambda_rollback.run, {"function-name": app.function,
                                           "github-token": bench.github_token},
                     env=github_env(bench))
    assert run.code == 0, run.stdout
    [(record, states)] = records_for(bench, app.function)
    assert record["task"] == "rollback"
    assert record["ref"] == "a" * 40
    assert record["payload"] == {"function": app.function, "alias": "live", "from": "3",
                                 "to": "2"}
    assert states == ["in_progress", "success"]


def test_bad_token_only_warns(bench: Bench, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    """A token GitHub refuses produces a warning and no record; it never raises."""
    monkeypatch.setattr(runner, "_masked", set())
    record = github_deployments.start(
        token="not-the-token", environ={"GITHUB_REPOSITORY": REPO, **github_env(bench)},
        environment="production", ref=SHA, task="deploy", description="x", payload={},
    )
    out = capsys.readouterr().out
    assert record is None
    assert "::warning title=GitHub deployment not recorded::" in out
    assert "deployments: write" in out
    assert "not-the-token" not in out.replace("::add-mask::not-the-token", "")


def test_run_url_is_built_from_runner_variables() -> None:
    """The log URL points at the run on the server the runner names."""
    environ = {"GITHUB_SERVER_URL": "https://ghe.example", "GITHUB_REPOSITORY": REPO,
               "GITHUB_RUN_ID": "9"}
    assert github_deployments.run_url(environ) == f"https://ghe.example/{REPO}/actions/runs/9"
    assert github_deployments.run_url({}) == ""


def statuses_of(bench: Bench, record: dict[str, Any]) -> list[dict[str, Any]]:
    return list(fake_state(bench)["statuses"].get(str(record["id"]), []))


def test_statuses_link_the_run_and_the_alias_not_the_deprecated_target_url(
    run_action: Any, bench: Bench
) -> None:
    """Each status carries log_url (the run) and environment_url (the alias in the Lambda
    console), never the deprecated target_url."""
    app = seed_app(bench)
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(1),
                                         "github-token": bench.github_token},
                     env={**github_env(bench), "AWS_REGION": "us-east-1"})
    assert run.code == 0, run.stdout
    [(record, _)] = records_for(bench, app.function)
    for status in statuses_of(bench, record):
        assert status["log_url"] == f"https://github.com/{REPO}/actions/runs/77"
        assert status["environment_url"] == (
            "https://us-east-1.console.aws.amazon.com/lambda/home?region=us-east-1"
            f"#/functions/{app.function}/aliases/live")
        assert status.get("target_url") in (None, "")


def test_rollback_marks_the_replaced_deployment_inactive(run_action: Any, bench: Bench) -> None:
    """After a rollback succeeds, the deploy it replaced gets an inactive status, so only the
    version AWS serves shows as active (GitHub's auto_inactive skips production)."""
    app = seed_app(bench)
    token = {"github-token": bench.github_token, "environment": f"prod-{app.function}"}
    assert run_action(lambda_deploy.run, {"function-name": app.function,
                                          "image-uri": app.uri(1), **token},
                      env=github_env(bench)).code == 0
    assert run_action(lambda_deploy.run, {"function-name": app.function,
                                          "image-uri": app.uri(2), **token},
                      env=github_env(bench)).code == 0
    run = run_action(lambda_rollback.run, {"function-name": app.function, **token},
                     env=github_env(bench))
    assert run.code == 0, run.stdout
    first, second, rollback = records_for(bench, app.function)
    assert [s for s in rollback[1]] == ["in_progress", "success"]
    assert second[1][-1] == "inactive" and first[1][-1] == "inactive"
    assert "replaced by deployment" in statuses_of(bench, second[0])[-1]["description"]
