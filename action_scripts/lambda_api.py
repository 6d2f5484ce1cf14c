"""Lambda operations shared by lambda-deploy and lambda-rollback.

Every write is guarded by the RevisionId read before it, so two deploys of one function cannot
interleave: the loser gets ``PreconditionFailedException`` and fails with a clear
"changed by another deployment" error (``failure-reason: concurrent-deployment``) instead of
silently overwriting the winner. Throttling and 5xx are retried by botocore's standard mode
(:mod:`action_scripts.aws`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import botocore.exceptions

from action_scripts import aws, lambda_image, runner
from action_scripts.errors import FactoryError

T = TypeVar("T")

CONFLICT_CODES = frozenset({"PreconditionFailedException", "ResourceConflictException"})

DESCRIPTION_PREFIX = "hoopstat-factory"
_DESCRIPTION_FIELD = re.compile(r"(?P<key>sha|digest|previous|run)=(?P<value>\S+)", re.ASCII)


@dataclass
class Clock:
    """Monotonic time and sleep, replaceable in tests; ``minute_seconds`` scales strategy steps."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    minute_seconds: float = 60.0
    started: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.started = self.now()

    def elapsed(self) -> float:
        return self.now() - self.started


def concurrent_error(function: str, what: str, exc: Exception) -> FactoryError:
    return FactoryError(
        f"`{function}` was changed by another deployment while this one was {what} ({exc}).",
        title="Changed by another deployment",
        fix="Another run deployed or rolled back this function at the same time; only one may "
        "win. Look at the other run, then re-run this one if its image should still go out. Use "
        "`concurrency:` per app and environment in the workflow to queue deploys instead.",
        reason="concurrent-deployment",
    )


def taken_over_error(function: str, what: str, *, ours: str, theirs: str) -> FactoryError:
    """``$LATEST`` runs another deployment's image: name it, so the user can find that run."""
    return FactoryError(
        f"`{function}` was changed by another deployment while this one was {what}: "
        f"$LATEST now runs sha256:{theirs or '(unknown)'}, not this deployment's "
        f"sha256:{ours}. Nothing was published for sha256:{ours} and no alias was moved.",
        title="Changed by another deployment",
        fix="Another run deployed this function at the same time and its image won; only one "
        "may. Find the run that deployed sha256:" + (theirs[:12] or "…") + ", then re-run this "
        "one if its image should still go out. Use `concurrency:` per app and environment in "
        "the workflow to queue deploys instead.",
        reason="concurrent-deployment",
    )


def code_digest(config: dict[str, Any]) -> str:
    """An image function's CodeSha256: on AWS, the image manifest digest without ``sha256:``."""
    return str(config.get("CodeSha256") or "").removeprefix("sha256:")


def not_found_error(what: str, exc: Exception, *, fix: str) -> FactoryError:
    return FactoryError(
        f"{what} was not found: {exc}", title="Lambda resource not found", fix=fix,
        reason="resource-not-found",
    )


def aws_call(call: Callable[[], T], *, function: str, what: str) -> T:
    """Run one Lambda write, mapping revision conflicts to the concurrent-deployment error."""
    try:
        return call()
    except botocore.exceptions.ClientError as exc:
        raise refused(function, what, exc) from exc


def refused(function: str, what: str, exc: botocore.exceptions.ClientError) -> FactoryError:
    """The error for a Lambda write AWS refused (after botocore's retries)."""
    if aws.error_code(exc) in CONFLICT_CODES:
        return concurrent_error(function, what, exc)
    return FactoryError(
        f"Lambda refused {what} for `{function}`: {exc}",
        title="Lambda call failed",
        fix="See the AWS error; throttling and 5xx were already retried. Check the deploy "
        "role's permissions against the action's README.",
    )


def function_config(lam: Any, function: str, qualifier: str | None = None) -> dict[str, Any]:
    kwargs = {"FunctionName": function}
    if qualifier:
        kwargs["Qualifier"] = qualifier
    try:
        result: dict[str, Any] = lam.get_function_configuration(**kwargs)
    except botocore.exceptions.ClientError as exc:
        if aws.error_code(exc) == "ResourceNotFoundException":
            shown = f"`{function}`" + (f" version `{qualifier}`" if qualifier else "")
            raise not_found_error(
                f"Lambda function {shown}", exc,
                fix="Check `function-name` and the region; the function itself is created by "
                "Terraform (the lambda-app module), not by this action.",
            ) from exc
        raise
    return result


def version_digest(lam: Any, function: str, version: str) -> str:
    """The image digest (64 hex) a published version runs, from its resolved image URI."""
    code = lam.get_function(FunctionName=function, Qualifier=version)
    resolved = lambda_image.digest_of(str(code.get("Code", {}).get("ResolvedImageUri", "")))
    return resolved or str(code["Configuration"].get("CodeSha256", ""))


