"""Tests for lambda-rollback against the bench's moto server."""

from __future__ import annotations

from typing import Any

import pytest

from action_scripts import lambda_deploy, lambda_rollback
from factory_bench.stack import Bench
from tests.helpers.lambda_app import SHA, App, put_image, queue_replies, seed_app


def deployed_app(bench: Bench, run_action: Any, *, deploys: int = 2,
                 shas: list[str] | None = None) -> App:
    """An app deployed ``deploys`` times through lambda-deploy (v1 seeded, then v2, v3, ...)."""
    app = seed_app(bench, images=deploys + 1)
    for index in range(1, deploys + 1):
        sha = (shas or [])[index - 1] if shas else SHA
        run = run_action(lambda_deploy.run, {"function-name": app.function,
                                             "image-uri": app.uri(index)},
                         env={"GITHUB_SHA": sha})
        assert run.code == 0, run.stdout
    return app


def test_rollback_to_previous_restores_the_prior_version(run_action: Any, bench: Bench) -> None:
    """`target: previous` moves the alias back to the version live before the current one."""
    app = deployed_app(bench, run_action)
    assert app.alias()["FunctionVersion"] == "3"
    run = run_action(lambda_rollback.run, {"function-name": app.function})
    assert run.code == 0, run.stdout
    assert run.outputs == {"version": "2", "previous-version": "3"}
    assert app.alias()["FunctionVersion"] == "2"
    assert "3 → 2" in run.summary


def test_previous_skips_a_version_that_never_went_live(run_action: Any, bench: Bench) -> None:
    """`previous` is the version live before, not the number below: a failed deploy's is skipped."""

    app = deployed_app(bench, run_action, deploys=1)
    extra = seed_digest(app, "v-extra")
    queue_replies(bench, app.function, [{"payload": "{}", "function_error": "Unhandled"}],
                  qualifier="3")
    failed = run_action(lambda_deploy.run, {
        "function-name": app.function, "smoke-payload": "{}",
        "image-uri": f"{app.registry}/{app.repository}@sha256:{extra}",
    })
    assert failed.code == 1 and failed.outputs["version"] == "3"
    # live is v2, which replaced v1; v3 never got traffic.
    run = run_action(lambda_rollback.run, {"function-name": app.function, "target": "previous"})
    assert run.code == 0, run.stdout
    assert app.alias()["FunctionVersion"] == "1"


def seed_digest(app: App, tag: str) -> str:

    return put_image(app.ecr, app.repository, tag)


def test_rollback_twice_toggles_back(run_action: Any, bench: Bench) -> None:
    """A rollback records what it replaced, so `previous` again undoes the rollback."""
    app = deployed_app(bench, run_action)
    assert run_action(lambda_rollback.run, {"function-name": app.function}).code == 0
    run = run_action(lambda_rollback.run, {"function-name": app.function})
    assert run.code == 0, run.stdout
    assert app.alias()["FunctionVersion"] == "3"


def test_rollback_to_a_version_number(run_action: Any, bench: Bench) -> None:
    """`target: 1` moves the alias to version 1."""
    app = deployed_app(bench, run_action)
    run = run_action(lambda_rollback.run, {"function-name": app.function, "target": "1"})
    assert run.code == 0, run.stdout
    assert app.alias()["FunctionVersion"] == "1"


def test_rollback_to_a_git_sha(run_action: Any, bench: Bench) -> None:
    """A git SHA (or its prefix) finds the version whose description records that commit."""
    shas = ["a" * 40, "b" * 40, "c" * 40]
    app = deployed_app(bench, run_action, deploys=3, shas=shas)
    run = run_action(lambda_rollback.run, {"function-name": app.function, "target": "aaaaaaa"})
    assert run.code == 0, run.stdout
    assert app.alias()["FunctionVersion"] == "2"  # v2 was deployed from commit aaaa…


def test_dry_run_changes_nothing(run_action: Any, bench: Bench) -> None:
    """dry-run reports the move it would make and leaves the alias as it was."""
    app = deployed_app(bench, run_action)
    before = app.alias()
    run = run_action(lambda_rollback.run, {"function-name": app.function, "dry-run": "true"})
    assert run.code == 0, run.stdout
    assert "would move live from 3 to 2" in run.stdout
    assert run.outputs["version"] == "2"
    assert app.alias()["RevisionId"] == before["RevisionId"]


def test_refuses_a_target_whose_image_is_gone(run_action: Any, bench: Bench) -> None:
    """A version whose image was deleted from ECR is refused; the alias stays put."""
    app = deployed_app(bench, run_action)
    app.ecr.batch_delete_image(repositoryName=app.repository,
                               imageIds=[{"imageDigest": f"sha256:{app.digests[1]}"}])
    run = run_action(lambda_rollback.run, {"function-name": app.function, "target": "2"})
    assert run.code == 1 and run.outputs["failure-reason"] == "image-not-found", run.stdout
    assert "no longer exists" in run.stdout
    assert app.alias()["FunctionVersion"] == "3"


@pytest.mark.parametrize(("to", "says"), [
    ("42", "version 42"),
    ("deadbeef", "commit deadbeef"),
])
def test_unknown_target_fails_naming_target(run_action: Any, bench: Bench, to: str,
                                            says: str) -> None:
    """A version or commit that does not exist fails naming `target`; nothing moves."""
    app = deployed_app(bench, run_action, deploys=1)
    before = app.alias()
    run = run_action(lambda_rollback.run, {"function-name": app.function, "target": to})
    assert run.code == 1 and run.outputs["failure-reason"] == "invalid-input"
    assert "::error title=Invalid input target::" in run.stdout and says in run.stdout
    assert app.alias()["RevisionId"] == before["RevisionId"]


@pytest.mark.parametrize(("name", "override"), [
    ("target", {"target": "latest"}),
    ("target", {"target": "v1.2"}),
    ("function-name", {"function-name": "bad name"}),
    ("alias", {"alias": "7"}),
    ("dry-run", {"dry-run": "maybe"}),
])
def test_bad_input_is_refused_before_aws(run_action: Any, name: str,
                                          override: dict[str, str]) -> None:
    """Malformed inputs fail naming the input, before any AWS call."""
    run = run_action(lambda_rollback.run, {"function-name": "fn", **override})
    assert run.code == 1 and run.outputs["failure-reason"] == "invalid-input"
    assert f"::error title=Invalid input {name}::" in run.stdout


def test_missing_alias_fails_clearly(run_action: Any, bench: Bench) -> None:
    """Rolling back an alias that does not exist fails as resource-not-found."""
    app = seed_app(bench, live=False)
    run = run_action(lambda_rollback.run, {"function-name": app.function})
    assert run.code == 1 and run.outputs["failure-reason"] == "resource-not-found"
