"""lambda-deploy's checks before any change ($LATEST consumers, architecture), its dry run, its
progress lines and the console links in deploy and rollback summaries — against the bench's moto.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from action_scripts import (
    lambda_api,
    lambda_deploy,
    lambda_image,
    lambda_rollback,
    lambda_strategy,
    runner,
)
from action_scripts.errors import FactoryError
from factory_bench.stack import Bench
from tests.helpers.lambda_app import App, FakeClock, make_alarm, put_image, seed_app, unique


def _state(app: App) -> dict[str, Any]:
    """What a deploy could change: $LATEST's code and revision, versions, alias, ECR tags."""
    config = app.lam.get_function_configuration(FunctionName=app.function)
    images = app.ecr.describe_images(repositoryName=app.repository)["imageDetails"]
    return {
        "revision": config.get("RevisionId"), "code": config.get("CodeSha256"),
        "versions": app.versions(), "alias": app.alias()["RevisionId"],
        "tags": sorted(tag for image in images for tag in image.get("imageTags", [])),
    }


def _queue_arn(bench: Bench) -> str:
    sqs = bench.admin_client("sqs")
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
               ["Attributes"]["QueueArn"])


# --- $LATEST consumers ----------------------------------------------------------------------


def test_each_latest_consumer_gets_one_warning_and_alias_consumers_none(
    run_action: Any, bench: Bench
) -> None:
    """Unqualified grants (S3, EventBridge, SNS, another account) and an unqualified event source
    mapping each get one warning naming them and the alias-ARN fix; consumers of the alias do
    not."""
    app = seed_app(bench)
    lam, fn = app.lam, app.function
    latest_queue, alias_queue = _queue_arn(bench), _queue_arn(bench)
    lam.create_event_source_mapping(EventSourceArn=latest_queue, FunctionName=fn)
    lam.create_event_source_mapping(EventSourceArn=alias_queue, FunctionName=f"{fn}:live")
    grants = {"s3": ("s3.amazonaws.com", "arn:aws:s3:::raw-bucket"),
              "rule": ("events.amazonaws.com", "arn:aws:events:us-east-1:123456789012:rule/r"),
              "topic": ("sns.amazonaws.com", "arn:aws:sns:us-east-1:123456789012:t"),
              "partner": ("111122223333", None)}
    for sid, (principal, source) in grants.items():
        lam.add_permission(FunctionName=fn, StatementId=sid, Action="lambda:InvokeFunction",
                           Principal=principal, **({"SourceArn": source} if source else {}))
    lam.add_permission(FunctionName=fn, StatementId="alias-s3", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::alias-bucket",
                       Qualifier="live")
    run = run_action(lambda_deploy.run, {"function-name": fn, "image-uri": app.uri(1)})
    assert run.code == 0, run.stdout
    warnings = [line for line in run.stdout.splitlines()
                if line.startswith("::warning title=$LATEST consumer::")]
    assert len(warnings) == 5, warnings
    text = "\n".join(warnings)
    for needle in ("S3 (arn:aws:s3:::raw-bucket)", "EventBridge (arn:aws:events:", "SNS (arn:aws",
                   "account 111122223333", f"from {latest_queue}"):
        assert sum(needle in w for w in warnings) == 1, needle
    assert "alias-bucket" not in text and alias_queue not in text
    assert f":function:{fn}:live instead" in warnings[0] and "before the smoke test" in text


def test_rollback_warns_about_latest_consumers(run_action: Any, bench: Bench) -> None:
    """A rollback says that a consumer of the unqualified function is not rolled back."""
    app = seed_app(bench)
    app.lam.add_permission(FunctionName=app.function, StatementId="s3",
                           Principal="s3.amazonaws.com", Action="lambda:InvokeFunction",
                           SourceArn="arn:aws:s3:::raw")
    assert run_action(lambda_deploy.run, {"function-name": app.function,
                                          "image-uri": app.uri(1)}).code == 0
    run = run_action(lambda_rollback.run, {"function-name": app.function})
    assert run.code == 0, run.stdout
    assert "::warning title=$LATEST consumer not rolled back::" in run.stdout
    assert "S3 (arn:aws:s3:::raw)" in run.stdout


# --- architecture ---------------------------------------------------------------------------


def test_image_for_another_architecture_is_refused_before_any_change(
    run_action: Any, bench: Bench
) -> None:
    """An arm64 image for an x86_64 function fails as architecture-mismatch, naming both and the
    fix, with $LATEST, versions, alias and tags unchanged."""
    app = seed_app(bench, platform="linux/arm64", architecture="x86_64")
    before = _state(app)
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(1)})
    assert run.code == 1 and run.reason == "architecture-mismatch", run.stdout
    assert "built for linux/arm64 (from its config in ECR)" in run.stdout
    assert "runs on x86_64, which needs linux/amd64" in run.stdout
    assert "Build the image for linux/amd64" in run.summary
    assert 'architecture = "arm64"' in run.summary
    assert _state(app) == before


