"""lambda-deploy racing other deploys, and losing replies, against the bench's Lambda.

The bench models what AWS does here (``factory_bench.moto_ext_lambda_deploy``): RevisionId
enforcement, an InProgress window after UpdateFunctionCode during which further updates and
publishes are refused, and PublishVersion's CodeSha256 precondition. Deploys run on the real
clock, because the races are about real time.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import botocore.exceptions
import pytest

from action_scripts import aws, lambda_api, lambda_deploy, lambda_rollback, lambda_strategy
from action_scripts.errors import FactoryError
from factory_bench.fault_proxy import FaultProxy
from factory_bench.stack import Bench
from tests.helpers.lambda_app import App, seed_app, set_update_window

WINDOW = 0.6  # seconds an update stays InProgress (AWS takes seconds to ready an image)
RACE_WINDOW = 1.5  # long enough that starts up to 1.1 s apart overlap
SHAS = {1: "a" * 40, 2: "b" * 40}


def _inputs(app: App, index: int) -> lambda_deploy.DeployInputs:
    from action_scripts import lambda_image

    image = lambda_image.parse(app.uri(index))
    strategy = lambda_strategy.parse("all-at-once")
    assert image is not None and not isinstance(strategy, str)
    return lambda_deploy.DeployInputs(
        function=app.function, image=image, alias="live", strategy=strategy, alarms=(),
        smoke_payload=b"{}", smoke_expect="", timeout=120, keep_versions=0, github_token="",
        environment="production",
    )


def _deploy(app: App, index: int, lam: Any) -> lambda_deploy.Outcome:
    outcome = lambda_deploy.Outcome()
    clients = lambda_deploy.Clients(lam, app.ecr, app.cloudwatch)
    lambda_deploy.deploy(_inputs(app, index), clients, region="us-east-1",
                         environ={"GITHUB_SHA": SHAS[index]},
                         clock=lambda_api.Clock(minute_seconds=0.01), outcome=outcome)
    return outcome


def _rollback_target(app: App, sha: str) -> str:
    inputs = lambda_rollback.RollbackInputs(function=app.function, alias="live", to=sha,
                                            dry_run=True, github_token="",
                                            environment="production")
    return lambda_rollback.find_target(app.lam, inputs, app.alias())[0]


def test_bench_refuses_publish_of_other_code_and_updates_in_progress(bench: Bench) -> None:
    """The bench answers as AWS does: InProgress after an update, 409 meanwhile, and a
    PublishVersion whose CodeSha256 is not $LATEST's is refused with AWS's error."""
    app = seed_app(bench)
    set_update_window(bench, app.function, WINDOW)
    revision = app.lam.get_function_configuration(FunctionName=app.function)["RevisionId"]
    app.lam.update_function_code(FunctionName=app.function, ImageUri=app.uri(1),
                                 RevisionId=revision)
    config = app.lam.get_function_configuration(FunctionName=app.function)
    assert config["LastUpdateStatus"] == "InProgress"
    assert config["CodeSha256"] == app.digests[1]  # the image digest, without ``sha256:``
    with pytest.raises(botocore.exceptions.ClientError) as busy:
        app.lam.publish_version(FunctionName=app.function)
    assert busy.value.response["Error"]["Code"] == "ResourceConflictException"
    time.sleep(WINDOW + 0.1)
    config = app.lam.get_function_configuration(FunctionName=app.function)
    assert config["LastUpdateStatus"] == "Successful"
    with pytest.raises(botocore.exceptions.ClientError) as other:
        app.lam.publish_version(FunctionName=app.function, CodeSha256=app.digests[2])
    assert other.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "is different from current CodeSHA256 in $LATEST" in str(other.value)
    assert app.versions() == ["1"]
    published = app.lam.publish_version(FunctionName=app.function, CodeSha256=app.digests[1],
                                        RevisionId=config["RevisionId"])
    assert published["CodeSha256"] == app.digests[1]


@pytest.mark.parametrize("offset", [0.2, 0.45, 0.7, 0.9, 1.1])
def test_staggered_deploys_never_publish_each_others_image(
    bench: Bench, offset: float
) -> None:
    """Two deploys started ``offset`` seconds apart: every version's description names the image
    it runs, the alias serves a winner's image, a loser fails as concurrent-deployment naming
    the other image, and rollback by each winner's commit finds that commit's image."""
    app = seed_app(bench)
    set_update_window(bench, app.function, RACE_WINDOW)
    results: dict[int, lambda_deploy.Outcome | FactoryError] = {}

    def racer(index: int) -> None:
        if index == 2:
            time.sleep(offset)
        try:
            results[index] = _deploy(app, index, bench.admin_client("lambda"))
        except FactoryError as exc:
            results[index] = exc

    threads = [threading.Thread(target=racer, args=(i,)) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert set(results) == {1, 2}, results

    winners = {i for i, r in results.items() if isinstance(r, lambda_deploy.Outcome)}
    assert winners, results
    for index, result in results.items():
        if isinstance(result, FactoryError):
            assert result.reason == "concurrent-deployment", (index, result.message)
            assert "changed by another deployment" in result.message
            if "$LATEST now runs" in result.message:
                assert app.digests[3 - index] in result.message  # it names the other image
        else:
            assert lambda_api.version_digest(app.lam, app.function,
                                             result.version) == app.digests[index]
    digest_of_sha = {SHAS[i]: app.digests[i] for i in (1, 2)}
    for version in app.versions()[1:]:
        config = app.lam.get_function_configuration(FunctionName=app.function,
                                                    Qualifier=version)
        fields = lambda_api.parse_description(config["Description"])
        runs = lambda_api.version_digest(app.lam, app.function, version)
        assert fields["digest"] == f"sha256:{runs}", version
        assert digest_of_sha[fields["sha"]] == runs, version
    versions = [r.version for r in results.values() if isinstance(r, lambda_deploy.Outcome)]
    assert len(set(versions)) == len(versions), results  # no two deploys share a version
    alias = app.alias()
    live_digest = lambda_api.version_digest(app.lam, app.function, alias["FunctionVersion"])
    assert live_digest in {app.digests[i] for i in winners}
    assert lambda_api.parse_description(alias["Description"])["digest"] == f"sha256:{live_digest}"
    for index in winners:
        target = _rollback_target(app, SHAS[index])
        assert lambda_api.version_digest(app.lam, app.function, target) == app.digests[index]


def test_lost_update_reply_is_not_a_conflict(
    bench: Bench, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """UpdateFunctionCode lands but its reply is lost; the SDK's retry is refused as stale, and
    the deploy sees $LATEST already runs its image and carries on to a consistent version."""
    app = seed_app(bench)
    set_update_window(bench, app.function, WINDOW)
    proxy.add(service="lambda", operation="UpdateFunctionCode", kind="lose-reply", times=1)
    for key, value in {**bench.admin_env(), "AWS_ENDPOINT_URL": proxy.url}.items():
        monkeypatch.setenv(key, value)
    outcome = _deploy(app, 1, aws.client("lambda", region=bench.region))
    assert proxy.injected == ["lambda:UpdateFunctionCode"]
    assert proxy.passed.count("lambda:UpdateFunctionCode") == 1  # the retry, refused
    assert outcome.version == "2"
    assert lambda_api.version_digest(app.lam, app.function, "2") == app.digests[1]
    assert app.alias()["FunctionVersion"] == "2"


class UpdateBeforePublish:
    """Real bench client; just before this deploy's PublishVersion, another deploy's
    UpdateFunctionCode of ``other_uri`` lands (the worst moment for it to come)."""

    def __init__(self, real: Any, other_uri: str) -> None:
        self.real, self.other_uri = real, other_uri
        self.published: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def publish_version(self, **kwargs: Any) -> Any:
        self.published.append(kwargs)
        if len(self.published) == 1:
            name = kwargs["FunctionName"]
            current = self.real.get_function_configuration(FunctionName=name)
            self.real.update_function_code(FunctionName=name, ImageUri=self.other_uri,
                                           RevisionId=current["RevisionId"])
        return self.real.publish_version(**kwargs)


def test_publish_is_guarded_by_the_requested_digest(bench: Bench) -> None:
    """PublishVersion carries CodeSha256 = the requested digest, so an update landing just
    before it makes the deploy fail as concurrent-deployment naming that image, publishing
    nothing under this deploy's commit."""
    app = seed_app(bench)
    lam = UpdateBeforePublish(app.lam, app.uri(2))
    with pytest.raises(FactoryError) as caught:
        _deploy(app, 1, lam)
    assert lam.published[0]["CodeSha256"] == app.digests[1]
    assert caught.value.reason == "concurrent-deployment"
    assert f"$LATEST now runs sha256:{app.digests[2]}" in caught.value.message
    assert app.versions() == ["1"]
    assert app.alias()["FunctionVersion"] == "1"
