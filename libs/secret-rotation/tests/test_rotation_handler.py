"""The rotation handler's four steps against Secrets Manager on the moto server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fake_key_provider import FakeKeyProvider, serving
from rotation_testkit import Secret, run_steps, stages, start_rotation, step_event, value_at

from hoopstat_secret_rotation import handler
from hoopstat_secret_rotation.providers import RotationError

MakeSecret = Callable[[str], Secret]


def test_plain_secret_full_rotation(aws: Any, make_secret: MakeSecret, rotation_function: str
                                    ) -> None:
    """The four steps replace a plain key with a new 40-character one; the old is AWSPREVIOUS."""
    secret = make_secret("initial-key-0123456789abcdef")
    token = start_rotation(aws, secret, rotation_function)
    run_steps(secret, token)

    new = value_at(aws, secret, "AWSCURRENT")
    assert new != "initial-key-0123456789abcdef" and len(new) == 40 and new.isalnum()
    assert value_at(aws, secret, "AWSPREVIOUS") == "initial-key-0123456789abcdef"
    after = stages(aws, secret)
    assert after[token] == ["AWSCURRENT"]
    assert not any("AWSPENDING" in s for s in after.values())


def test_json_secret_with_provider(aws: Any, make_secret: MakeSecret, rotation_function: str,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A JSON secret gets a new api_key registered and tested at the provider; other fields stay."""
    old = "old-key-abcdefghijklmnopqrst"
    secret = make_secret(json.dumps({"api_key": old, "base_url": "https://stats.example"}))
    with serving(FakeKeyProvider(old)) as provider:
        monkeypatch.setenv("ROTATION_PROVIDER_URL", provider.url)
        token = start_rotation(aws, secret, rotation_function)
        run_steps(secret, token)

    current = json.loads(value_at(aws, secret, "AWSCURRENT"))
    assert current["base_url"] == "https://stats.example"
    assert current["api_key"] != old and current["api_key"] in provider.keys
    assert old in provider.keys  # still valid: apps may hold it in their cache
    assert provider.requests == [("POST", "/keys", 201), ("GET", "/keys/self", 200)]


