"""lambda-rollback: point an alias back at an earlier published version, by hand.

``to`` is ``previous`` (the version that was live before the current one, as recorded on the alias
by lambda-deploy), a version number, or a git SHA found in version descriptions. Rolling back
never rebuilds or re-tags anything: published versions are immutable, so the target runs exactly
what it ran before — provided its image still exists in ECR, which is checked first (Lambda
cannot start a version whose image a lifecycle policy deleted). A typo is an error, never "latest".
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import botocore.exceptions

from action_scripts import (
    aws,
    console_links,
    github_deployments,
    lambda_api,
    lambda_image,
    runner,
    validate,
)
from action_scripts.errors import FactoryError

TO = re.compile(r"previous|\d{1,9}|[0-9a-f]{7,40}", re.ASCII)
TO_EXPECTED = (
    "`previous`, a published version number such as `12`, or a git commit SHA (7-40 hex "
    "characters) that a lambda-deploy run recorded in a version's description"
)


@dataclass(frozen=True)
class RollbackInputs:
    function: str
    alias: str
    to: str
    dry_run: bool
    github_token: str
    environment: str


def read_inputs(environ: Mapping[str, str]) -> RollbackInputs:
    inputs = runner.Inputs(environ)
    token = inputs.raw("github-token")
    runner.mask(token)
    function = inputs.matching(
        "function-name", validate.LAMBDA_FUNCTION, expected=validate.LAMBDA_FUNCTION_EXPECTED,
        required=True,
    )
    alias = inputs.matching(
        "alias", validate.LAMBDA_ALIAS, expected=validate.LAMBDA_ALIAS_EXPECTED, default="live"
    )
    to = inputs.matching("target", TO, expected=TO_EXPECTED, default="previous").lower()
    dry_run = inputs.boolean("dry-run", default=False)
    environment = inputs.text("environment", default="production")
    inputs.check()
    return RollbackInputs(function, alias, to, dry_run, token, environment)


def _bad_to(inputs: RollbackInputs, message: str) -> FactoryError:
    return FactoryError(
        message, title="Invalid input target",
        fix=f"Expected {TO_EXPECTED}. The versions that exist are listed in the log above.",
        reason="invalid-input",
    )


def find_target(lam: Any, inputs: RollbackInputs, alias: dict[str, Any]) -> tuple[str, str]:
    """The version to roll back to, and the git SHA it was built from (if recorded)."""
    versions = lambda_api.list_versions(lam, inputs.function)
    described = {
        str(v["Version"]): lambda_api.parse_description(str(v.get("Description") or ""))
        for v in versions
    }
    runner.info("Published versions: " + ", ".join(
        f"{n}" + (f" ({d['sha'][:12]})" if d.get("sha") else "") for n, d in described.items()
    ))
    current = str(alias["FunctionVersion"])
    if inputs.to == "previous":
        recorded = lambda_api.parse_description(str(alias.get("Description") or ""))
        target = recorded.get("previous", "")
        if not target:
            older = [n for n in described if int(n) < int(current)] if current.isdigit() else []
            if not older:
                raise _bad_to(inputs, f"`target: previous`: alias `{inputs.alias}` records no "
                              f"previous version and none is older than {current}.")
            target = older[-1]
            runner.warning(f"The alias records no previous version; using {target}, the newest "
                           f"one older than {current}.", title="Previous version inferred")
        if target not in described:
            raise _bad_to(
                inputs, f"`target: previous` is version {target}, which no longer exists.")
        return target, described[target].get("sha", "")
    if inputs.to.isdigit():
        if inputs.to in described:
            return inputs.to, described[inputs.to].get("sha", "")
        if len(inputs.to) < 7:  # too short for a SHA: it can only have meant a version
            raise _bad_to(inputs, f"`target`: version {inputs.to} of `{inputs.function}` does not "
                          "exist.")
    matches = [n for n, d in described.items() if d.get("sha", "").startswith(inputs.to)]
    if not matches:
        raise _bad_to(inputs, f"`target`: no published version of `{inputs.function}` was deployed "
                      f"from commit {inputs.to}.")
    shas = {described[n]["sha"] for n in matches}
    if len(shas) > 1:
        raise _bad_to(inputs, f"`target`: {inputs.to} matches several commits ({', '.join(shas)}); "
                      "give more characters.")
    return matches[-1], described[matches[-1]]["sha"]


def check_image(ecr: Any, lam: Any, function: str, version: str) -> str:
    uri = lambda_api.version_image_uri(lam, function, version)
    ref = lambda_image.parse(uri)
    if ref is None or not ref.digest:
        raise FactoryError(
            f"Version {version} runs `{uri}`, which is not an ECR image by digest.",
            title="Cannot check the target's image",
            fix="Roll back to a version deployed by lambda-deploy (always by digest).",
            reason="image-not-found",
        )
    try:
        lambda_image.resolve(ecr, ref, input_name="target")
    except FactoryError as err:
        if err.reason == "image-not-found":
            raise FactoryError(
                f"Version {version}'s image sha256:{ref.digest} no longer exists in ECR "
                f"repository `{ref.repository}`; Lambda could not start it.",
                title="Target image no longer exists",
                fix="Choose a newer version (`to:`), or rebuild that commit and deploy it with "
                "lambda-deploy. Keep deployable images out of the ECR lifecycle policy's reach.",
                reason="image-not-found",
            ) from err
        raise
    return ref.digest


@dataclass(frozen=True)
class Links:
    """Where the summary's console links point (no AWS call needs them)."""

    region: str
    alarms: tuple[str, ...] = ()