def version_image_uri(lam: Any, function: str, version: str) -> str:
    code = lam.get_function(FunctionName=function, Qualifier=version).get("Code", {})
    return str(code.get("ResolvedImageUri") or code.get("ImageUri") or "")


def get_alias(lam: Any, function: str, alias: str) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] = lam.get_alias(FunctionName=function, Name=alias)
    except botocore.exceptions.ClientError as exc:
        if aws.error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    return result


def routed_versions(alias: dict[str, Any]) -> set[str]:
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return {str(alias["FunctionVersion"]), *map(str, weights)}


def move_alias(
    lam: Any, *, function: str, alias: str, version: str, revision_id: str,
    extra: tuple[str, float] | None = None, description: str | None = None, what: str,
) -> dict[str, Any]:
    """Point ``alias`` at ``version`` (plus ``extra`` = (version, weight)), RevisionId-guarded."""
    weights = {extra[0]: round(extra[1], 4)} if extra else {}
    kwargs: dict[str, Any] = {
        "FunctionName": function, "Name": alias, "FunctionVersion": version,
        "RoutingConfig": {"AdditionalVersionWeights": weights}, "RevisionId": revision_id,
    }
    if description is not None:
        kwargs["Description"] = description[:256]
    result: dict[str, Any] = aws_call(
        lambda: lam.update_alias(**kwargs), function=function, what=what
    )
    return result