def test_matching_arm64_image_deploys(run_action: Any, bench: Bench) -> None:
    """An arm64 image deploys to an arm64 function; the log says what was compared."""
    app = seed_app(bench, platform="linux/arm64", architecture="arm64")
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(1)})
    assert run.code == 0, run.stdout
    assert "Image platform linux/arm64 (from its config in ECR); function architecture arm64" \
        in run.stdout


def test_platform_input_is_the_fallback_when_the_config_cannot_be_read(
    run_action: Any, bench: Bench
) -> None:
    """Without a readable config blob, the `platform` input decides; with neither, the deploy
    goes on with a warning that the architecture was not checked."""
    app = seed_app(bench)
    digest = put_image(app.ecr, app.repository, "no-config")  # its config blob is nowhere
    uri = f"{app.registry}/{app.repository}@sha256:{digest}"
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": uri,
                                         "platform": "linux/arm64"})
    assert run.code == 1 and run.reason == "architecture-mismatch", run.stdout
    assert "(from the `platform` input)" in run.stdout
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": uri})
    assert run.code == 0, run.stdout
    assert "::warning title=Architecture not checked::" in run.stdout
    assert "LayersNotFoundException" in run.stdout


# --- dry run --------------------------------------------------------------------------------


def test_dry_run_shows_the_calls_and_changes_nothing(run_action: Any, bench: Bench) -> None:
    """dry-run resolves a tag, runs the checks, lists UpdateFunctionCode/PublishVersion/
    UpdateAlias with their values, and leaves AWS exactly as it was."""
    app = seed_app(bench)
    alarm = make_alarm(app)
    before = _state(app)
    run = run_action(lambda_deploy.run, {
        "function-name": app.function, "image-uri": f"{app.registry}/{app.repository}:v2",
        "strategy": "canary-10-5", "alarm-names": alarm, "dry-run": "true",
        "smoke-payload": "{}",
    })
    assert run.code == 0, run.stdout
    assert _state(app) == before
    revision = before["revision"]
    assert (f"UpdateFunctionCode(FunctionName={app.function}, ImageUri={app.uri(2)}, "
            f"RevisionId={revision}, Publish=false)") in run.stdout
    assert f"PublishVersion(FunctionName={app.function}, CodeSha256={app.digests[2]}" in run.stdout
    assert (f"UpdateAlias(FunctionName={app.function}, Name=live, FunctionVersion=1, "
            "AdditionalVersionWeights={<new>: 0.1})") in run.stdout
    assert "Image platform linux/amd64" in run.stdout
    assert "dry run, nothing changed" in run.summary and "UpdateFunctionCode" in run.summary
    assert run.outputs["version"] == "" and run.outputs["previous-version"] == "1"


def test_dry_run_still_fails_a_check(run_action: Any, bench: Bench) -> None:
    """A dry run of an image for the wrong architecture fails the way the deploy would."""
    app = seed_app(bench, platform="linux/arm64")
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(1),
                                         "dry-run": "true"})
    assert run.code == 1 and run.reason == "architecture-mismatch"


# --- progress and links ---------------------------------------------------------------------


