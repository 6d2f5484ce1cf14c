"""oidc-login: exchange the job's GitHub OIDC token for short-lived AWS credentials.

Order matters: inputs are validated, the token fetched, the role assumed and the credentials
verified with GetCallerIdentity *before* anything is exported, so a failure exports nothing.

Beyond the plain login, the inputs users of configure-aws-credentials reach for where they
matter here: role chaining (``chain-role-to-assume``: the OIDC role's session assumes a second
role, e.g. a deploy role in another account), session policies that narrow the final session
(``inline-session-policy``, ``managed-session-policies``), and session tags on the chained
``AssumeRole`` (GitHub, Repository, Workflow, Action, Actor, Commit, Branch; off with
``role-skip-session-tagging``; a web-identity call takes its tags from the token instead).
Left out on purpose: long-lived access keys as inputs, ``output-credentials`` (the credentials
are masked environment variables only) and ``unset-current-credentials``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import botocore.exceptions

from action_scripts import aws, oidc_token, runner, validate
from action_scripts.errors import FactoryError
from action_scripts.retry import retry


@dataclass(frozen=True)
class LoginInputs:
    role_arn: str
    region: str
    audience: str
    session_name: str
    duration: int
    allowed_accounts: tuple[str, ...]
    mask_account_id: bool
    max_attempts: int
    chain_role_arn: str = ""
    external_id: str = ""
    inline_policy: str = ""
    managed_policies: tuple[str, ...] = ()
    session_tagging: bool = True


# AWS caps a chained role session at one hour, whatever the role's MaxSessionDuration.
CHAINED_MAX_SECONDS = 3600
# sts:AssumeRole takes at most 10 managed session policies; packed policies at most 2,048 chars.
MAX_MANAGED_POLICIES = 10
POLICY_ARN_EXPECTED = "IAM policy ARNs such as `arn:aws:iam::aws:policy/ReadOnlyAccess`"
EXTERNAL_ID_EXPECTED = "2-1224 characters from letters, digits and `+=,.@:/-_`"


def default_session_name(environ: dict[str, str]) -> str:
    repo = environ.get("GITHUB_REPOSITORY", "").split("/")[-1]
    run_id = environ.get("GITHUB_RUN_ID", "")
    attempt = environ.get("GITHUB_RUN_ATTEMPT", "")
    suffix = f"-{run_id}" + (f"-{attempt}" if attempt else "") if run_id else ""
    return validate.sanitize_session_name(f"gha-{repo}" if repo else "GitHubActions", suffix=suffix)


def read_inputs(environ: dict[str, str]) -> LoginInputs:
    inputs = runner.Inputs(environ)
    role_arn = inputs.matching(
        "role-to-assume", validate.ROLE_ARN, expected=validate.ROLE_ARN_EXPECTED, required=True
    )
    region = inputs.matching(
        "aws-region", validate.REGION, expected=validate.REGION_EXPECTED, required=True
    )
    audience = inputs.matching(
        "audience",
        validate.AUDIENCE,
        expected=validate.AUDIENCE_EXPECTED,
        default="sts.amazonaws.com",
    )
    session_name = inputs.matching(
        "role-session-name",
        validate.SESSION_NAME,
        expected=validate.SESSION_NAME_EXPECTED,
        default=default_session_name(environ),
    )
    duration = inputs.integer("role-duration-seconds", default=3600, minimum=900, maximum=43200)
    accounts = inputs.items("allowed-account-ids")
    bad = [a for a in accounts if not validate.ACCOUNT_ID.fullmatch(a)]
    if bad:
        inputs.problem(
            "allowed-account-ids",
            f"{', '.join(repr(b) for b in bad)} are not account IDs.",
            validate.ACCOUNT_ID_EXPECTED,
        )
    mask_account = inputs.boolean("mask-aws-account-id", default=False)
    attempts = inputs.integer("retry-max-attempts", default=12, minimum=1, maximum=20)
    chain = inputs.raw("chain-role-to-assume")
    if chain:
        chain = inputs.matching("chain-role-to-assume", validate.ROLE_ARN,
                                expected=validate.ROLE_ARN_EXPECTED)
        if duration > CHAINED_MAX_SECONDS:
            inputs.problem(
                "role-duration-seconds",
                f"is {duration}, but AWS limits a chained role session to "
                f"{CHAINED_MAX_SECONDS} seconds.",
                f"at most {CHAINED_MAX_SECONDS} with `chain-role-to-assume`",
            )
    external_id = inputs.raw("role-external-id")
    if external_id:
        if not chain:
            inputs.problem("role-external-id", "is only used with `chain-role-to-assume`.",
                           "empty, or set `chain-role-to-assume` too")
        elif not validate.EXTERNAL_ID.fullmatch(external_id):
            inputs.problem("role-external-id", "has characters STS refuses.",
                           EXTERNAL_ID_EXPECTED)
    inline_policy = inputs.raw("inline-session-policy").strip()
    if inline_policy:
        try:
            parsed = json.loads(inline_policy)
            if not isinstance(parsed, dict) or "Statement" not in parsed:
                raise ValueError("no Statement")
            inline_policy = json.dumps(parsed, separators=(",", ":"))
        except ValueError:
            inputs.problem("inline-session-policy", "is not an IAM policy document.",
                           "a JSON policy with `Version` and `Statement`")
    managed = tuple(inputs.items("managed-session-policies"))
    bad_arns = [a for a in managed if not validate.POLICY_ARN.fullmatch(a)]
    if bad_arns:
        inputs.problem("managed-session-policies",
                       f"{', '.join(repr(a) for a in bad_arns)} are not policy ARNs.",
                       POLICY_ARN_EXPECTED)
    elif len(managed) > MAX_MANAGED_POLICIES:
        inputs.problem("managed-session-policies", f"lists {len(managed)} policies.",
                       f"at most {MAX_MANAGED_POLICIES} policy ARNs (an STS limit)")
    skip_tagging = inputs.boolean("role-skip-session-tagging", default=False)
    inputs.check()
    return LoginInputs(
        role_arn=role_arn,
        region=region,
        audience=audience,
        session_name=session_name,
        duration=duration,
        allowed_accounts=tuple(accounts),
        mask_account_id=mask_account,
        max_attempts=attempts,
        chain_role_arn=chain,
        external_id=external_id,
        inline_policy=inline_policy,
        managed_policies=managed,
        session_tagging=not skip_tagging,
    )


def session_policy_args(inputs: LoginInputs) -> dict[str, Any]:
    """Policy/PolicyArns for the call that makes the final session (they only ever narrow it)."""
    args: dict[str, Any] = {}
    if inputs.inline_policy:
        args["Policy"] = inputs.inline_policy
    if inputs.managed_policies:
        args["PolicyArns"] = [{"arn": arn} for arn in inputs.managed_policies]
    return args


def session_tags(environ: dict[str, str]) -> list[dict[str, str]]:
    """configure-aws-credentials' tag set, sanitized to STS's tag value rules (256 chars)."""
    values = {
        "GitHub": "Actions",
        "Repository": environ.get("GITHUB_REPOSITORY", ""),
        "Workflow": environ.get("GITHUB_WORKFLOW", ""),
        "Action": environ.get("GITHUB_ACTION", ""),
        "Actor": environ.get("GITHUB_ACTOR", ""),
        "Commit": environ.get("GITHUB_SHA", ""),
        "Branch": environ.get("GITHUB_REF", ""),
    }
    return [{"Key": key, "Value": validate.sanitize_tag_value(value)}
            for key, value in values.items() if value]


def check_account(account: str, allowed: tuple[str, ...], *, mask_id: bool) -> None:
    if allowed and account not in allowed:
        shown = "the role's account" if mask_id else f"account {account}"
        raise FactoryError(
            f"`role-to-assume` is in {shown}, which is not in `allowed-account-ids`.",
            title="AWS account not allowed",
            fix="Use a role in one of the allowed accounts, or add the account to "
            "`allowed-account-ids` if this is really the account to deploy to.",
            reason="account-not-allowed",
        )


def fetch_token(environ: dict[str, str], audience: str, attempts: int) -> str:
    url, request_token = oidc_token.token_request_settings(environ)
    runner.mask(request_token)
    try:
        token = retry(
            lambda: oidc_token.request_token(url, request_token, audience),
            attempts=attempts,
            is_transient=lambda exc: (
                isinstance(exc, oidc_token.TokenRequestError) and exc.transient
            ),
            what="Requesting the GitHub OIDC token",
        )
    except oidc_token.TokenRequestError as exc:
        raise FactoryError(
            f"Could not get an OIDC token from the runner: {exc}.",
            title="OIDC token request failed",
            fix="Check that the job has `permissions: id-token: write` and re-run; if GitHub is "
            "having an incident, see docs/runbooks/break-glass-oidc.md.",
            reason="id-token-unavailable",
        ) from exc
    runner.mask(token)
    return token


def access_denied(exc: Exception, token: str, role_arn: str, audience: str) -> FactoryError:
    claims = oidc_token.decode_claims(token)
    condition = oidc_token.trust_condition(claims, audience=audience)
    hints = "\n".join(f"- {hint}" for hint in oidc_token.sub_hints(claims))
    details = (
        "**Claims of the token GitHub issued to this job**\n\n"
        + oidc_token.claims_table(claims)
        + "\n\n**A trust-policy condition on the role that would accept this token**\n\n"
        + "```json\n"
        + json.dumps({"Condition": condition}, indent=2)
        + "\n```\n"
        + (f"\n{hints}\n" if hints else "")
    )
    return FactoryError(
        f"AWS refused AssumeRoleWithWebIdentity for `{role_arn}`: {exc}",
        title="Access denied assuming the role",
        fix="The role's trust policy does not accept this job's token. Compare its "
        "`token.actions.githubusercontent.com:sub` and `:aud` conditions with the claims below "
        "(the `github-oidc` Terraform module writes a matching policy), or use a role meant for "
        "this repository, branch or environment.",
        reason="access-denied",
        details=details,
    )


def assume_role(inputs: LoginInputs, token: str) -> dict[str, Any]:
    sts = aws.client("sts", region=inputs.region, unsigned=True, max_attempts=1)

    def call() -> dict[str, Any]:
        result: dict[str, Any] = sts.assume_role_with_web_identity(
            RoleArn=inputs.role_arn,
            RoleSessionName=inputs.session_name,
            WebIdentityToken=token,
            DurationSeconds=inputs.duration,
            **({} if inputs.chain_role_arn else session_policy_args(inputs)),
        )
        return result

    try:
        return retry(
            call,
            attempts=inputs.max_attempts,
            is_transient=aws.is_transient,
            what="AssumeRoleWithWebIdentity",
        )
    except botocore.exceptions.ClientError as exc:
        code = aws.error_code(exc)
        if code == "AccessDenied":
            raise access_denied(exc, token, inputs.role_arn, inputs.audience) from exc
        if code in {"InvalidIdentityToken", "ExpiredTokenException"}:
            raise FactoryError(
                f"AWS rejected the OIDC token: {exc}",
                title="OIDC token rejected",
                fix="The account needs an IAM OIDC provider for "
                "`https://token.actions.githubusercontent.com` with audience "
                f"`{inputs.audience}` (the `github-oidc` Terraform module creates it), and "
                "`audience` must match the provider's client ID list.",
                reason="invalid-identity-token",
                details=oidc_token.claims_table(oidc_token.decode_claims(token)),
            ) from exc
        if code == "ValidationError" and "DurationSeconds" in str(exc):
            raise FactoryError(
                f"AWS refused the session duration: {exc}",
                title="Session duration above the role's maximum",
                fix="Lower `role-duration-seconds`, or raise the role's `MaxSessionDuration`.",
                reason="invalid-input",
            ) from exc
        raise FactoryError(
            f"AssumeRoleWithWebIdentity failed: {exc}",
            title="Could not assume the role",
            fix="See the AWS error above; transient errors were already retried "
            f"{inputs.max_attempts} times.",
        ) from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise FactoryError(
            f"Could not reach AWS STS: {exc}",
            title="AWS STS unreachable",
            fix="Check the runner's network and `AWS_ENDPOINT_URL`, then re-run.",
        ) from exc


def chain_role(inputs: LoginInputs, credentials: dict[str, str],
               environ: dict[str, str]) -> dict[str, Any]:
    """The OIDC role's session assumes ``chain-role-to-assume`` (sts:AssumeRole)."""
    sts = aws.client("sts", region=inputs.region, credentials=credentials, max_attempts=1)
    args: dict[str, Any] = {
        "RoleArn": inputs.chain_role_arn, "RoleSessionName": inputs.session_name,
        "DurationSeconds": inputs.duration, **session_policy_args(inputs),
    }
    if inputs.external_id:
        args["ExternalId"] = inputs.external_id
    if inputs.session_tagging:
        args["Tags"] = session_tags(environ)
        args["TransitiveTagKeys"] = [tag["Key"] for tag in args["Tags"]]

    def call() -> dict[str, Any]:
        result: dict[str, Any] = sts.assume_role(**args)
        return result

    try:
        return retry(call, attempts=inputs.max_attempts, is_transient=aws.is_transient,
                     what="AssumeRole (chained)")
    except botocore.exceptions.ClientError as exc:
        if aws.error_code(exc) == "AccessDenied":
            raise FactoryError(
                f"`{inputs.role_arn}` may not assume `{inputs.chain_role_arn}`: {exc}",
                title="Access denied chaining to the second role",
                fix="The chained role's trust policy must allow the OIDC role "
                f"(`{inputs.role_arn}`) to call sts:AssumeRole"
                + (" and sts:TagSession (or set `role-skip-session-tagging: true`)"
                   if inputs.session_tagging else "")
                + ", and the OIDC role needs sts:AssumeRole on the chained role.",
                reason="access-denied",
            ) from exc
        raise FactoryError(
            f"AssumeRole of `{inputs.chain_role_arn}` failed: {exc}",
            title="Could not assume the chained role",
            fix="See the AWS error above; transient errors were already retried.",
        ) from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise FactoryError(
            f"Could not reach AWS STS: {exc}", title="AWS STS unreachable",
            fix="Check the runner's network and `AWS_ENDPOINT_URL`, then re-run.",
        ) from exc


