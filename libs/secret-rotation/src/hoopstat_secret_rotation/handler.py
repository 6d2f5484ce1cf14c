"""Secrets Manager rotation Lambda for an API-key style secret.

Secrets Manager invokes this function four times per rotation, each with
``{"Step": ..., "SecretId": ..., "ClientRequestToken": <new version id>}``:

1. ``createSecret`` — generate a key and store it as version *token*, stage ``AWSPENDING``.
2. ``setSecret``    — register the pending key with the provider (authenticated by the current).
3. ``testSecret``   — prove the pending key works.
4. ``finishSecret`` — revoke the key from two rotations ago (``AWSPREVIOUS``), then move
   ``AWSCURRENT`` to *token*; Secrets Manager relabels the old current ``AWSPREVIOUS``.

The key that was current stays valid until the *next* rotation, so apps holding it in a cache
keep working; apps using ``hoopstat_runtime`` pick up the new key on first refusal anyway. Every
step is idempotent: Secrets Manager retries failed steps.

Configuration (environment): ``ROTATION_KEY_FIELD`` (JSON field holding the key; default
``api_key``; plain-string secrets are the key itself), ``ROTATION_KEY_LENGTH`` (default 40),
``ROTATION_PROVIDER_URL`` (optional: see :mod:`providers`), ``ROTATION_REVOKE_PREVIOUS``
(``true``/``false``, default ``true``).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

from hoopstat_secret_rotation.providers import (
    HttpKeyProvider,
    KeyProvider,
    RotationError,
    SelfContained,
)

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
MIN_KEY_LENGTH = 20
MAX_KEY_LENGTH = 4096

log = logging.getLogger("hoopstat_secret_rotation")
log.setLevel(logging.INFO)


@dataclass(frozen=True)
class RotationConfig:
    key_field: str = "api_key"
    key_length: int = 40
    provider_url: str | None = None
    revoke_previous: bool = True

    @classmethod
    def from_env(cls) -> RotationConfig:
        length = os.environ.get("ROTATION_KEY_LENGTH", "40")
        if not length.isdigit() or not MIN_KEY_LENGTH <= int(length) <= MAX_KEY_LENGTH:
            raise RotationError(
                f"ROTATION_KEY_LENGTH must be a whole number from {MIN_KEY_LENGTH} to "
                f"{MAX_KEY_LENGTH}"
            )
        revoke = os.environ.get("ROTATION_REVOKE_PREVIOUS", "true").lower()
        if revoke not in {"true", "false"}:
            raise RotationError("ROTATION_REVOKE_PREVIOUS must be true or false")
        field = os.environ.get("ROTATION_KEY_FIELD", "api_key")
        if not field:
            raise RotationError("ROTATION_KEY_FIELD must not be empty")
        return cls(key_field=field, key_length=int(length),
                   provider_url=os.environ.get("ROTATION_PROVIDER_URL") or None,
                   revoke_previous=revoke == "true")

    def provider(self) -> KeyProvider:
        return HttpKeyProvider(self.provider_url) if self.provider_url else SelfContained()


@dataclass(frozen=True)
class RotationRequest:
    step: str
    secret_id: str
    token: str

    @classmethod
    def parse(cls, event: Any) -> RotationRequest:
        if not isinstance(event, dict):
            raise RotationError("event must be an object with Step, SecretId, ClientRequestToken")
        step, secret_id, token = (event.get(k) for k in ("Step", "SecretId", "ClientRequestToken"))
        if step not in STEPS:
            raise RotationError(f"Step must be one of {', '.join(STEPS)}; got {step!r}")
        if not isinstance(secret_id, str) or not secret_id:
            raise RotationError("SecretId must be a non-empty string")
        if not isinstance(token, str) or not 32 <= len(token) <= 64:
            raise RotationError("ClientRequestToken must be a 32-64 character version id")
        return cls(step=step, secret_id=secret_id, token=token)


def lambda_handler(event: Any, context: Any) -> None:
    """Entry point: ``hoopstat_secret_rotation.handler.lambda_handler``."""
    request = RotationRequest.parse(event)
    config = RotationConfig.from_env()
    client = boto3.session.Session().client(
        "secretsmanager", config=Config(retries={"mode": "standard", "max_attempts": 5})
    )
    rotate(client, request, config=config, provider=config.provider())


def rotate(client: Any, request: RotationRequest, *, config: RotationConfig,
           provider: KeyProvider) -> None:
    """Run one step after the checks every step needs (rotation enabled, token staged)."""
    metadata = client.describe_secret(SecretId=request.secret_id)
    if not metadata.get("RotationEnabled"):
        raise RotationError(f"rotation is not enabled for {request.secret_id}")
    stages = metadata.get("VersionIdsToStages", {})
    if request.token not in stages:
        raise RotationError(f"version {request.token} has no stage for rotation")
    if "AWSCURRENT" in stages[request.token]:
        _log(request, "version is already AWSCURRENT; nothing to do")
        return
    if "AWSPENDING" not in stages[request.token]:
        raise RotationError(f"version {request.token} is not AWSPENDING")
    step = {"createSecret": _create, "setSecret": _set, "testSecret": _test,
            "finishSecret": _finish}[request.step]
    step(client, request, config, provider, stages)


def _create(client: Any, request: RotationRequest, config: RotationConfig,
            provider: KeyProvider, stages: dict[str, list[str]]) -> None:
    current = _value(client, request.secret_id, stage="AWSCURRENT")
    try:
        _value(client, request.secret_id, stage="AWSPENDING", version=request.token)
        _log(request, "pending version already has a value; keeping it")
        return
    except botocore.exceptions.ClientError as exc:
        if _code(exc) != "ResourceNotFoundException":
            raise
    key = client.get_random_password(
        PasswordLength=config.key_length, ExcludePunctuation=True, IncludeSpace=False,
    )["RandomPassword"]
    client.put_secret_value(
        SecretId=request.secret_id, ClientRequestToken=request.token,
        SecretString=_with_key(current, key, config), VersionStages=["AWSPENDING"],
    )
    _log(request, "stored a new key as AWSPENDING")


def _set(client: Any, request: RotationRequest, config: RotationConfig,
         provider: KeyProvider, stages: dict[str, list[str]]) -> None:
    current = _key(_value(client, request.secret_id, stage="AWSCURRENT"), config)
    pending = _key(_value(client, request.secret_id, stage="AWSPENDING", version=request.token),
                   config)
    provider.register(current=current, pending=pending)
    _log(request, "registered the pending key with the provider")


def _test(client: Any, request: RotationRequest, config: RotationConfig,
          provider: KeyProvider, stages: dict[str, list[str]]) -> None:
    pending = _key(_value(client, request.secret_id, stage="AWSPENDING", version=request.token),
                   config)
    if len(pending) < MIN_KEY_LENGTH:
        raise RotationError("pending key is shorter than the minimum length")
    provider.check(key=pending)
    _log(request, "pending key works")


def _finish(client: Any, request: RotationRequest, config: RotationConfig,
            provider: KeyProvider, stages: dict[str, list[str]]) -> None:
    current_version = next(v for v, s in stages.items() if "AWSCURRENT" in s)
    previous_version = next((v for v, s in stages.items() if "AWSPREVIOUS" in s), None)
    if config.revoke_previous and previous_version not in (None, request.token):
        previous = _key(_value(client, request.secret_id, stage="AWSPREVIOUS"), config)
        current = _key(_value(client, request.secret_id, stage="AWSCURRENT"), config)
        if previous != current:
            provider.revoke(key=previous)
            _log(request, "revoked the key from two rotations ago (AWSPREVIOUS)")
    client.update_secret_version_stage(
        SecretId=request.secret_id, VersionStage="AWSCURRENT",
        MoveToVersionId=request.token, RemoveFromVersionId=current_version,
    )
    # Leave no AWSPENDING behind: a stale label makes the next RotateSecret look in progress
    # (moto refuses it outright) and would hand runtime clients an outdated "newer" value.
    client.update_secret_version_stage(
        SecretId=request.secret_id, VersionStage="AWSPENDING", RemoveFromVersionId=request.token,
    )
    _log(request, "moved AWSCURRENT to the new version")


def _value(client: Any, secret_id: str, *, stage: str, version: str | None = None) -> str:
    options = {"SecretId": secret_id, "VersionStage": stage}
    if version:
        options["VersionId"] = version
    response = client.get_secret_value(**options)
    if "SecretString" not in response:
        raise RotationError(f"{stage} of {secret_id} is binary; only string secrets rotate here")
    return str(response["SecretString"])


def _parse_object(text: str) -> dict[str, Any] | None:
    if not text.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise RotationError("secret starts like JSON but does not parse") from None
    return value if isinstance(value, dict) else None


def _key(text: str, config: RotationConfig) -> str:
    document = _parse_object(text)
    if document is None:
        return text
    key = document.get(config.key_field)
    if not isinstance(key, str):
        raise RotationError(f"JSON secret has no string field {config.key_field!r}")
    return key


def _with_key(current: str, key: str, config: RotationConfig) -> str:
    document = _parse_object(current)
    if document is None:
        return key
    if not isinstance(document.get(config.key_field), str):
        raise RotationError(f"JSON secret has no string field {config.key_field!r}")
    # Other fields (user name, endpoint...) carry over unchanged.
    return json.dumps({**document, config.key_field: key})


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _log(request: RotationRequest, message: str) -> None:
    # Structured, and by construction free of secret values: only ids and fixed text.
    log.info(json.dumps({"step": request.step, "secret_id": request.secret_id,
                         "version": request.token, "message": message}))
