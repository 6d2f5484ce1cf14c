"""`factory status` against the bench: after a deploy, during a canary, after a rollback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from action_scripts import aws, lambda_deploy, lambda_rollback
from factory_bench.stack import Bench
from factory_cli import status
from tests.helpers.lambda_app import SHA, FakeClock, base_env, seed_app

OTHER_SHA = "fedcba9876543210fedcba9876543210fedcba98"


def report(bench: Bench, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
           *args: str) -> tuple[int, str, str]:
    for key, value in bench.admin_env().items():
        monkeypatch.setenv(key, value)
    code = status.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_after_deploy_shows_live_version_image_sha_and_previous(
    run_action: Any, bench: Bench, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """After a deploy, status names the live version, its digest, commit, run and the version
    that was live before, and says every retained image is still in ECR."""
    app = seed_app(bench)
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(1)})
    assert run.code == 0, run.stdout
    capsys.readouterr()
    code, out, _ = report(bench, monkeypatch, capsys, "--function", app.function, "--json")
    assert code == 0
    (state,) = json.loads(out)
    (live,) = state["aliases"]
    assert (live["name"], live["version"], live["previous"]) == ("live", "2", "1")
    assert live["sha"] == SHA and live["digest"] == app.digests[1]
    assert live["run"].endswith("/actions/runs/77") and live["canary_weight"] == 0.0
    versions = {v["version"]: v for v in state["versions"]}
    assert versions["2"]["aliases"] == ["live"] and versions["1"]["aliases"] == []
    assert all(v["image_in_ecr"] is True for v in versions.values())
    code, text, _ = report(bench, monkeypatch, capsys, "--function", app.function)
    assert code == 0
    assert f"alias live -> version 2; sha {SHA[:12]}, image sha256:{app.digests[1][:12]}" in text
    assert "previous version 1" in text


def test_during_a_canary_shows_the_weight_on_the_new_version(
    bench: Bench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """While a canary bakes, status shows the alias still on the old version with the canary's
    weight on the new one."""
    app = seed_app(bench)
    seen: list[dict[str, Any]] = []

    def look(sleeps: int) -> None:
        if not seen:
            lam, ecr = aws.client("lambda"), aws.client("ecr")
            seen.append(status.function_state(lam, ecr, app.function, bench.region).aliases[0]
                        .__dict__)

    run_env = {**base_env(bench, tmp_path), "INPUT_FUNCTION_NAME": app.function,
               "INPUT_IMAGE_URI": app.uri(1), "INPUT_STRATEGY": "canary-10-5"}
    for key, value in run_env.items():
        monkeypatch.setenv(key, value)
    lambda_deploy.run(run_env, clock=FakeClock(on_sleep=look))
    capsys.readouterr()
    assert seen, "the canary never slept"
    assert seen[0]["version"] == "1"
    assert (seen[0]["canary_version"], seen[0]["canary_weight"]) == ("2", pytest.approx(0.1))
    code, text, _ = report(bench, monkeypatch, capsys, "--function", app.function)
    assert code == 0 and "alias live -> version 2;" in text and "canary" not in text


def test_after_rollback_and_a_deleted_image(
    run_action: Any, bench: Bench, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """After a rollback the alias is back on the old version, and a version whose image was
    deleted from ECR is flagged as no rollback target."""
    app = seed_app(bench, images=3)
    for index, sha in ((1, SHA), (2, OTHER_SHA)):
        run = run_action(lambda_deploy.run, {"function-name": app.function,
                                             "image-uri": app.uri(index)},
                         env={"GITHUB_SHA": sha})
        assert run.code == 0, run.stdout
    run = run_action(lambda_rollback.run, {"function-name": app.function})
    assert run.code == 0, run.stdout
    app.ecr.batch_delete_image(repositoryName=app.repository,
                               imageIds=[{"imageDigest": f"sha256:{app.digests[0]}"}])
    capsys.readouterr()
    code, out, _ = report(bench, monkeypatch, capsys, "--function", app.function, "--json")
    assert code == 0
    (state,) = json.loads(out)
    (live,) = state["aliases"]
    assert (live["version"], live["sha"], live["previous"]) == ("2", SHA, "3")
    versions = {v["version"]: v for v in state["versions"]}
    assert versions["3"]["sha"] == OTHER_SHA and versions["3"]["image_in_ecr"] is True
    assert versions["1"]["image_in_ecr"] is False
    _, text, _ = report(bench, monkeypatch, capsys, "--function", app.function)
    assert "versions 1 have no image in ECR: not rollback targets" in text


def test_unknown_function_and_bad_flags_are_named(
    bench: Bench, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """A missing function is a one-line error; a malformed --function names the flag."""
    code, _, err = report(bench, monkeypatch, capsys, "--function", "no-such-function")
    assert code == 1 and "function `no-such-function` was not found" in err
    assert "::error" not in err
    with pytest.raises(SystemExit) as caught:
        report(bench, monkeypatch, capsys, "--function", "bad name!")
    assert caught.value.code == 2
    assert "--function 'bad name!'" in capsys.readouterr().err
