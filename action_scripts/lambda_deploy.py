"""lambda-deploy: publish an image as a new Lambda version, smoke-test it, shift an alias to it.

Order matters, and every step leaves a safe state behind it:

1. inputs validated, then preflight reads (function is ``PackageType: Image``, alias, alarms,
   image digest in ECR, the image's platform against the function's architecture) — nothing is
   changed before all of them pass; consumers of the unqualified function (``$LATEST``) are
   warned about, since they get the new code before the smoke test and no rollback moves them;
2. idempotency: an alias already serving this digest is left alone; ``dry-run`` stops here and
   prints the calls it would make;
3. UpdateFunctionCode by digest with the RevisionId just read (a refusal after a lost reply is
   checked against ``$LATEST``), fast-polled until done; if ``$LATEST`` then runs another
   deploy's image this one fails as ``concurrent-deployment`` naming it. PublishVersion carries
   ``CodeSha256`` = the requested digest and the RevisionId, so AWS itself refuses to publish
   any other code under this deploy's commit and digest; then the image
   gets the ECR tag ``lambda-<function>-<version>`` that shields it from lifecycle expiry
   (:mod:`action_scripts.lambda_ecr_tags`) — if that fails the deploy fails here, because a
   version whose image may expire is no safe rollback target;
4. the new version is invoked with the smoke payload *before it gets any traffic*;
5. the alias moves (RevisionId-guarded) per strategy; during canary/linear steps the alarms are
   watched and an alarm in ALARM (or the timeout) moves the alias back to the previous version;
6. retention prunes old versions no alias routes to and removes their tags (a failure to untag
   only warns); the step summary and an optional GitHub Deployment record say what happened.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from action_scripts import (
    aws,
    console_links,
    github_deployments,
    lambda_api,
    lambda_ecr_tags,
    lambda_image,
    lambda_strategy,
    runner,
    validate,
)
from action_scripts.errors import FactoryError
from action_scripts.lambda_api import Clock
from action_scripts.lambda_image import ImageRef
from action_scripts.lambda_strategy import Strategy

SMOKE_PAYLOAD_EXPECTED = (
    "a JSON document, or the path of a file holding one (relative to the workspace)"
)
ALARM_NAME_EXPECTED = (
    "CloudWatch alarm names (1-255 characters each), separated by commas or new lines"
)
PLATFORM = re.compile(r"linux/(?:amd64|arm64)", re.ASCII)
PLATFORM_EXPECTED = "`linux/amd64` or `linux/arm64` (the platform ecr-push built)"
# Bakes print a progress line at least this often (strategy time: real seconds on AWS).
PROGRESS_SECONDS = 25.0


@dataclass(frozen=True)
class DeployInputs:
    function: str
    image: ImageRef
    alias: str
    strategy: Strategy
    alarms: tuple[str, ...]
    smoke_payload: bytes | None
    smoke_expect: str
    timeout: int
    keep_versions: int
    github_token: str
    environment: str
    platform: str = ""  # as built, when the image's own config cannot be read
    dry_run: bool = False


@dataclass
class Outcome:
    """What the deploy did so far; written to the outputs whether it succeeded or not."""

    function_arn: str = ""
    version: str = ""
    previous: str = ""
    digest: str = ""
    rolled_back: bool = False
    noop: bool = False
    dry_run: bool = False
    planned: list[str] = field(default_factory=list)
    log_group: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    pruned: list[str] = field(default_factory=list)


def _smoke_payload(inputs: runner.Inputs, environ: Mapping[str, str]) -> bytes | None:
    raw = inputs.raw("smoke-payload")
    if not raw:
        return None
    try:
        json.loads(raw)
        return raw.encode()
    except ValueError as exc:
        if raw[:1] in "{[\"" or raw in {"true", "false", "null"} or raw[:1].isdigit():
            inputs.problem("smoke-payload", f"is not valid JSON ({exc}).", SMOKE_PAYLOAD_EXPECTED)
            return None
    path = inputs.workspace_path("smoke-payload", raw)
    if path is None:
        return None  # reported: the file would be outside the workspace
    if not path.is_file():
        inputs.problem(
            "smoke-payload", f"is neither JSON nor an existing file ('{raw}').",
            SMOKE_PAYLOAD_EXPECTED,
        )
        return None
    text = path.read_text(encoding="utf-8")
    try:
        json.loads(text)
    except ValueError as exc:
        inputs.problem("smoke-payload", f"file '{raw}' is not valid JSON ({exc}).",
                       SMOKE_PAYLOAD_EXPECTED)
        return None
    return text.encode()


def read_inputs(environ: Mapping[str, str]) -> DeployInputs:
    inputs = runner.Inputs(environ)
    token = inputs.raw("github-token")
    runner.mask(token)  # before anything could print it
    function = inputs.matching(
        "function-name", validate.LAMBDA_FUNCTION, expected=validate.LAMBDA_FUNCTION_EXPECTED,
        required=True,
    )
    image_raw = inputs.matching(
        "image-uri", lambda_image.image_uri_pattern(), expected=lambda_image.IMAGE_URI_EXPECTED,
        required=True,
    )
    alias = inputs.matching(
        "alias", validate.LAMBDA_ALIAS, expected=validate.LAMBDA_ALIAS_EXPECTED, default="live"
    )
    strategy_raw = inputs.text("strategy", default="all-at-once")
    parsed = lambda_strategy.parse(strategy_raw)
    if isinstance(parsed, str):
        inputs.problem("strategy", parsed, lambda_strategy.EXPECTED)
        parsed = Strategy("all-at-once", ())
    alarms = inputs.items("alarm-names")
    bad = [a for a in alarms if len(a) > 255 or not a.isprintable()]
    if bad:
        inputs.problem("alarm-names", f"{', '.join(map(repr, bad))} are not alarm names.",
                       ALARM_NAME_EXPECTED)
    payload = _smoke_payload(inputs, environ)
    expect = inputs.raw("smoke-expect")
    if expect and payload is None and not inputs.raw("smoke-payload"):
        inputs.problem("smoke-expect", "is set but `smoke-payload` is empty.",
                       "`smoke-payload` as well, so there is a reply to check")
    timeout = inputs.integer("timeout-seconds", default=900, minimum=30, maximum=21600)
    keep = inputs.integer("keep-versions", default=10, minimum=0, maximum=1000)
    environment = inputs.text("environment", default="production")
    platform = inputs.matching("platform", PLATFORM, expected=PLATFORM_EXPECTED)
    dry_run = inputs.boolean("dry-run", default=False)
    inputs.check()
    image = lambda_image.parse(image_raw)
    if image is None:  # unreachable: the pattern was checked above
        raise AssertionError(image_raw)
    return DeployInputs(
        function=function, image=image, alias=alias, strategy=parsed, alarms=tuple(alarms),
        smoke_payload=payload, smoke_expect=expect, timeout=timeout, keep_versions=keep,
        github_token=token, environment=environment, platform=platform, dry_run=dry_run,
    )


def check_bake_fits(inputs: DeployInputs, clock: Clock) -> None:
    bake = inputs.strategy.bake_minutes * clock.minute_seconds
    if bake >= inputs.timeout:
        raise FactoryError(
            f"`strategy` {inputs.strategy.name} bakes for {bake:.0f}s, but `timeout-seconds` is "
            f"{inputs.timeout}: the deploy would always time out and roll back.",
            title="Invalid input timeout-seconds",
            fix="Raise `timeout-seconds` above the strategy's total minutes plus a few minutes "
            "for the update, or choose a shorter strategy.",
            reason="invalid-input",
        )


@dataclass
class Clients:
    lam: Any
    ecr: Any
    cloudwatch: Any


def preflight(inputs: DeployInputs, clients: Clients, region: str) -> tuple[
    dict[str, Any], dict[str, Any] | None, ImageRef
]:
    """Read everything the deploy depends on; change nothing."""
    if inputs.function.startswith("arn:") and inputs.function.split(":")[3] != region:
        raise FactoryError(
            f"`function-name` {inputs.function} is in {inputs.function.split(':')[3]}, but this "
            f"step works in {region} (AWS_REGION).",
            title="Invalid input function-name",
            fix="Pass the function's region to oidc-login's `aws-region`, or use the function "
            "in this region.",
            reason="invalid-input",
        )
    config = lambda_api.function_config(clients.lam, inputs.function)
    if config.get("PackageType") != "Image":
        raise FactoryError(
            f"`function-name` {inputs.function} is a {config.get('PackageType', 'Zip')} "
            "function; lambda-deploy deploys container images.",
            title="Not an image function",
            fix="Create the function with `package_type = \"Image\"` (the lambda-app Terraform "
            "module does), or deploy .zip functions another way.",
            reason="invalid-input",
        )
    if inputs.image.region and inputs.image.region != region:
        raise FactoryError(
            f"`image-uri` is in {inputs.image.region} but the function is in {region}; Lambda "
            "only runs images from ECR in its own region.",
            title="Image in another region", fix="Push the image to ECR in the function's region.",
            reason="invalid-input",
        )
    if inputs.alarms:
        found = clients.cloudwatch.describe_alarms(AlarmNames=list(inputs.alarms))
        names = {a["AlarmName"] for a in found.get("MetricAlarms", []) + found.get(
            "CompositeAlarms", [])}
        missing = [a for a in inputs.alarms if a not in names]
        if missing:
            raise FactoryError(
                f"`alarm-names`: {', '.join(missing)} not found in {region}; a missing alarm "
                "would watch nothing.",
                title="Invalid input alarm-names",
                fix="Use the exact alarm names (the lambda-app Terraform module outputs them).",
                reason="invalid-input",
            )
    alias = lambda_api.get_alias(clients.lam, inputs.function, inputs.alias)
    image = lambda_image.resolve(clients.ecr, inputs.image, input_name="image-uri")
    if inputs.image.tag:
        runner.info(f"Resolved tag {inputs.image.tag} to sha256:{image.digest}.")
    check_architecture(inputs, clients, config, image)
    warn_latest_consumers(inputs, clients, config)
    return config, alias, image


def check_architecture(
    inputs: DeployInputs, clients: Clients, config: dict[str, Any], image: ImageRef
) -> None:
    """Refuse an image built for another platform than the function's architecture.

    The image's own config (read from ECR) decides; the `platform` input (what ecr-push was
    asked to build) is the fallback when the config cannot be read. Lambda would otherwise
    accept the update and fail only when the new version starts.
    """
    architecture = str((config.get("Architectures") or ["x86_64"])[0])
    needed = lambda_image.LAMBDA_PLATFORMS.get(architecture, "")
    found, why = lambda_image.read_platform(clients.ecr, image)
    source = "its config in ECR"
    if found and inputs.platform and found != inputs.platform:
        runner.warning(
            f"`platform` says {inputs.platform}, but the image's config in ECR says {found}; "
            "the image's own config is what Lambda runs, so it is what is checked.",
            title="platform input disagrees with the image",
        )
    if not found:
        if not inputs.platform:
            runner.warning(
                f"Could not read the image's platform ({why}) and `platform` is not set: the "
                f"image was not checked against the function's architecture ({architecture}).",
                title="Architecture not checked",
            )
            return
        found, source = inputs.platform, "the `platform` input"
    runner.info(f"Image platform {found} (from {source}); function architecture {architecture}.")
    if not needed or found.split("/")[:2] == needed.split("/"):
        return
    other = next((a for a, p in lambda_image.LAMBDA_PLATFORMS.items()
                  if p.split("/") == found.split("/")[:2]), "")
    raise FactoryError(
        f"Image sha256:{image.digest} is built for {found} (from {source}), but function "
        f"`{inputs.function}` runs on {architecture}, which needs {needed}. Lambda would accept "
        "the update and fail when the new version starts.",
        title="Image platform does not match the function's architecture",
        fix=f"Build the image for {needed} (ecr-push / the deploy workflow's `platform: "
        f"{needed}`)" + (f", or set the function's architecture to {other} (lambda-app module "
                         f"`architecture = \"{other}\"`)" if other else "") + ". Nothing was "
        "changed.",
        reason="architecture-mismatch",
    )


def warn_latest_consumers(inputs: DeployInputs, clients: Clients, config: dict[str, Any]) -> None:
    """One warning per consumer of the unqualified function: it runs $LATEST, which this deploy
    updates before the smoke test, and which no alias move (rollback) ever puts back."""
    consumers, problem = lambda_api.latest_consumers(clients.lam, config)
    alias_arn = f"{lambda_api.unqualified_arn(str(config['FunctionArn']))}:{inputs.alias}"
    for consumer in consumers:
        runner.warning(
            f"{consumer} invokes `{inputs.function}` unqualified ($LATEST): it gets this "
            "deploy's code as soon as UpdateFunctionCode finishes, before the smoke test, and "
            f"a rollback of alias `{inputs.alias}` does not move it back. Fix: target the alias "
            f"ARN {alias_arn} instead (an event source mapping's `function_name`, a trigger's "
            f"target, and the permission added with `qualifier = \"{inputs.alias}\"`).",
            title="$LATEST consumer",
        )
    if problem:
        runner.warning(
            f"Could not check who invokes `{inputs.function}` unqualified ({problem}). The "
            "deploy role needs `lambda:GetPolicy` on the function and "
            "`lambda:ListEventSourceMappings` (resource `*`) for this check.",
            title="$LATEST consumers not checked",
        )


def smoke_test(inputs: DeployInputs, lam: Any, version: str) -> None:
    if inputs.smoke_payload is None:
        runner.warning(
            f"No `smoke-payload`: version {version} gets traffic without being invoked first.",
            title="Smoke test skipped",
        )
        return
    with runner.group(f"Smoke test: invoking version {version}"):
        try:
            reply = lam.invoke(
                FunctionName=inputs.function, Qualifier=version, Payload=inputs.smoke_payload,
                InvocationType="RequestResponse",
            )
        except botocore.exceptions.ClientError as exc:
            raise _smoke_failed(inputs, version, f"the invoke was refused: {exc}") from exc
        body = reply["Payload"].read().decode("utf-8", errors="replace")
        runner.info(f"Reply ({reply.get('StatusCode')}): {body[:2000]}")
        if reply.get("FunctionError"):
            raise _smoke_failed(inputs, version, f"the function failed "
                                f"({reply['FunctionError']}): {body[:500]}")
        if inputs.smoke_expect and inputs.smoke_expect not in body:
            raise _smoke_failed(
                inputs, version, f"the reply does not contain `{inputs.smoke_expect}`: "
                f"{body[:500]}",
            )


def _smoke_failed(inputs: DeployInputs, version: str, what: str) -> FactoryError:
    return FactoryError(
        f"Smoke test of version {version} failed: {what}",
        title="Smoke test failed",
        fix=f"Alias `{inputs.alias}` was not touched: it still serves the previous version. Fix "
        "the image (the reply above says why), or correct `smoke-payload`/`smoke-expect`.",
        reason="smoke-test-failed",
    )


def alarms_firing(cloudwatch: Any, alarms: tuple[str, ...]) -> list[str]:
    found = cloudwatch.describe_alarms(AlarmNames=list(alarms))
    every = found.get("MetricAlarms", []) + found.get("CompositeAlarms", [])
    return [a["AlarmName"] for a in every if a.get("StateValue") == "ALARM"]


def shift(
    inputs: DeployInputs, clients: Clients, clock: Clock, *, alias: dict[str, Any] | None,
    new: str, outcome: Outcome, deadline: float, description: str,
) -> None:
    """Move the alias to ``new`` per strategy; ``description`` is the new version's."""
    lam = clients.lam
    if alias is None:
        runner.info(f"Creating alias {inputs.alias} → version {new} (first deploy).")
        lambda_api.aws_call(
            lambda: lam.create_alias(
                FunctionName=inputs.function, Name=inputs.alias, FunctionVersion=new,
                Description=description[:256],
            ),
            function=inputs.function, what="creating the alias",
        )
        return
    previous = str(alias["FunctionVersion"])
    revision = str(alias["RevisionId"])
    fields = lambda_api.parse_description(description)
    alias_description = lambda_api.make_description(
        sha=fields.get("sha", ""), digest=fields.get("digest", "").removeprefix("sha256:"),
        run_url=fields.get("run", ""), previous=previous if previous != new else "",
    )
    steps = inputs.strategy.steps if previous != new else ()
    if steps and not inputs.alarms:
        runner.warning(
            f"`strategy` {inputs.strategy.name} without `alarm-names`: traffic shifts in steps "
            "but nothing is watched, so nothing can trigger a rollback.",
            title="Canary not watched",
        )
    shifted = False  # once traffic is split, any failure must try to put the alias back
    try:
        for step in steps:
            percent = f"{step.weight * 100:.0f}%"
            runner.info(f"Shifting {percent} of {inputs.alias} to version {new} for "
                        f"{step.minutes} min ({clock.elapsed():.1f}s elapsed).")
            moved = lambda_api.move_alias(
                lam, function=inputs.function, alias=inputs.alias, version=previous,
                revision_id=revision, extra=(new, step.weight), what=f"shifting {percent}",
            )
            revision = str(moved["RevisionId"])
            shifted = True
            step_start = clock.now()
            step_end = step_start + step.minutes * clock.minute_seconds
            poll = max(0.05, min(15.0, step.minutes * clock.minute_seconds / 6))
            every = PROGRESS_SECONDS * clock.minute_seconds / 60
            next_progress = step_start + every
            while True:
                firing = alarms_firing(clients.cloudwatch, inputs.alarms) if inputs.alarms else []
                timed_out = clock.now() >= deadline
                if firing or timed_out:
                    _roll_back(lam, inputs, previous=previous, revision=revision, outcome=outcome)
                    if firing:
                        raise FactoryError(
                            f"Alarm {', '.join(firing)} went into ALARM while version {new} had "
                            f"{percent} of the traffic; alias `{inputs.alias}` is back on version "
                            f"{previous}.",
                            title="Alarm during traffic shift: rolled back",
                            fix="Look at the alarm's metrics and the new version's logs; fix the "
                            "image and deploy again.",
                            reason="alarm-triggered",
                        )
                    raise FactoryError(
                        f"The deploy passed `timeout-seconds` ({inputs.timeout}s) while shifting "
                        f"traffic; alias `{inputs.alias}` is back on version {previous}.",
                        title="Timed out during traffic shift: rolled back",
                        fix="Raise `timeout-seconds` above the strategy's total bake time.",
                        reason="timeout",
                    )
                if clock.now() >= step_end:
                    break
                if clock.now() >= next_progress:
                    _bake_progress(inputs, clock, since=step_start, step=step, percent=percent)
                    next_progress = clock.now() + every
                clock.sleep(min(poll, max(0.0, min(step_end, next_progress) - clock.now())))
        if previous == new:
            runner.info(f"Version {new} is already the alias's primary; clearing extra weights.")
        lambda_api.move_alias(
            lam, function=inputs.function, alias=inputs.alias, version=new, revision_id=revision,
            description=alias_description, what="moving the alias",
        )
    except Exception as exc:
        if outcome.rolled_back or not shifted or (
            isinstance(exc, FactoryError) and exc.reason == "concurrent-deployment"
        ):
            raise
        _roll_back_after(lam, inputs, exc, previous=previous, revision=revision, new=new,
                         outcome=outcome)