def list_versions(lam: Any, function: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in lam.get_paginator("list_versions_by_function").paginate(FunctionName=function):
        found += [v for v in page["Versions"] if v["Version"] != "$LATEST"]
    return sorted(found, key=lambda v: int(v["Version"]))


def list_aliases(lam: Any, function: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in lam.get_paginator("list_aliases").paginate(FunctionName=function):
        found += page["Aliases"]
    return found


def make_description(*, sha: str, digest: str, run_url: str, previous: str = "") -> str:
    """A description rollback can search: ``hoopstat-factory sha=… digest=… [previous=…] run=…``.

    Versions carry it so ``target: <git sha>`` can find them; the alias carries it with
    ``previous=`` so ``target: previous`` means the version that was live before, not merely the
    one numbered below (which may be a version whose smoke test failed and never got traffic).
    """
    parts = [DESCRIPTION_PREFIX]
    if sha:
        parts.append(f"sha={sha}")
    if digest:
        parts.append(f"digest=sha256:{digest}")
    if previous:
        parts.append(f"previous={previous}")
    text = " ".join(parts)
    if run_url and len(text) + len(run_url) + 5 <= 256:  # Lambda's limit is 256 characters
        text += f" run={run_url}"
    return text


def parse_description(description: str) -> dict[str, str]:
    if not description.startswith(DESCRIPTION_PREFIX):
        return {}
    return {m["key"]: m["value"] for m in _DESCRIPTION_FIELD.finditer(description)}


def human_duration(seconds: float) -> str:
    """``45s``, ``1m30s``, ``5m`` (``2.5s`` below 10 s, where tenths still say something)."""
    if seconds < 10:
        return f"{max(0.0, seconds):.1f}s"
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    if not minutes:
        return f"{rest}s"
    return f"{minutes}m{rest}s" if rest else f"{minutes}m"


def wait_updated(lam: Any, *, function: str, clock: Clock, deadline: float) -> dict[str, Any]:
    """Poll until the last update finished: fast at first (0.25 s, growing to 5 s); each poll
    prints the deploy's elapsed time against its limit (``timeout-seconds``).

    Raises on ``Failed`` (the alias was not touched) or when ``deadline`` (clock time) passes.
    """
    delay = 0.25
    started = clock.now()
    while True:
        config = function_config(lam, function)
        status = config.get("LastUpdateStatus") or "Successful"
        state = config.get("State") or "Active"
        elapsed = clock.now() - started
        if status == "Failed" or state == "Failed":
            reason = config.get("LastUpdateStatusReason") or config.get("StateReason") or ""
            raise FactoryError(
                f"Lambda could not update `{function}` to the new image: {reason} "
                f"({config.get('LastUpdateStatusReasonCode') or 'no reason code'}).",
                title="Function update failed",
                fix="The alias still serves the previous version. Check that the image was built "
                "for Lambda (linux/amd64 or arm64 matching the function, no attestation index) "
                "and that the function's role can pull from the repository.",
                reason="update-failed",
            )
        if status == "Successful" and state != "Pending":
            runner.info(f"Function update finished after {elapsed:.1f}s.")
            return config
        if clock.now() >= deadline:
            raise FactoryError(
                f"`{function}` was still updating ({status}) after {elapsed:.0f}s.",
                title="Timed out waiting for the function update",
                fix="The alias still serves the previous version. Raise `timeout-seconds` if "
                "large images need longer, then re-run.",
                reason="timeout",
            )
        runner.info(f"Waiting for the function update ({status}): "
                    f"{human_duration(clock.elapsed())} of "
                    f"{human_duration(deadline - clock.started)} (timeout-seconds)…")
        clock.sleep(min(delay, max(0.0, deadline - clock.now())))
        delay = min(delay * 1.6, 5.0)


# --- who invokes $LATEST --------------------------------------------------------------------

_SERVICES = {
    "s3.amazonaws.com": "S3", "events.amazonaws.com": "EventBridge", "sns.amazonaws.com": "SNS",
    "sqs.amazonaws.com": "SQS", "logs.amazonaws.com": "CloudWatch Logs",
    "scheduler.amazonaws.com": "EventBridge Scheduler", "apigateway.amazonaws.com": "API Gateway",
    "elasticloadbalancing.amazonaws.com": "a load balancer", "iot.amazonaws.com": "IoT",
    "cognito-idp.amazonaws.com": "Cognito", "secretsmanager.amazonaws.com": "Secrets Manager",
}


def unqualified_arn(arn: str) -> str:
    """A function ARN without its version or alias."""
    return ":".join(arn.split(":")[:7])


def is_unqualified(arn: str) -> bool:
    """True for ``…:function:<name>`` and ``…:function:<name>:$LATEST``; False for a version or
    alias ARN (which lambda-deploy's alias and versions protect)."""
    parts = arn.split(":")
    return len(parts) == 7 or (len(parts) == 8 and parts[7] == "$LATEST")


def _grantee(statement: dict[str, Any]) -> str:
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        service = principal.get("Service")
        account = principal.get("AWS")
    else:
        service, account = None, principal
    condition = statement.get("Condition") or {}
    source = ""
    for test in ("ArnLike", "ArnEquals", "StringLike", "StringEquals"):
        found = (condition.get(test) or {})
        source = source or str(found.get("AWS:SourceArn") or found.get("aws:SourceArn") or "")
    if isinstance(service, list):
        service = ", ".join(map(str, service))
    if service:
        who = _SERVICES.get(str(service), str(service))
        return f"{who} ({source})" if source else f"{who} (any source)"
    if isinstance(account, list):
        account = ", ".join(map(str, account))
    if str(account) == "*":
        return "any principal (`*`)"
    match = re.search(r"(\d{12})", str(account or ""))
    return f"account {match.group(1)}" if match else f"principal {account}"


def latest_consumers(lam: Any, config: dict[str, Any]) -> tuple[list[str], str]:
    """Who invokes the unqualified function (``$LATEST``), and why the check failed if it did.

    Event source mappings whose ``FunctionArn`` is unqualified, and statements of the
    unqualified function's resource policy (S3, EventBridge, SNS, other accounts …). Consumers
    of an alias or version are not listed: the alias is what a deploy moves and a rollback
    moves back. Read-only; a refusal (e.g. the role lacks ``lambda:GetPolicy`` or
    ``lambda:ListEventSourceMappings``) is returned as the reason, never raised.
    """
    name = str(config["FunctionName"])
    found: list[str] = []
    problems: list[str] = []
    try:
        # By name: on moto a full ARN lists nothing; on AWS both work.
        pages = lam.get_paginator("list_event_source_mappings").paginate(FunctionName=name)
        for page in pages:
            for mapping in page.get("EventSourceMappings", []):
                if is_unqualified(str(mapping.get("FunctionArn", ""))):
                    found.append(
                        f"Event source mapping {mapping.get('UUID')} from "
                        f"{mapping.get('EventSourceArn', '(unknown source)')} "
                        f"({mapping.get('State', 'state unknown')})"
                    )
    except botocore.exceptions.ClientError as exc:
        problems.append(f"ListEventSourceMappings: {aws.error_code(exc) or exc}")
    try:
        policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    except botocore.exceptions.ClientError as exc:
        if aws.error_code(exc) != "ResourceNotFoundException":  # no policy: no grants
            problems.append(f"GetPolicy: {aws.error_code(exc) or exc}")
        policy = {}
    statements = policy.get("Statement") or []
    for statement in statements if isinstance(statements, list) else [statements]:
        resource = statement.get("Resource")
        resources = resource if isinstance(resource, list) else [resource]
        # AWS keeps an alias's grants in the alias's own policy; moto merges them into this one,
        # so the resource ARN decides.
        if statement.get("Effect", "Allow") != "Allow" or not any(
            is_unqualified(str(r)) for r in resources
        ):
            continue
        sid = statement.get("Sid", "?")
        found.append(f"Permission `{sid}` for {_grantee(statement)}")
    return found, "; ".join(problems)
