"""lambda-rollback run as a real workflow step (after oidc-login) through act, against the bench."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from factory_bench.stack import Bench
from tests.helpers.lambda_app import App, seed_app

WORKFLOW = (Path(__file__).parents[1] / "workflows" / "lambda-rollback.yml").read_text()
DEPLOY = (Path(__file__).parents[1] / "workflows" / "lambda-deploy.yml").read_text()
REPO = "hoopstat-haus/demo-app"
_roles = itertools.count()

pytestmark = pytest.mark.act


@pytest.fixture
def deploy_role(bench: Bench) -> str:
    return bench.github_oidc_role(f"act-rollback-{next(_roles)}",
                                  subjects=[f"repo:{REPO}:ref:refs/heads/main"])


def result_line(log: str) -> dict[str, str]:
    line = next(part for part in log.splitlines() if "rollback-result " in part)
    return dict(f.split("=", 1) for f in line.split("rollback-result ", 1)[1].split())


def deployed_twice(run_workflow: Any, bench: Bench, role: str) -> App:
    """Versions 2 and 3 deployed through the lambda-deploy action itself."""
    app = seed_app(bench)
    for index in (1, 2):
        result = run_workflow(DEPLOY, variables={
            "ROLE_ARN": role, "FUNCTION": app.function, "IMAGE_URI": app.uri(index),
        })
        assert result.ok, result.log[-3000:]
    assert app.alias()["FunctionVersion"] == "3"
    return app


def test_rollback_to_previous_restores_prior_version(run_workflow: Any, bench: Bench,
                                                     deploy_role: str) -> None:
    """`target: previous` after two deploys puts the alias back on the version live before."""
    app = deployed_twice(run_workflow, bench, deploy_role)
    result = run_workflow(WORKFLOW, variables={"ROLE_ARN": deploy_role,
                                               "FUNCTION": app.function})
    assert result.ok, result.log[-4000:]
    assert result_line(result.log) == {"version": "2", "previous": "3", "failure-reason": ""}
    assert app.alias()["FunctionVersion"] == "2"


def test_rollback_to_missing_version_fails(run_workflow: Any, bench: Bench,
                                           deploy_role: str) -> None:
    """A version that does not exist fails naming `to`; the alias does not move."""
    app = deployed_twice(run_workflow, bench, deploy_role)
    result = run_workflow(WORKFLOW, variables={"ROLE_ARN": deploy_role, "FUNCTION": app.function,
                                               "TO": "99"})
    assert not result.ok
    assert "Invalid input target" in result.log
    assert result_line(result.log)["failure-reason"] == "invalid-input"
    assert app.alias()["FunctionVersion"] == "3"