def _bake_progress(
    inputs: DeployInputs, clock: Clock, *, since: float, step: lambda_strategy.Step,
    percent: str,
) -> None:
    """``baking: 1m30s of 5m at 10%, alarms OK`` (strategy time, which is real time on AWS)."""
    scale = 60 / clock.minute_seconds
    watched = "alarms OK" if inputs.alarms else "no alarms watched"
    runner.info(f"baking: {lambda_api.human_duration((clock.now() - since) * scale)} of "
                f"{lambda_api.human_duration(step.minutes * 60)} at {percent}, {watched} "
                f"(deploy {lambda_api.human_duration(clock.elapsed())} of "
                f"{lambda_api.human_duration(inputs.timeout)})")


def _roll_back_after(
    lam: Any, inputs: DeployInputs, exc: Exception, *, previous: str, revision: str, new: str,
    outcome: Outcome,
) -> None:
    """The shift failed with traffic split: put the alias back, then report both."""
    try:
        _roll_back(lam, inputs, previous=previous, revision=revision, outcome=outcome)
    except Exception as again:
        raise FactoryError(
            f"The traffic shift failed ({exc}) and so did moving `{inputs.alias}` back to "
            f"version {previous} ({again}); part of the traffic may still reach version {new}.",
            title="Traffic shift failed; rollback failed",
            fix=f"Run lambda-rollback with `target: {previous}` now, then look at the AWS errors.",
        ) from exc
    raise FactoryError(
        f"The traffic shift failed ({exc}); alias `{inputs.alias}` is back on version "
        f"{previous}.",
        title="Traffic shift failed: rolled back",
        fix="Throttling and 5xx were already retried; re-run the deploy when AWS recovers.",
    ) from exc