def function_alarms(cloudwatch: Any, function_name: str) -> tuple[str, ...]:
    """The alarms named ``<function>-…`` (the lambda-app module's naming), for the summary's
    links; a refusal or an error only leaves them out."""
    try:
        found = cloudwatch.describe_alarms(AlarmNamePrefix=f"{function_name}-", MaxRecords=20)
    except botocore.exceptions.ClientError:
        return ()
    every = found.get("MetricAlarms", []) + found.get("CompositeAlarms", [])
    return tuple(str(a["AlarmName"]) for a in every)


def rollback(inputs: RollbackInputs, *, lam: Any, ecr: Any, environ: Mapping[str, str],
             outputs: dict[str, str], links: Links | None = None) -> None:
    config = lambda_api.function_config(lam, inputs.function)
    consumers, _ = lambda_api.latest_consumers(lam, config)
    for consumer in consumers:
        runner.warning(
            f"{consumer} invokes `{inputs.function}` unqualified ($LATEST), which a rollback "
            f"of alias `{inputs.alias}` does not move: it keeps running the newest code. Fix: "
            "target the alias ARN "
            f"{lambda_api.unqualified_arn(str(config['FunctionArn']))}:{inputs.alias} instead.",
            title="$LATEST consumer not rolled back",
        )
    alias = lambda_api.get_alias(lam, inputs.function, inputs.alias)
    if alias is None:
        raise FactoryError(
            f"`alias` {inputs.alias} does not exist on `{inputs.function}`.",
            title="Alias not found",
            fix="Check `alias`; lambda-deploy creates it on the first deploy.",
            reason="resource-not-found",
        )
    current = str(alias["FunctionVersion"])
    outputs["previous-version"] = current
    target, sha = find_target(lam, inputs, alias)
    outputs["version"] = target
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    if target == current and not weights:
        runner.notice(f"Alias {inputs.alias} already serves version {target}; nothing to do.",
                      title="Already on that version")
        _summary(inputs, config, current, target, "", note="already there, nothing changed",
                 links=links)
        return
    digest = check_image(ecr, lam, inputs.function, target)
    if inputs.dry_run:
        runner.notice(f"Dry run: would move {inputs.alias} from {current} to {target}.",
                      title="Dry run")
        _summary(inputs, config, current, target, digest, note="dry run: nothing changed",
                 links=links)
        return
    record = github_deployments.start(
        token=inputs.github_token, environ=environ, environment=inputs.environment,
        ref=sha or environ.get("GITHUB_SHA", ""), task="rollback",
        description=f"rollback {inputs.function}:{inputs.alias} {current} → {target}",
        payload={"function": inputs.function, "alias": inputs.alias, "from": current,
                 "to": target},
    )
    description = lambda_api.make_description(
        sha=sha, digest=digest, run_url=github_deployments.run_url(environ), previous=current,
    )
    try:
        lambda_api.move_alias(
            lam, function=inputs.function, alias=inputs.alias, version=target,
            revision_id=str(alias["RevisionId"]), description=description,
            what="rolling back",
        )
    except FactoryError as err:
        if record:
            record.status("failure", err.title)
        raise
    if record:
        record.status("success", f"rolled back to version {target}")
    runner.info(f"Alias {inputs.alias}: {current} → {target}.")
    _summary(inputs, config, current, target, digest, note="rolled back", links=links)


def _summary(inputs: RollbackInputs, config: dict[str, Any], current: str, target: str,
             digest: str, *, note: str, links: Links | None) -> None:
    arn = str(config.get("FunctionArn", inputs.function))
    function = f"`{runner.md_escape(arn)}`"
    alias = f"`{inputs.alias}`"
    extra: list[tuple[str, str]] = []
    if links:
        function = f"[{function}]({console_links.function_url(region=links.region, function=arn)})"
        alias_url = console_links.alias_url(region=links.region, function=arn, alias=inputs.alias)
        alias = f"[{alias}]({alias_url})"
        log_group = str((config.get("LoggingConfig") or {}).get("LogGroup")
                        or f"/aws/lambda/{config.get('FunctionName', inputs.function)}")
        logs_url = console_links.log_group_url(region=links.region, log_group=log_group)
        extra.append(("logs", f"[`{runner.md_escape(log_group)}`]({logs_url})"))
        if links.alarms:
            extra.append(("alarms", ", ".join(
                f"[`{runner.md_escape(a)}`]"
                f"({console_links.alarm_url(region=links.region, alarm=a)})"
                for a in links.alarms)))
    rows = [
        ("function", function),
        ("alias", f"{alias}: {current} → {target}"),
        ("image", f"`sha256:{digest}`" if digest else "-"),
        *extra,
        ("result", note),
    ]
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    runner.summary(f"### ↩️ Lambda rollback: version {target}\n\n| | |\n| --- | --- |\n{table}")


def run(environ: Mapping[str, str]) -> None:
    inputs = read_inputs(environ)
    region = aws.resolve_region()  # lambda-rollback has no region input: AWS_REGION
    outputs = {"version": "", "previous-version": ""}
    name = inputs.function.split(":function:")[-1].split(":")[0]
    try:
        links = Links(region, function_alarms(aws.client("cloudwatch", region=region), name))
        rollback(inputs, lam=aws.client("lambda", region=region),
                 ecr=aws.client("ecr", region=region), environ=environ, outputs=outputs,
                 links=links)
    finally:
        for name, value in outputs.items():
            runner.set_output(name, value)


def main() -> int:
    return runner.run_action(lambda: run(dict(os.environ)))


if __name__ == "__main__":
    raise SystemExit(main())