def test_bake_prints_progress_at_most_30_seconds_apart(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 5-minute canary prints `baking: … of 5m at 10%, alarms OK` lines, never more than 30 s
    (clock time) apart from the shift to the end of the bake."""
    app = seed_app(bench)
    clock = FakeClock()
    printed: list[tuple[float, str]] = []
    original = runner.info
    monkeypatch.setattr(runner, "info", lambda text: (printed.append((clock.t, text)),
                                                      original(text)))
    strategy = lambda_strategy.parse("canary-10-5")
    image = lambda_image.parse(app.uri(1))
    assert not isinstance(strategy, str) and image is not None
    inputs = lambda_deploy.DeployInputs(
        function=app.function, image=image, alias="live", strategy=strategy,
        alarms=(make_alarm(app),), smoke_payload=b"{}", smoke_expect="", timeout=900,
        keep_versions=0, github_token="", environment="production")
    lambda_deploy.deploy(inputs, lambda_deploy.Clients(app.lam, app.ecr, app.cloudwatch),
                         region="us-east-1", environ={}, clock=clock,
                         outcome=lambda_deploy.Outcome())
    start = next(t for t, text in printed if text.startswith("Shifting 10%"))
    bake = [(t, text) for t, text in printed if text.startswith("baking: ")]
    assert bake, printed
    times = [start, *(t for t, _ in bake), start + 300]
    assert max(b - a for a, b in itertools.pairwise(times)) <= 30, bake
    assert any(text.startswith("baking: 1m15s of 5m at 10%, alarms OK") for _, text in bake)


def test_update_wait_prints_elapsed_against_the_limit(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waiting for a function update prints the elapsed time against timeout-seconds."""
    app = seed_app(bench)
    clock = FakeClock()
    lines: list[str] = []
    monkeypatch.setattr(runner, "info", lines.append)
    with pytest.raises(FactoryError):
        lambda_api.wait_updated(_Stuck(app.lam), function=app.function, clock=clock,
                                deadline=clock.started + 60)
    assert any(line.endswith("of 1m (timeout-seconds)…") for line in lines), lines


class _Stuck:
    """A FAKE at boto3 level: the function reports an update InProgress for ever."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def get_function_configuration(self, **kwargs: Any) -> Any:
        return {**self.real.get_function_configuration(**kwargs), "LastUpdateStatus": "InProgress"}


def test_summaries_link_function_alias_logs_and_alarms(run_action: Any, bench: Bench) -> None:
    """Deploy and rollback summaries link the function, the alias, the log group and the alarms
    in the AWS console."""
    app = seed_app(bench)
    alarm = app.function + "-errors"
    app.cloudwatch.put_metric_alarm(
        AlarmName=alarm, MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(1),
                                         "strategy": "canary-10-1", "alarm-names": alarm})
    assert run.code == 0, run.stdout
    console = "https://us-east-1.console.aws.amazon.com"
    expected = [f"{console}/lambda/home?region=us-east-1#/functions/{app.function})",
                f"#/functions/{app.function}/aliases/live)",
                f"#logsV2:log-groups/log-group/$252Faws$252Flambda$252F{app.function})",
                f"#alarmsV2:alarm/{alarm})"]
    for link in expected:
        assert link in run.summary, (link, run.summary)
    rolled = run_action(lambda_rollback.run, {"function-name": app.function})
    assert rolled.code == 0, rolled.stdout
    for link in expected:
        assert link in rolled.summary, (link, rolled.summary)


def _push_to_registry(registry: Any, repository: str, config: bytes) -> str:
    """Push a one-layer image straight through the registry API v2; returns its digest."""
    import base64
    import hashlib
    import json
    import urllib.request

    auth = "Basic " + base64.b64encode(
        f"{registry.username}:{registry.password}".encode()).decode()

    def upload(blob: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        start = urllib.request.Request(f"{registry.url}/v2/{repository}/blobs/uploads/",
                                       method="POST", headers={"Authorization": auth})
        with urllib.request.urlopen(start, timeout=10) as response:
            location = response.headers["Location"]
        target = location if location.startswith("http") else f"{registry.url}{location}"
        joiner = "&" if "?" in target else "?"
        put = urllib.request.Request(f"{target}{joiner}digest={digest}", data=blob, method="PUT",
                                     headers={"Authorization": auth,
                                              "Content-Type": "application/octet-stream"})
        urllib.request.urlopen(put, timeout=10).close()
        return digest

    layer = b"not really a tarball"
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "size": len(config), "digest": upload(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "size": len(layer), "digest": upload(layer)}],
    }).encode()
    put = urllib.request.Request(
        f"{registry.url}/v2/{repository}/manifests/v1", data=manifest, method="PUT",
        headers={"Authorization": auth,
                 "Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    with urllib.request.urlopen(put, timeout=10) as response:
        return str(response.headers["Docker-Content-Digest"]).removeprefix("sha256:")


def test_local_mode_reads_the_platform_through_the_registry_api(
    bench: Bench, registry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In local mode the image's config blob is read from the local registry (ECR login), so an
    image pushed there is checked by its real platform."""
    repository = unique("local")
    bench.admin_client("ecr").create_repository(repositoryName=repository)
    digest = _push_to_registry(registry, repository, b'{"os": "linux", "architecture": "arm64"}')
    for key, value in bench.admin_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HOOPSTAT_FACTORY_REGISTRY_ENDPOINT", registry.url)
    ref = lambda_image.parse(f"{registry.host}/{repository}@sha256:{digest}")
    assert ref is not None
    ecr = bench.admin_client("ecr")
    assert lambda_image.resolve(ecr, ref, input_name="image-uri").digest == digest
    assert lambda_image.read_platform(ecr, ref) == ("linux/arm64", "")