def _roll_back(
    lam: Any, inputs: DeployInputs, *, previous: str, revision: str, outcome: Outcome
) -> None:
    runner.warning(f"Rolling {inputs.alias} back to version {previous}.", title="Rolling back")
    lambda_api.move_alias(
        lam, function=inputs.function, alias=inputs.alias, version=previous,
        revision_id=revision, what="rolling back",
    )
    outcome.rolled_back = True


def prune(
    lam: Any, function: str, *, keep: int, protect: set[str], ecr: Any, function_name: str
) -> list[str]:
    """Delete the oldest published versions beyond ``keep``, never one an alias routes to.

    Each deleted version's rollback tag is removed afterwards (before, a failed delete would leave
    a retained version unprotected). Pruning is housekeeping: a failure warns and never fails the
    deploy.
    """
    if keep == 0:
        return []
    try:
        versions = [v["Version"] for v in lambda_api.list_versions(lam, function)]
        for alias in lambda_api.list_aliases(lam, function):
            protect |= lambda_api.routed_versions(alias)
    except botocore.exceptions.ClientError as exc:
        runner.warning(f"Could not list versions to prune: {exc}", title="Retention skipped")
        return []
    excess = len(versions) - keep
    deleted: list[str] = []
    for version in versions:
        if excess <= 0:
            break
        if version in protect:
            continue
        try:
            image = lambda_image.parse(lambda_api.version_image_uri(lam, function, version))
            lam.delete_function(FunctionName=function, Qualifier=version)
        except botocore.exceptions.ClientError as exc:
            # e.g. an alias moved to it since we listed: AWS refuses, which is what we want.
            runner.warning(f"Kept version {version}: {exc}", title="Version not pruned")
            continue
        deleted.append(version)
        excess -= 1
        if image is None:
            runner.info(f"Version {version} ran no ECR image this deploy can reach; no tag to "
                        "remove.")
        else:
            lambda_ecr_tags.release(ecr, image=image, function_name=function_name,
                                    version=version)
    if deleted:
        runner.info(f"Pruned versions {', '.join(deleted)} (keeping {keep}).")
    return deleted


