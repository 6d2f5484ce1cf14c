"""get_secret / call_with_secret against Secrets Manager on the moto server."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from hoopstat_runtime import (
    ConfigurationError,
    Observability,
    SecretAccessDeniedError,
    SecretFormatError,
    SecretNotFoundError,
    SecretRejectedError,
    Secrets,
    SecretUnavailableError,
    get_secret,
)
from hoopstat_runtime import secrets as secrets_module


class Upstream:
    """A fake third-party API (no real one offline) that accepts only the keys it has issued."""

    def __init__(self, *keys: str) -> None:
        self.valid = set(keys)
        self.served = 0
        self.refused = 0

    def call(self, key: str) -> str:
        if key not in self.valid:
            self.refused += 1
            raise SecretRejectedError("401 Unauthorized")
        self.served += 1
        return "ok"


def rotate(sm: Any, name: str, new_value: str, *, finish: bool = True) -> str:
    """Do to the secret what a rotation function does: stage AWSPENDING, then promote it."""
    token = str(uuid.uuid4())
    sm.put_secret_value(SecretId=name, ClientRequestToken=token, SecretString=new_value,
                        VersionStages=["AWSPENDING"])
    if finish:
        current = next(v for v, stages in sm.describe_secret(SecretId=name)["VersionIdsToStages"]
                       .items() if "AWSCURRENT" in stages)
        sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT",
                                       MoveToVersionId=token, RemoveFromVersionId=current)
    return token


def test_get_secret_string_and_json(aws: Any, unique: str) -> None:
    """get_secret returns a string secret as-is and a JSON secret as a dict with as_json."""
    sm = aws.admin_client("secretsmanager")
    sm.create_secret(Name=f"plain-{unique}", SecretString="s3cr3t-plain-value")
    sm.create_secret(Name=f"json-{unique}", SecretString=json.dumps({"api_key": "k-123456"}))
    assert get_secret(f"plain-{unique}") == "s3cr3t-plain-value"
    assert get_secret(f"json-{unique}", as_json=True) == {"api_key": "k-123456"}


def test_cached_within_ttl_then_refreshed(aws: Any, unique: str) -> None:
    """Within the TTL the cached value is served without a call; refresh=True fetches anew."""
    sm = aws.admin_client("secretsmanager")
    name = f"ttl-{unique}"
    sm.create_secret(Name=name, SecretString="first-value")
    reader = Secrets(max_age=3600)
    assert reader.get_secret(name) == "first-value"
    sm.put_secret_value(SecretId=name, SecretString="second-value")
    assert reader.get_secret(name) == "first-value"
    assert reader.fetches == 1
    assert reader.get_secret(name, refresh=True) == "second-value"
    assert reader.fetches == 2


def test_zero_ttl_always_fetches(aws: Any, unique: str) -> None:
    """max_age=0 disables the cache, so a changed value is seen on the next call."""
    sm = aws.admin_client("secretsmanager")
    name = f"nocache-{unique}"
    sm.create_secret(Name=name, SecretString="value-one")
    reader = Secrets(max_age=0)
    assert reader.get_secret(name) == "value-one"
    sm.put_secret_value(SecretId=name, SecretString="value-two")
    assert reader.get_secret(name) == "value-two"
    assert reader.fetches == 2


def test_rotated_secret_picked_up_without_failed_request(aws: Any, unique: str) -> None:
    """After a rotation that revokes the old key at once, every app request still succeeds."""
    sm = aws.admin_client("secretsmanager")
    name = f"rotating-{unique}"
    sm.create_secret(Name=name, SecretString="key-generation-1")
    upstream = Upstream("key-generation-1")
    app = Secrets(max_age=3600)  # long TTL: only the rejection path can explain a pick-up
    results = [app.call_with_secret(name, upstream.call) for _ in range(3)]

    rotate(sm, name, "key-generation-2")
    upstream.valid = {"key-generation-2"}  # the provider revokes the old key immediately
    results += [app.call_with_secret(name, upstream.call) for _ in range(3)]

    assert results == ["ok"] * 6
    assert upstream.served == 6
    assert upstream.refused == 1  # one internal refusal, absorbed by the refresh
    assert app.fetches == 2
    assert app.get_secret(name) == "key-generation-2"


def test_pending_value_used_mid_rotation(aws: Any, unique: str) -> None:
    """Between setSecret and finishSecret, a refused AWSCURRENT falls back to AWSPENDING."""
    sm = aws.admin_client("secretsmanager")
    name = f"midrotation-{unique}"
    sm.create_secret(Name=name, SecretString="old-api-key-1")
    upstream = Upstream("old-api-key-1")
    app = Secrets(max_age=3600)
    assert app.call_with_secret(name, upstream.call) == "ok"

    rotate(sm, name, "new-api-key-2", finish=False)
    upstream.valid = {"new-api-key-2"}
    assert app.call_with_secret(name, upstream.call) == "ok"
    assert app.call_with_secret(name, upstream.call) == "ok"
    assert upstream.refused == 1  # the pending value was cached after it worked


def test_really_bad_secret_still_fails_and_is_not_refetched_in_a_loop(
    aws: Any, unique: str
) -> None:
    """A key never accepted raises SecretRejectedError; the cooldown limits refetches."""
    sm = aws.admin_client("secretsmanager")
    name = f"revoked-{unique}"
    sm.create_secret(Name=name, SecretString="revoked-key-1")
    upstream = Upstream()
    now = [100.0]
    app = Secrets(max_age=3600, refresh_cooldown=30, clock=lambda: now[0])
    with pytest.raises(SecretRejectedError):
        app.call_with_secret(name, upstream.call)
    fetches = app.fetches
    with pytest.raises(SecretRejectedError):
        app.call_with_secret(name, upstream.call)
    assert app.fetches == fetches  # within the cooldown: no new Secrets Manager call
    now[0] += 31
    with pytest.raises(SecretRejectedError):
        app.call_with_secret(name, upstream.call)
    assert app.fetches > fetches


def test_missing_secret_is_typed(aws: Any, unique: str) -> None:
    """A secret that does not exist raises SecretNotFoundError naming it."""
    with pytest.raises(SecretNotFoundError) as raised:
        get_secret(f"nope-{unique}")
    assert raised.value.name == f"nope-{unique}"


def test_non_json_secret_error_does_not_quote_the_value(aws: Any, unique: str) -> None:
    """as_json on a non-JSON secret raises SecretFormatError whose text and chain omit the value."""
    sm = aws.admin_client("secretsmanager")
    sm.create_secret(Name=f"notjson-{unique}", SecretString="{not json hunter2-secret")
    with pytest.raises(SecretFormatError) as raised:
        get_secret(f"notjson-{unique}", as_json=True)
    assert "hunter2" not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.parametrize(
    ("code", "expected"),
    [("AccessDeniedException", SecretAccessDeniedError),
     ("DecryptionFailure", SecretAccessDeniedError),
     ("InternalServiceError", SecretUnavailableError)],
)
def test_client_error_codes_map_to_types(code: str, expected: type[Exception]) -> None:
    """Each Secrets Manager error code maps to the typed error an app can act on."""
    error = botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": "m"}}, "GetSecretValue"
    )
    translated = secrets_module._translate_code(code, "db", str(error))
    assert type(translated) is expected
    if expected is SecretAccessDeniedError:
        assert "secretsmanager:GetSecretValue" in str(translated)


def test_local_source_serves_file(
    monkeypatch: pytest.MonkeyPatch, secrets_file: Path, aws: Any
) -> None:
    """HOOPSTAT_LOCAL_SECRETS_FILE serves string and JSON secrets from a file outside Lambda."""
    secrets_file.write_text(json.dumps({"api": "local-key-1", "db": {"password": "pw-local"}}))
    monkeypatch.setenv("HOOPSTAT_LOCAL_SECRETS_FILE", str(secrets_file))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # any AWS call would fail
    assert get_secret("api") == "local-key-1"
    assert get_secret("db", as_json=True) == {"password": "pw-local"}
    with pytest.raises(SecretNotFoundError):
        get_secret("missing")


@pytest.mark.parametrize(
    ("variable", "value"),
    [("AWS_LAMBDA_FUNCTION_NAME", "hello-stats"), ("AWS_EXECUTION_ENV", "AWS_Lambda_python3.12")],
)
def test_local_source_refused_in_lambda(
    monkeypatch: pytest.MonkeyPatch, secrets_file: Path, aws: Any, variable: str, value: str
) -> None:
    """Inside Lambda the local source refuses to start instead of shadowing Secrets Manager."""
    secrets_file.write_text(json.dumps({"api": "local-key-1"}))
    monkeypatch.setenv("HOOPSTAT_LOCAL_SECRETS_FILE", str(secrets_file))
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match="inside Lambda"):
        get_secret("api")


def test_bad_max_age_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch, aws: Any) -> None:
    """A non-numeric HOOPSTAT_SECRETS_MAX_AGE is refused before any AWS call."""
    monkeypatch.setenv("HOOPSTAT_SECRETS_MAX_AGE", "5m")
    with pytest.raises(ConfigurationError, match="HOOPSTAT_SECRETS_MAX_AGE"):
        get_secret("anything")


def test_secret_never_appears_in_logs(aws: Any, unique: str) -> None:
    """Secrets read through the library are masked in messages, extra keys and tracebacks."""
    sm = aws.admin_client("secretsmanager")
    plain = 'pl4in-"quoted"-sécret'
    sm.create_secret(Name=f"log-plain-{unique}", SecretString=plain)
    sm.create_secret(Name=f"log-json-{unique}",
                     SecretString=json.dumps({"user": "svc", "password": "json-leaf-p4ss"}))
    stream = io.StringIO()
    obs = Observability(service=f"redaction-{unique}", stream=stream)
    value = get_secret(f"log-plain-{unique}")
    creds = get_secret(f"log-json-{unique}", as_json=True)

    obs.logger.info(f"connecting with {value}")
    obs.logger.info("credentials", extra={"creds": creds, "raw": json.dumps(creds)})
    try:
        raise RuntimeError(f"login failed for password={creds['password']}")
    except RuntimeError:
        obs.logger.exception("boom")

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 3
    text = stream.getvalue()
    for leaked in (plain, json.dumps(plain)[1:-1], "json-leaf-p4ss"):
        assert leaked not in text
    assert "***" in lines[0]["message"]
    assert lines[1]["creds"]["user"] == "svc"  # too short to be a secret: left readable
    assert "***" in lines[2]["exception"]