def verify(inputs: LoginInputs, credentials: dict[str, str]) -> dict[str, Any]:
    sts = aws.client("sts", region=inputs.region, credentials=credentials)
    try:
        identity: dict[str, Any] = retry(
            sts.get_caller_identity,
            attempts=inputs.max_attempts,
            is_transient=aws.is_transient,
            what="GetCallerIdentity",
        )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        raise FactoryError(
            f"The new credentials did not work for GetCallerIdentity: {exc}",
            title="Credentials failed verification",
            fix="Nothing was exported. Re-run; if it persists, check STS endpoint settings.",
        ) from exc
    return identity


def login(environ: dict[str, str]) -> None:
    inputs = read_inputs(environ)
    role_account = validate.account_of_role(inputs.role_arn)
    if inputs.mask_account_id:
        runner.mask(role_account)
    check_account(role_account, inputs.allowed_accounts, mask_id=inputs.mask_account_id)

    token = fetch_token(environ, inputs.audience, inputs.max_attempts)
    with runner.group(f"Assuming {inputs.role_arn} as session {inputs.session_name}"):
        result = assume_role(inputs, token)
        credentials = result["Credentials"]
        for key in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
            runner.mask(credentials[key])
        identity = verify(inputs, credentials)
    if inputs.chain_role_arn:
        with runner.group(f"Chaining to {inputs.chain_role_arn}"):
            result = chain_role(inputs, credentials, environ)
            credentials = result["Credentials"]
            for key in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
                runner.mask(credentials[key])
            identity = verify(inputs, credentials)

    account = str(identity["Account"])
    if inputs.mask_account_id:
        runner.mask(account)
    check_account(account, inputs.allowed_accounts, mask_id=inputs.mask_account_id)
    expiration = credentials["Expiration"]
    expires = expiration.isoformat() if isinstance(expiration, datetime) else str(expiration)

    runner.export_env("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"], secret=True)
    runner.export_env("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"], secret=True)
    runner.export_env("AWS_SESSION_TOKEN", credentials["SessionToken"], secret=True)
    runner.export_env("AWS_REGION", inputs.region)
    runner.export_env("AWS_DEFAULT_REGION", inputs.region)
    runner.set_output("aws-account-id", account)
    runner.set_output("authenticated-arn", str(identity["Arn"]))
    runner.set_output("aws-expiration", expires)

    shown_arn = (
        str(identity["Arn"]).replace(account, "***")
        if inputs.mask_account_id
        else str(identity["Arn"])
    )
    runner.info(f"Authenticated as {shown_arn} in {inputs.region}; credentials expire {expires}.")
    runner.summary(
        "### ✅ AWS login (OIDC)\n\n"
        "| | |\n| --- | --- |\n"
        f"| identity | `{runner.md_escape(shown_arn)}` |\n"
        f"| region | `{inputs.region}` |\n"
        f"| session | `{inputs.session_name}` |\n"
        f"| expires | {expires} |"
    )


def main() -> int:
    return runner.run_action(lambda: login(dict(os.environ)))


if __name__ == "__main__":
    raise SystemExit(main())