def deploy(
    inputs: DeployInputs, clients: Clients, *, region: str, environ: Mapping[str, str],
    clock: Clock, outcome: Outcome,
) -> None:
    check_bake_fits(inputs, clock)
    deadline = clock.started + inputs.timeout
    lam = clients.lam
    with runner.group("Preflight"):
        config, alias, image = preflight(inputs, clients, region)
    outcome.function_arn = str(config["FunctionArn"])
    outcome.digest = image.digest
    outcome.log_group = str((config.get("LoggingConfig") or {}).get("LogGroup")
                            or f"/aws/lambda/{config['FunctionName']}")
    outcome.timings["preflight"] = clock.elapsed()

    if alias is not None:
        outcome.previous = str(alias["FunctionVersion"])
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        serving = lambda_api.version_digest(lam, inputs.function, outcome.previous)
        if serving == image.digest and not weights:
            outcome.version = outcome.previous
            outcome.noop = True
            runner.notice(
                f"Alias {inputs.alias} already serves version {outcome.previous} with image "
                f"sha256:{image.digest}; nothing to do.", title="Already deployed",
            )
            return
        if weights:
            runner.warning(
                f"Alias {inputs.alias} still routes {weights} from an unfinished deploy; this "
                f"deploy takes over from primary version {outcome.previous}.",
                title="Unfinished traffic shift found",
            )

    sha = environ.get("GITHUB_SHA", "")
    description = lambda_api.make_description(
        sha=sha, digest=image.digest, run_url=github_deployments.run_url(environ)
    )
    if inputs.dry_run:
        outcome.dry_run = True
        outcome.planned = plan_calls(inputs, config=config, alias=alias, image=image,
                                     description=description)
        runner.info("Dry run: nothing was changed. A deploy would make these calls:\n"
                    + "\n".join(f"  {n}. {call}" for n, call in enumerate(outcome.planned, 1)))
        return
    record = github_deployments.start(
        token=inputs.github_token, environ=environ, environment=inputs.environment, ref=sha,
        task="deploy",
        description=f"{inputs.function}:{inputs.alias} → sha256:{image.digest[:12]}",
        payload={"function": inputs.function, "alias": inputs.alias,
                 "image": image.digest_uri},
    )
    try:
        _publish_and_shift(inputs, clients, clock, config=config, alias=alias, image=image,
                           outcome=outcome, deadline=deadline, description=description)
    except FactoryError as err:
        if record:
            record.status("failure", err.title)
        raise
    if record:
        record.status("success", f"version {outcome.version} live on {inputs.alias}")
    protect = {outcome.version, outcome.previous} - {""}
    outcome.pruned = prune(lam, inputs.function, keep=inputs.keep_versions, protect=protect,
                           ecr=clients.ecr, function_name=str(config["FunctionName"]))


