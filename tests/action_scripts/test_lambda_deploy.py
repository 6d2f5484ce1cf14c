"""Tests for lambda-deploy against the bench's moto server (Lambda, ECR, CloudWatch).

Images are seeded straight into moto's ECR (``put_image``); functions are ``PackageType: Image``.
The helpers here (``seed_app``, ``run_action``) are shared with the rollback and fault tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from action_scripts import lambda_api, lambda_deploy
from action_scripts.errors import FactoryError
from factory_bench.stack import Bench
from tests.helpers import runner_commands
from tests.helpers.lambda_app import (
    SHA,
    App,
    FakeClock,
    make_alarm,
    queue_replies,
    seed_app,
    unique,
)

# --- happy paths ---------------------------------------------------------------------------


def test_deploy_publishes_version_and_moves_alias(run_action: Any, bench: Bench) -> None:
    """A deploy publishes a version running exactly the digest, then points the alias at it."""
    app = seed_app(bench)
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(1),
                                         "smoke-payload": '{"ping": 1}', "smoke-expect": "ping"})
    assert run.code == 0, run.stdout
    assert run.outputs["version"] == "2"
    assert run.outputs["previous-version"] == "1"
    assert run.outputs["rolled-back"] == "false"
    assert run.outputs["function-arn"].endswith(f":function:{app.function}")
    alias = app.alias()
    assert alias["FunctionVersion"] == "2"
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    assert lambda_api.version_digest(app.lam, app.function, "2") == app.digests[1]
    described = app.lam.get_function_configuration(FunctionName=app.function, Qualifier="2")
    fields = lambda_api.parse_description(described["Description"])
    assert fields["sha"] == SHA
    assert fields["digest"] == f"sha256:{app.digests[1]}"
    assert fields["run"].endswith("/hoopstat-haus/demo-app/actions/runs/77")
    assert "1 → 2" in run.summary and app.digests[1] in run.summary


def test_first_deploy_creates_the_alias(run_action: Any, bench: Bench) -> None:
    """Without the alias, the deploy creates it on the new version; previous-version is empty."""
    app = seed_app(bench, live=False)
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(2),
                                         "alias": "prod", "strategy": "canary-10-1"})
    assert run.code == 0, run.stdout
    assert run.outputs["previous-version"] == ""
    assert app.alias("prod")["FunctionVersion"] == run.outputs["version"] == "1"
    assert lambda_api.version_digest(app.lam, app.function, "1") == app.digests[2]


def test_same_digest_is_a_noop(run_action: Any, bench: Bench) -> None:
    """Deploying the digest the alias already serves publishes nothing and says so."""
    app = seed_app(bench)
    before = app.alias()
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(0)})
    assert run.code == 0, run.stdout
    assert "Already deployed" in run.stdout
    assert run.outputs["version"] == run.outputs["previous-version"] == "1"
    assert app.versions() == ["1"]
    assert app.alias()["RevisionId"] == before["RevisionId"]


def test_tag_is_resolved_to_its_digest(run_action: Any, bench: Bench) -> None:
    """A tag URI is resolved through ECR and Lambda is given the digest, not the tag."""
    app = seed_app(bench)
    run = run_action(lambda_deploy.run, {
        "function-name": app.function, "image-uri": f"{app.registry}/{app.repository}:v2",
    })
    assert run.code == 0, run.stdout
    code = app.lam.get_function(FunctionName=app.function, Qualifier=run.outputs["version"])
    assert code["Code"]["ImageUri"] == app.uri(2)


def test_smoke_payload_from_a_file(run_action: Any, bench: Bench, tmp_path: Path) -> None:
    """``smoke-payload`` may name a JSON file in the workspace; its content is what is sent."""
    app = seed_app(bench)
    (tmp_path / "smoke.json").write_text('{"route": "/health"}')
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(1),
                                         "smoke-payload": "smoke.json",
                                         "smoke-expect": "/health"})
    assert run.code == 0, run.stdout
    assert '{"route": "/health"}' in run.stdout


def test_linear_shifts_in_steps(bench: Bench) -> None:
    """linear-25-1 routes 25%, 50%, 75% to the new version in turn, then moves the alias."""
    app = seed_app(bench)
    seen: list[dict[str, float]] = []

    def observe(_: int) -> None:
        routing = app.alias().get("RoutingConfig") or {}
        weights = routing.get("AdditionalVersionWeights") or {}
        if not seen or seen[-1] != weights:
            seen.append(weights)

    inputs = _inputs(app, 1, strategy="linear-25-1", alarms=(make_alarm(app),))
    outcome = _deploy(app, inputs, clock=FakeClock(on_sleep=observe))
    assert seen == [{"2": 0.25}, {"2": 0.5}, {"2": 0.75}]
    assert outcome.version == "2"
    assert app.alias()["FunctionVersion"] == "2"
    assert not (app.alias().get("RoutingConfig") or {}).get("AdditionalVersionWeights")


def test_retention_prunes_old_versions_but_never_aliased_ones(
    run_action: Any, bench: Bench
) -> None:
    """keep-versions prunes the oldest versions, skipping any an alias routes traffic to."""
    app = seed_app(bench, images=5)
    app.lam.create_alias(FunctionName=app.function, Name="pinned", FunctionVersion="1")
    for index in range(1, 5):
        run = run_action(lambda_deploy.run, {"function-name": app.function,
                                             "image-uri": app.uri(index), "keep-versions": "2"})
        assert run.code == 0, run.stdout
    assert app.versions() == ["1", "4", "5"]  # 1 is pinned; 4 was live before 5
    assert app.alias()["FunctionVersion"] == "5"
    assert "Pruned versions" in run.stdout


# --- failures that must leave the alias alone or put it back --------------------------------


def test_smoke_function_error_leaves_alias_untouched(run_action: Any, bench: Bench) -> None:
    """A FunctionError from the smoke invoke fails the deploy before the alias moves."""
    app = seed_app(bench)
    queue_replies(bench, app.function,
                  [{"payload": '{"errorMessage": "boom"}', "function_error": "Unhandled"}],
                  qualifier="2")
    before = app.alias()
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(1),
                                         "smoke-payload": "{}"})
    assert run.code == 1
    assert run.reason == "smoke-test-failed"
    assert "::error title=Smoke test failed::" in run.stdout and "boom" in run.stdout
    after = app.alias()
    assert after["FunctionVersion"] == "1" and after["RevisionId"] == before["RevisionId"]
    assert run.outputs["rolled-back"] == "false"


def test_smoke_unexpected_reply_leaves_alias_untouched(run_action: Any, bench: Bench) -> None:
    """A reply without ``smoke-expect`` in it fails the deploy with the alias unchanged."""
    app = seed_app(bench)
    queue_replies(bench, app.function, [{"payload": '{"status": "degraded"}'}], qualifier="2")
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(1),
                                         "smoke-payload": "{}", "smoke-expect": '"ok"'})
    assert run.code == 1 and run.reason == "smoke-test-failed", run.stdout
    assert "degraded" in run.stdout
    assert app.alias()["FunctionVersion"] == "1"


def test_alarm_in_alarm_during_canary_rolls_back(run_action: Any, bench: Bench) -> None:
    """An alarm in ALARM during the canary step moves the alias back and fails the step."""
    app = seed_app(bench)
    alarm = make_alarm(app, state="ALARM")
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(1),
                                         "strategy": "canary-10-1", "alarm-names": alarm})
    assert run.code == 1
    assert run.reason == "alarm-triggered"
    assert run.outputs["rolled-back"] == "true"
    assert run.outputs["version"] == "2" and run.outputs["previous-version"] == "1"
    assert alarm in run.stdout
    alias = app.alias()
    assert alias["FunctionVersion"] == "1"
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")


def test_alarm_firing_mid_bake_rolls_back(bench: Bench) -> None:
    """An alarm that goes off after the canary started is seen by the watch and rolls back."""
    app = seed_app(bench)
    alarm = make_alarm(app)
    weights_when_fired: list[Any] = []

    def fire(sleeps: int) -> None:
        if sleeps == 2:
            weights_when_fired.append(app.alias()["RoutingConfig"]["AdditionalVersionWeights"])
            app.cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="t")

    inputs = _inputs(app, 1, strategy="canary-20-5", alarms=(alarm,))
    outcome = lambda_deploy.Outcome()
    with pytest.raises(FactoryError) as caught:
        _deploy(app, inputs, clock=FakeClock(on_sleep=fire), outcome=outcome)
    assert caught.value.reason == "alarm-triggered"
    assert weights_when_fired == [{"2": 0.2}]
    assert outcome.rolled_back
    assert app.alias()["FunctionVersion"] == "1"


def test_timeout_during_bake_rolls_back(bench: Bench) -> None:
    """Passing timeout-seconds while traffic is split moves the alias back to the old version."""
    app = seed_app(bench)
    inputs = _inputs(app, 1, strategy="canary-10-5", alarms=(make_alarm(app),), timeout=400)
    outcome = lambda_deploy.Outcome()
    with pytest.raises(FactoryError) as caught:
        _deploy(app, inputs, clock=FakeClock(extra=500.0), outcome=outcome)
    assert caught.value.reason == "timeout"
    assert outcome.rolled_back
    assert app.alias()["FunctionVersion"] == "1"


class FailingUpdateLambda:
    """A FAKE at boto3 level (moto cannot fail an update): after UpdateFunctionCode the function
    reports ``LastUpdateStatus`` ``Failed`` — or stays ``InProgress`` when ``stuck``."""

    def __init__(self, real: Any, *, stuck: bool = False) -> None:
        self.real = real
        self.stuck = stuck
        self.updated = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def update_function_code(self, **kwargs: Any) -> Any:
        self.updated = True
        return self.real.update_function_code(**kwargs)

    def get_function_configuration(self, **kwargs: Any) -> Any:
        config = dict(self.real.get_function_configuration(**kwargs))
        if self.updated:
            config["LastUpdateStatus"] = "InProgress" if self.stuck else "Failed"
            config["LastUpdateStatusReason"] = "ImageLayerFailure: could not pull"
            config["LastUpdateStatusReasonCode"] = "ImageAccessDenied"
        return config


def test_update_failure_leaves_alias_untouched(bench: Bench) -> None:
    """A failed function update stops the deploy before anything is published or shifted."""
    app = seed_app(bench)
    inputs = _inputs(app, 1)
    with pytest.raises(FactoryError) as caught:
        _deploy(app, inputs, lam=FailingUpdateLambda(app.lam))
    assert caught.value.reason == "update-failed"
    assert "ImageAccessDenied" in caught.value.message
    assert app.versions() == ["1"]
    assert app.alias()["FunctionVersion"] == "1"


def test_update_that_never_finishes_times_out(bench: Bench) -> None:
    """An update stuck InProgress hits timeout-seconds (polling, not sleeping 5 s at a time)."""
    app = seed_app(bench)
    clock = FakeClock()
    with pytest.raises(FactoryError) as caught:
        _deploy(app, _inputs(app, 1, timeout=60), lam=FailingUpdateLambda(app.lam, stuck=True),
                clock=clock)
    assert caught.value.reason == "timeout"
    assert clock.sleeps > 12  # 0.25 s first, growing: many polls fit in 60 s
    assert app.alias()["FunctionVersion"] == "1"


class BarrierLambda:
    """Real moto client; both racers meet at ``method`` so they act on the same RevisionId."""

    def __init__(self, real: Any, barrier: threading.Barrier, method: str) -> None:
        self.real, self.barrier, self.method = real, barrier, method

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.real, name)
        if name != self.method:
            return attribute

        def call(**kwargs: Any) -> Any:
            self.barrier.wait(timeout=30)
            return attribute(**kwargs)

        return call


def test_two_deploys_at_once_exactly_one_wins(bench: Bench) -> None:
    """Two deploys racing on one function: one wins, the other fails as a concurrent deploy."""
    app = seed_app(bench)
    barrier = threading.Barrier(2)
    results: dict[int, Any] = {}

    def racer(index: int) -> None:
        lam = BarrierLambda(bench.admin_client("lambda"), barrier, "update_function_code")
        try:
            results[index] = _deploy(app, _inputs(app, index), lam=lam)
        except FactoryError as exc:
            results[index] = exc

    _race(racer)
    failures = [r for r in results.values() if isinstance(r, FactoryError)]
    wins = [i for i, r in results.items() if isinstance(r, lambda_deploy.Outcome)]
    assert len(wins) == 1 and len(failures) == 1, results
    assert failures[0].reason == "concurrent-deployment"
    assert "changed by another deployment" in failures[0].message
    live = app.alias()["FunctionVersion"]
    assert lambda_api.version_digest(app.lam, app.function, live) == app.digests[wins[0]]


def test_two_alias_moves_at_once_exactly_one_wins(bench: Bench) -> None:
    """Two shifts from the same alias RevisionId: one moves the alias, the other fails."""
    app = seed_app(bench)
    versions = {}
    for index in (1, 2):
        config = app.lam.get_function_configuration(FunctionName=app.function)
        app.lam.update_function_code(FunctionName=app.function, ImageUri=app.uri(index),
                                     RevisionId=config["RevisionId"])
        versions[index] = app.lam.publish_version(FunctionName=app.function)["Version"]
    alias_before = app.alias()
    barrier = threading.Barrier(2)
    results: dict[int, Any] = {}

    def racer(index: int) -> None:
        lam = BarrierLambda(bench.admin_client("lambda"), barrier, "update_alias")
        clients = lambda_deploy.Clients(lam, app.ecr, app.cloudwatch)
        outcome = lambda_deploy.Outcome()
        try:
            lambda_deploy.shift(_inputs(app, index), clients, FakeClock(), alias=alias_before,
                                new=versions[index], outcome=outcome, deadline=1e18,
                                description="race")
            results[index] = versions[index]
        except FactoryError as exc:
            results[index] = exc

    _race(racer)
    failures = [r for r in results.values() if isinstance(r, FactoryError)]
    wins = [r for r in results.values() if isinstance(r, str)]
    assert len(wins) == 1 and len(failures) == 1, results
    assert failures[0].reason == "concurrent-deployment"
    assert app.alias()["FunctionVersion"] == wins[0]


def _race(racer: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=racer, args=(i,)) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


# --- bad input: error names the input, nothing changes ---------------------------------------

BAD_INPUTS = [
    ("function-name", {"function-name": "my function!"}),
    ("function-name", {"function-name": "arn:aws:lambda:us-east-1:12:function:x"}),
    ("function-name", {"function-name": "arn:aws:lambda:eu-west-1:123456789012:function:x"}),
    ("image-uri", {"image-uri": "nginx:latest"}),
    ("image-uri", {"image-uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:abc"}),
    ("strategy", {"strategy": "blue-green"}),
    ("strategy", {"strategy": "canary-0-5"}),
    ("strategy", {"strategy": "linear-100-1"}),
    ("strategy", {"strategy": "canary-10-0"}),
    ("smoke-payload", {"smoke-payload": '{"a": '}),
    ("smoke-payload", {"smoke-payload": "missing-file.json"}),
    ("alias", {"alias": "123"}),
    ("timeout-seconds", {"timeout-seconds": "5"}),
    ("keep-versions", {"keep-versions": "-1"}),
    ("smoke-expect", {"smoke-expect": "ok"}),
]


@pytest.mark.parametrize(("name", "override"), BAD_INPUTS)
def test_bad_input_fails_naming_it_and_changes_nothing(
    run_action: Any, bench: Bench, name: str, override: dict[str, str]
) -> None:
    """Each malformed input fails with an ::error naming it, exit 1, and AWS untouched."""
    app = _shared_app(bench)
    before = app.alias()
    inputs = {"function-name": app.function, "image-uri": app.uri(1), **override}
    run = run_action(lambda_deploy.run, inputs)
    assert run.code == 1
    assert run.reason == "invalid-input"
    assert f"::error title=Invalid input {name}::" in run.stdout
    assert app.versions() == ["1"]
    assert app.alias()["RevisionId"] == before["RevisionId"]


def test_bake_longer_than_timeout_is_refused(run_action: Any, bench: Bench) -> None:
    """A strategy that cannot finish within timeout-seconds is refused before any change."""
    app = _shared_app(bench)
    run = run_action(lambda_deploy.run, {
        "function-name": app.function, "image-uri": app.uri(1), "strategy": "linear-10-2",
        "timeout-seconds": "60",
    }, env={"HOOPSTAT_FACTORY_MINUTE_SECONDS": "60"})
    assert run.code == 1 and run.reason == "invalid-input"
    assert "timeout-seconds" in run.stdout
    assert app.versions() == ["1"]


def test_unknown_tag_fails_without_change(run_action: Any, bench: Bench) -> None:
    """A tag that is not in ECR is not guessed at: the deploy fails before touching Lambda."""
    app = _shared_app(bench)
    run = run_action(lambda_deploy.run, {"function-name": app.function,
                                         "image-uri": f"{app.registry}/{app.repository}:v9"})
    assert run.code == 1 and run.reason == "image-not-found", run.stdout
    assert app.versions() == ["1"]


def test_missing_alarm_is_refused(run_action: Any, bench: Bench) -> None:
    """An alarm name that does not exist would watch nothing, so it is refused up front."""
    app = _shared_app(bench)
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(1),
                                         "strategy": "canary-10-1", "alarm-names": "no-such"})
    assert run.code == 1 and run.reason == "invalid-input"
    assert "no-such" in run.stdout
    assert app.versions() == ["1"]


def test_zip_function_is_refused(run_action: Any, bench: Bench) -> None:
    """A .zip function is not an image function: refused before any change."""
    app = _shared_app(bench)
    name = unique("zip")
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(e, c):\n    return e\n")
    app.lam.create_function(FunctionName=name, Role=app.role, Runtime="python3.12",
                            Handler="handler.handler", Code={"ZipFile": buffer.getvalue()})
    run = run_action(lambda_deploy.run, {"function-name": name, "image-uri": app.uri(1)})
    assert run.code == 1 and run.reason == "invalid-input"
    assert "Not an image function" in run.stdout


def test_missing_function_fails_clearly(run_action: Any, bench: Bench) -> None:
    """A function that does not exist fails as resource-not-found, naming it."""
    app = _shared_app(bench)
    run = run_action(lambda_deploy.run, {"function-name": "no-such-fn", "image-uri": app.uri(1)})
    assert run.code == 1 and run.reason == "resource-not-found"
    assert "no-such-fn" in run.stdout


def test_github_token_is_masked_first(run_action: Any, bench: Bench) -> None:
    """The github-token input is masked before anything else is printed, even on bad input."""
    run = run_action(lambda_deploy.run, {"function-name": "bad name!", "image-uri": "x",
                                         "github-token": "ghs_secretvalue123"})
    assert run.code == 1
    first = run.stdout.splitlines()[0]
    assert first == "::add-mask::ghs_secretvalue123"


# --- helpers for direct (in-process) deploys --------------------------------------------------

_shared: dict[str, App] = {}


def _shared_app(bench: Bench) -> App:
    """One app for tests that must leave it unchanged (saves seeding per test)."""
    if "app" not in _shared:
        _shared["app"] = seed_app(bench)
    return _shared["app"]


def _image(app: App, index: int) -> Any:
    from action_scripts import lambda_image

    ref = lambda_image.parse(app.uri(index))
    assert ref is not None
    return ref


def _inputs(app: App, index: int, *, strategy: str = "all-at-once",
            alarms: tuple[str, ...] = (), timeout: int = 900) -> lambda_deploy.DeployInputs:
    from action_scripts import lambda_strategy

    parsed = lambda_strategy.parse(strategy)
    assert not isinstance(parsed, str)
    return lambda_deploy.DeployInputs(
        function=app.function, image=_image(app, index), alias="live", strategy=parsed,
        alarms=alarms, smoke_payload=b"{}", smoke_expect="", timeout=timeout, keep_versions=0,
        github_token="", environment="production",
    )


def _deploy(app: App, inputs: lambda_deploy.DeployInputs, *, lam: Any = None,
            clock: lambda_api.Clock | None = None,
            outcome: lambda_deploy.Outcome | None = None) -> lambda_deploy.Outcome:
    outcome = outcome or lambda_deploy.Outcome()
    clients = lambda_deploy.Clients(lam or app.lam, app.ecr, app.cloudwatch)
    lambda_deploy.deploy(inputs, clients, region="us-east-1", environ={},
                         clock=clock or FakeClock(), outcome=outcome)
    return outcome


def test_workflow_commands_in_a_failed_smoke_reply_are_never_obeyed(run_action: Any,
                                                                     bench: Bench) -> None:
    """A smoke reply is the image's text (a handler's return, or the bench's pip error for an
    app's requirements): by the runner's own parsing rules, the only command its workflow-command
    lines yield is the step's ::error, which carries them escaped on one line."""
    app = seed_app(bench)
    hostile = ('{"errorMessage": "pip failed"}\n::set-output name=version::PWNED\n'
               '  ::add-mask::PWNED-indented\nplan ##[set-output name=x]PWNED-v1')
    queue_replies(bench, app.function, [{"payload": hostile, "function_error": "Unhandled"}],
                  qualifier="2")
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(1),
                                         "smoke-payload": "{}"})
    assert run.code == 1 and run.reason == "smoke-test-failed", run.stdout
    assert "PWNED-indented" in run.stdout  # still readable in the log
    acted = runner_commands.escaped(run.stdout, "PWNED")
    assert [c.name for c in acted] == ["error"], acted
    # The whole reply is the annotation's message (its line breaks were escaped in one line).
    assert "pip failed\"}\n::set-output name=version::PWNED" in acted[0].data
    assert run.outputs["version"] != "PWNED"
    assert app.alias()["FunctionVersion"] == "1"