def test_second_rotation_revokes_the_key_from_two_rotations_ago(
    aws: Any, make_secret: MakeSecret, rotation_function: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the next rotation's finish, the AWSPREVIOUS key is revoked at the provider."""
    first = "generation-one-key-abcdefgh"
    secret = make_secret(first)
    with serving(FakeKeyProvider(first)) as provider:
        monkeypatch.setenv("ROTATION_PROVIDER_URL", provider.url)
        run_steps(secret, start_rotation(aws, secret, rotation_function))
        second = value_at(aws, secret, "AWSCURRENT")
        run_steps(secret, start_rotation(aws, secret, rotation_function))
        third = value_at(aws, secret, "AWSCURRENT")
    assert provider.keys == {second, third}
    assert value_at(aws, secret, "AWSPREVIOUS") == second
    assert ("DELETE", "/keys/self", 204) in provider.requests


def test_steps_are_idempotent(aws: Any, make_secret: MakeSecret, rotation_function: str) -> None:
    """Retried steps (as Secrets Manager does) keep the same pending key and finish once."""
    secret = make_secret("idempotent-key-abcdefghijk")
    token = start_rotation(aws, secret, rotation_function)
    handler.lambda_handler(step_event(secret, token, "createSecret"), None)
    pending = value_at(aws, secret, "AWSPENDING")
    handler.lambda_handler(step_event(secret, token, "createSecret"), None)
    assert value_at(aws, secret, "AWSPENDING") == pending
    run_steps(secret, token, steps=("setSecret", "testSecret", "finishSecret", "finishSecret"))
    assert value_at(aws, secret, "AWSCURRENT") == pending


def test_provider_refusal_fails_set_and_leaves_current(
    aws: Any, make_secret: MakeSecret, rotation_function: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the provider refuses the current key, setSecret fails and AWSCURRENT is unchanged."""
    secret = make_secret("not-known-to-provider-abcdef")
    with serving(FakeKeyProvider("some-other-key-abcdefghij")) as provider:
        monkeypatch.setenv("ROTATION_PROVIDER_URL", provider.url)
        token = start_rotation(aws, secret, rotation_function)
        handler.lambda_handler(step_event(secret, token, "createSecret"), None)
        with pytest.raises(RotationError, match="HTTP 401") as raised:
            handler.lambda_handler(step_event(secret, token, "setSecret"), None)
    assert value_at(aws, secret, "AWSCURRENT") == "not-known-to-provider-abcdef"
    assert value_at(aws, secret, "AWSPENDING") not in str(raised.value)


def test_test_step_fails_when_pending_key_not_accepted(
    aws: Any, make_secret: MakeSecret, rotation_function: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """testSecret fails when the provider does not accept the pending key (set never happened)."""
    old = "known-key-abcdefghijklmnop"
    secret = make_secret(old)
    with serving(FakeKeyProvider(old)) as provider:
        monkeypatch.setenv("ROTATION_PROVIDER_URL", provider.url)
        token = start_rotation(aws, secret, rotation_function)
        handler.lambda_handler(step_event(secret, token, "createSecret"), None)
        with pytest.raises(RotationError, match="does not accept"):
            handler.lambda_handler(step_event(secret, token, "testSecret"), None)
    assert value_at(aws, secret, "AWSCURRENT") == old


def test_unknown_token_and_disabled_rotation_refused(
    aws: Any, make_secret: MakeSecret, rotation_function: str
) -> None:
    """A token that is not staged, or a secret without rotation, is refused without changes."""
    secret = make_secret("steady-key-abcdefghijklmnop")
    with pytest.raises(RotationError, match="not enabled"):
        handler.lambda_handler(step_event(secret, "a" * 36, "createSecret"), None)
    start_rotation(aws, secret, rotation_function)
    with pytest.raises(RotationError, match="no stage"):
        handler.lambda_handler(step_event(secret, "b" * 36, "createSecret"), None)
    assert value_at(aws, secret, "AWSCURRENT") == "steady-key-abcdefghijklmnop"


def test_json_secret_without_key_field_refused(
    aws: Any, make_secret: MakeSecret, rotation_function: str
) -> None:
    """A JSON secret lacking the configured key field fails createSecret, naming the field."""
    secret = make_secret(json.dumps({"password": "pw-abcdefghijklmnopqrstu"}))
    token = start_rotation(aws, secret, rotation_function)
    with pytest.raises(RotationError, match="'api_key'"):
        handler.lambda_handler(step_event(secret, token, "createSecret"), None)
    assert not any("AWSPENDING" in s for v, s in stages(aws, secret).items() if v != token)


@pytest.mark.parametrize(
    ("event", "match"),
    [({"Step": "deleteSecret", "SecretId": "s", "ClientRequestToken": "a" * 36}, "Step"),
     ({"Step": "createSecret", "SecretId": "", "ClientRequestToken": "a" * 36}, "SecretId"),
     ({"Step": "createSecret", "SecretId": "s", "ClientRequestToken": "short"}, "Token"),
     ([], "object")],
)
def test_malformed_events_refused_before_any_call(
    event: Any, match: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Malformed events are refused before any AWS call (the endpoint here is unreachable)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    with pytest.raises(RotationError, match=match):
        handler.lambda_handler(event, None)


@pytest.mark.parametrize(
    ("variable", "value", "match"),
    [("ROTATION_KEY_LENGTH", "8", "ROTATION_KEY_LENGTH"),
     ("ROTATION_REVOKE_PREVIOUS", "yes", "ROTATION_REVOKE_PREVIOUS"),
     ("ROTATION_PROVIDER_URL", "http://provider.example", "https://")],
)
def test_bad_configuration_refused(
    aws: Any, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, match: str
) -> None:
    """Bad rotation settings fail the step with a message naming the variable."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(RotationError, match=match):
        handler.lambda_handler(
            {"Step": "createSecret", "SecretId": "s", "ClientRequestToken": "a" * 36}, None)