def plan_calls(
    inputs: DeployInputs, *, config: dict[str, Any], alias: dict[str, Any] | None,
    image: ImageRef, description: str,
) -> list[str]:
    """The writes a deploy would make, with their values (``<new>``: the version PublishVersion
    would return), for ``dry-run``."""
    fn = inputs.function
    calls = [
        f"UpdateFunctionCode(FunctionName={fn}, ImageUri={image.digest_uri}, "
        f"RevisionId={config.get('RevisionId', '(as read)')}, Publish=false)",
        f"PublishVersion(FunctionName={fn}, CodeSha256={image.digest}, "
        f"Description={description!r})",
        f"ECR PutImage tag lambda-{config['FunctionName']}-<new> on sha256:{image.digest} "
        "(rollback protection)",
        (f"Invoke(FunctionName={fn}, Qualifier=<new>) with the smoke payload"
         if inputs.smoke_payload is not None else "no smoke test (no `smoke-payload`)"),
    ]
    if alias is None:
        calls.append(f"CreateAlias(FunctionName={fn}, Name={inputs.alias}, "
                     "FunctionVersion=<new>)")
    else:
        previous = alias["FunctionVersion"]
        for step in inputs.strategy.steps:
            calls.append(
                f"UpdateAlias(FunctionName={fn}, Name={inputs.alias}, FunctionVersion="
                f"{previous}, AdditionalVersionWeights={{<new>: {step.weight:g}}}), then "
                f"{step.minutes} min watching {', '.join(inputs.alarms) or 'no alarms'}")
        calls.append(f"UpdateAlias(FunctionName={fn}, Name={inputs.alias}, "
                     "FunctionVersion=<new>, AdditionalVersionWeights={})")
    if inputs.keep_versions:
        calls.append(f"DeleteFunction of the oldest versions beyond keep-versions "
                     f"{inputs.keep_versions} that no alias routes to, and their ECR tags")
    return calls


