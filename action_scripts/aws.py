"""The one place that makes boto3 sessions and clients.

Region comes from the caller or ``AWS_REGION``/``AWS_DEFAULT_REGION``; endpoint overrides come
from boto3's own ``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_<SERVICE>`` support (not re-implemented
here); retries use botocore's standard mode; the user agent names the suite.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
import botocore.exceptions
from botocore import UNSIGNED
from botocore.config import Config

from action_scripts import __version__, runner
from action_scripts.errors import FactoryError

USER_AGENT_APPID = f"hoopstat-factory/{__version__}"

# botocore's "standard" mode retries throttling and 5xx with its own jittered backoff.
DEFAULT_MAX_ATTEMPTS = 5

TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "IDPCommunicationError",
    }
)


def resolve_region(region: str | None = None, *, input_name: str | None = None) -> str:
    """``region``, else ``AWS_REGION``/``AWS_DEFAULT_REGION``.

    ``input_name`` is the calling action's region input, if it has one: the fix names it (as a
    flag at a terminal); an action without one is told about ``AWS_REGION`` only.
    """
    found = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not found:
        if input_name:
            fix = f"Pass {runner.input_hint(input_name)}, or set `AWS_REGION`."
        elif runner.in_actions():
            fix = ("Run `oidc-login` earlier in the job (it exports `AWS_REGION`), or set "
                   "`AWS_REGION` in the step's `env:`.")
        else:
            fix = "Set the region in the environment, e.g. `export AWS_REGION=us-east-1`."
        raise FactoryError("No AWS region is set.", title="AWS region missing", fix=fix,
                           reason="invalid-input")
    return found


def client_config(*, max_attempts: int = DEFAULT_MAX_ATTEMPTS, unsigned: bool = False) -> Config:
    options: dict[str, Any] = {
        "retries": {"mode": "standard", "max_attempts": max_attempts},
        "user_agent_appid": USER_AGENT_APPID,
    }
    if unsigned:
        options["signature_version"] = UNSIGNED
    return Config(**options)


def session(
    *, region: str | None = None, credentials: dict[str, str] | None = None
) -> boto3.session.Session:
    creds = credentials or {}
    return boto3.session.Session(
        region_name=resolve_region(region),
        aws_access_key_id=creds.get("AccessKeyId"),
        aws_secret_access_key=creds.get("SecretAccessKey"),
        aws_session_token=creds.get("SessionToken"),
    )


def client(
    service: str,
    *,
    region: str | None = None,
    credentials: dict[str, str] | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    unsigned: bool = False,
) -> Any:
    """A boto3 client with the suite's retry mode and user agent."""
    config = client_config(max_attempts=max_attempts, unsigned=unsigned)
    # Typed as Any: boto3-stubs types clients per literal service name, callers narrow if useful.
    made: Any = session(region=region, credentials=credentials)
    return made.client(service, config=config)


def error_code(exc: BaseException) -> str:
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def is_transient(exc: BaseException) -> bool:
    """Throttling, 5xx and connection failures are worth retrying; nothing else is."""
    if isinstance(
        exc,
        botocore.exceptions.EndpointConnectionError
        | botocore.exceptions.ConnectionClosedError
        | botocore.exceptions.ReadTimeoutError
        | botocore.exceptions.ConnectTimeoutError,
    ):
        return True
    if isinstance(exc, botocore.exceptions.ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return error_code(exc) in TRANSIENT_CODES or status >= 500
    return False
