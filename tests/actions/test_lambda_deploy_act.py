"""lambda-deploy run as a real workflow step (after oidc-login) through act, against the bench.

Images are seeded into moto's ECR directly; chaining ecr-push in front comes with the end-to-end
pipeline test.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from factory_bench.stack import Bench
from tests.helpers.lambda_app import make_alarm, queue_replies, seed_app

WORKFLOW = (Path(__file__).parents[1] / "workflows" / "lambda-deploy.yml").read_text()
REPO = "hoopstat-haus/demo-app"
_roles = itertools.count()

pytestmark = pytest.mark.act

FAST_MINUTES = {"HOOPSTAT_FACTORY_MINUTE_SECONDS": "0.2"}


@pytest.fixture
def deploy_role(bench: Bench) -> str:
    return bench.github_oidc_role(f"act-lambda-{next(_roles)}",
                                  subjects=[f"repo:{REPO}:ref:refs/heads/main"])


def result_line(log: str, prefix: str) -> dict[str, str]:
    line = next(part for part in log.splitlines() if f"{prefix}-result " in part)
    fields = line.split(f"{prefix}-result ", 1)[1].split()
    return dict(field.split("=", 1) for field in fields)


def test_deploy_then_same_digest_is_a_noop(run_workflow: Any, bench: Bench,
                                           deploy_role: str) -> None:
    """oidc-login → lambda-deploy publishes version 2 and moves the alias; again is a no-op."""
    app = seed_app(bench)
    result = run_workflow(WORKFLOW, env=FAST_MINUTES, variables={
        "ROLE_ARN": deploy_role, "FUNCTION": app.function, "IMAGE_URI": app.uri(1),
        "SMOKE_PAYLOAD": '{"ping": "pong"}', "SMOKE_EXPECT": "pong", "DEPLOY_TWICE": "true",
    })
    assert result.ok, result.log[-4000:]
    first = result_line(result.log, "deploy")
    assert first["version"] == "2" and first["previous"] == "1"
    assert first["rolled-back"] == "false"
    assert first["arn"].endswith(f":function:{app.function}")
    again = result_line(result.log, "again")
    assert again == {"version": "2", "previous": "2"}
    assert "Already deployed" in result.log
    assert app.alias()["FunctionVersion"] == "2"
    assert app.versions() == ["1", "2"]


def test_smoke_failure_leaves_the_alias(run_workflow: Any, bench: Bench,
                                        deploy_role: str) -> None:
    """A FunctionError from the smoke invoke fails the job; the alias stays on version 1."""
    app = seed_app(bench)
    queue_replies(bench, app.function,
                  [{"payload": '{"errorMessage": "KeyError"}', "function_error": "Unhandled"}],
                  qualifier="2")
    result = run_workflow(WORKFLOW, env=FAST_MINUTES, variables={
        "ROLE_ARN": deploy_role, "FUNCTION": app.function, "IMAGE_URI": app.uri(1),
        "SMOKE_PAYLOAD": "{}",
    })
    assert not result.ok
    outcome = result_line(result.log, "deploy")
    assert outcome["failure-reason"] == "smoke-test-failed"
    assert outcome["rolled-back"] == "false"
    assert app.alias()["FunctionVersion"] == "1"


def test_alarm_during_canary_rolls_back(run_workflow: Any, bench: Bench,
                                        deploy_role: str) -> None:
    """An alarm in ALARM while the canary runs moves the alias back and fails the job."""
    app = seed_app(bench)
    alarm = make_alarm(app, state="ALARM")
    result = run_workflow(WORKFLOW, env=FAST_MINUTES, variables={
        "ROLE_ARN": deploy_role, "FUNCTION": app.function, "IMAGE_URI": app.uri(1),
        "STRATEGY": "canary-10-1", "ALARMS": alarm,
    })
    assert not result.ok
    outcome = result_line(result.log, "deploy")
    assert outcome["failure-reason"] == "alarm-triggered"
    assert outcome["rolled-back"] == "true"
    assert app.alias()["FunctionVersion"] == "1"


def test_bad_strategy_fails_naming_the_input(run_workflow: Any, bench: Bench,
                                             deploy_role: str) -> None:
    """An unknown strategy fails the step with an error naming `strategy`; nothing changes."""
    app = seed_app(bench)
    result = run_workflow(WORKFLOW, variables={
        "ROLE_ARN": deploy_role, "FUNCTION": app.function, "IMAGE_URI": app.uri(1),
        "STRATEGY": "canary-150-5",
    })
    assert not result.ok
    assert "Invalid input strategy" in result.log
    assert result_line(result.log, "deploy")["failure-reason"] == "invalid-input"
    assert app.versions() == ["1"]