def update_code(lam: Any, inputs: DeployInputs, image: ImageRef, *, revision: str) -> None:
    """UpdateFunctionCode by digest, guarded by the RevisionId just read.

    When a reply is lost, botocore retries with the same RevisionId, and AWS refuses the retry
    (the first attempt landed: the RevisionId moved, or the update is still in progress). So a
    refusal is checked against ``$LATEST``: if it already runs this digest, the update is ours
    (or an identical one) and the deploy carries on; otherwise another deploy won.
    """
    try:
        lam.update_function_code(FunctionName=inputs.function, ImageUri=image.digest_uri,
                                 RevisionId=revision, Publish=False)
        return
    except botocore.exceptions.ClientError as exc:
        if aws.error_code(exc) not in lambda_api.CONFLICT_CODES:
            raise lambda_api.refused(inputs.function, "updating the code", exc) from exc
        theirs = lambda_api.code_digest(lambda_api.function_config(lam, inputs.function))
        if theirs != image.digest:
            raise lambda_api.taken_over_error(inputs.function, "updating the code",
                                              ours=image.digest, theirs=theirs) from exc
    runner.info(f"UpdateFunctionCode was refused as stale, but $LATEST already runs "
                f"sha256:{image.digest}: an earlier attempt whose reply was lost landed.")


def publish(
    lam: Any, inputs: DeployInputs, image: ImageRef, *, revision: str, description: str,
    clock: Clock, deadline: float,
) -> dict[str, Any]:
    """PublishVersion of exactly the requested image.

    ``CodeSha256`` makes AWS refuse to publish unless ``$LATEST`` runs ``image.digest``, and
    ``RevisionId`` unless nothing changed since the wait. A refusal while ``$LATEST`` still runs
    our image (a retried publish whose reply was lost, or a configuration change) publishes once
    more from what is there now, still by digest; any other refusal names the winner's image.
    """
    for attempt in (1, 2):
        try:
            result: dict[str, Any] = lam.publish_version(
                FunctionName=inputs.function, Description=description, RevisionId=revision,
                CodeSha256=image.digest,
            )
            return result
        except botocore.exceptions.ClientError as exc:
            code = aws.error_code(exc)
            if code not in lambda_api.CONFLICT_CODES and not (
                code == "InvalidParameterValueException" and "CodeSHA256" in str(exc)
            ):
                raise lambda_api.refused(inputs.function, "publishing the version", exc) from exc
            current = lambda_api.wait_updated(lam, function=inputs.function, clock=clock,
                                              deadline=deadline)
            theirs = lambda_api.code_digest(current)
            if theirs != image.digest or attempt == 2:
                raise lambda_api.taken_over_error(inputs.function, "publishing its version",
                                                  ours=image.digest, theirs=theirs) from exc
            revision = str(current["RevisionId"])
    raise AssertionError("unreachable: the second attempt returns or raises")


def _publish_and_shift(
    inputs: DeployInputs, clients: Clients, clock: Clock, *, config: dict[str, Any],
    alias: dict[str, Any] | None, image: ImageRef, outcome: Outcome, deadline: float,
    description: str,
) -> None:
    lam = clients.lam
    with runner.group(f"Updating {inputs.function} to sha256:{image.digest}"):
        if config.get("LastUpdateStatus") == "InProgress":
            config = lambda_api.wait_updated(lam, function=inputs.function, clock=clock,
                                             deadline=deadline)
        update_code(lam, inputs, image, revision=str(config["RevisionId"]))
        updated = lambda_api.wait_updated(lam, function=inputs.function, clock=clock,
                                          deadline=deadline)
        outcome.timings["update"] = clock.elapsed()
        # Another deploy may have updated $LATEST while ours was in progress; its image must
        # never be published under this deploy's commit and digest.
        if lambda_api.code_digest(updated) != image.digest:
            raise lambda_api.taken_over_error(inputs.function, "waiting for its update",
                                              ours=image.digest,
                                              theirs=lambda_api.code_digest(updated))
        published = publish(lam, inputs, image, revision=str(updated["RevisionId"]),
                            description=description, clock=clock, deadline=deadline)
        outcome.version = str(published["Version"])
        published_digest = lambda_api.version_digest(lam, inputs.function, outcome.version)
        if image.digest not in {published_digest, str(published.get("CodeSha256", ""))}:
            raise FactoryError(
                f"Version {outcome.version} runs sha256:{published_digest}, not the requested "
                f"sha256:{image.digest}.",
                title="Published version does not match the image",
                fix="The alias was not touched. Something changed the function's code during "
                "the deploy; re-run.",
                reason="update-failed",
            )
        runner.info(f"Published version {outcome.version} (CodeSha256 {published_digest}).")
        # Before any traffic: a version whose image the lifecycle policy may expire is no safe
        # rollback target, so failing to protect it stops the deploy with the alias untouched.
        lambda_ecr_tags.protect(clients.ecr, image=image, function_name=str(config["FunctionName"]),
                                version=outcome.version)
        outcome.timings["publish"] = clock.elapsed()

    smoke_test(inputs, lam, outcome.version)
    outcome.timings["smoke"] = clock.elapsed()
    with runner.group(f"Shifting {inputs.alias} ({inputs.strategy.name})"):
        shift(inputs, clients, clock, alias=alias, new=outcome.version, outcome=outcome,
              deadline=deadline, description=description)
    outcome.timings["shift"] = clock.elapsed()


def write_outputs(outcome: Outcome) -> None:
    runner.set_output("version", outcome.version)
    runner.set_output("previous-version", outcome.previous)
    runner.set_output("function-arn", outcome.function_arn)
    runner.set_output("rolled-back", "true" if outcome.rolled_back else "false")


def write_summary(inputs: DeployInputs, outcome: Outcome, *, region: str) -> None:
    if outcome.dry_run:
        head = "### 🧪 Lambda deploy: dry run, nothing changed"
    elif outcome.noop:
        head = f"### ✅ Lambda deploy: already live (version {outcome.version})"
    else:
        head = f"### ✅ Lambda deploy: version {outcome.version} live"
    timings = " · ".join(f"{k} {v:.1f}s" for k, v in outcome.timings.items())
    function = outcome.function_arn or inputs.function
    links = console_links
    alias_url = links.alias_url(region=region, function=function, alias=inputs.alias)
    rows = [
        ("function", f"[`{runner.md_escape(inputs.function)}`]"
                     f"({links.function_url(region=region, function=function)})"),
        ("alias", f"[`{inputs.alias}`]({alias_url}): "
                  f"{outcome.previous or '(new)'} → {outcome.version or '(not published)'}"),
        ("image", f"`sha256:{outcome.digest}`"),
        ("strategy", inputs.strategy.name),
    ]
    if outcome.log_group:
        logs_url = links.log_group_url(region=region, log_group=outcome.log_group)
        rows.append(("logs", f"[`{runner.md_escape(outcome.log_group)}`]({logs_url})"))
    if inputs.alarms:
        rows.append(("alarms", ", ".join(
            f"[`{runner.md_escape(a)}`]({links.alarm_url(region=region, alarm=a)})"
            for a in inputs.alarms)))
    rows.append(("timings (cumulative)", timings or "-"))
    if outcome.pruned:
        rows.append(("pruned versions", ", ".join(outcome.pruned)))
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    planned = ""
    if outcome.planned:
        planned = "\n\nA deploy would call:\n\n" + "\n".join(
            f"1. `{runner.md_escape(call)}`" for call in outcome.planned)
    runner.summary(f"{head}\n\n| | |\n| --- | --- |\n{table}{planned}")


def run(environ: Mapping[str, str], *, clock: Clock | None = None) -> None:
    inputs = read_inputs(environ)
    region = aws.resolve_region()
    clock = clock or Clock(
        minute_seconds=float(environ.get("HOOPSTAT_FACTORY_MINUTE_SECONDS") or 60)
    )
    clients = Clients(
        lam=aws.client("lambda", region=region), ecr=aws.client("ecr", region=region),
        cloudwatch=aws.client("cloudwatch", region=region),
    )
    outcome = Outcome()
    try:
        deploy(inputs, clients, region=region, environ=environ, clock=clock, outcome=outcome)
    finally:
        write_outputs(outcome)
    write_summary(inputs, outcome, region=region)


def main() -> int:
    return runner.run_action(lambda: run(dict(os.environ)))


if __name__ == "__main__":
    raise SystemExit(main())
