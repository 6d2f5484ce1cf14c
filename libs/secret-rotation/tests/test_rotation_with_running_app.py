"""A running app (hoopstat_runtime) keeps serving while the rotation handler rotates its key."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from fake_key_provider import FakeKeyProvider, serving
from hoopstat_runtime import SecretRejectedError, Secrets
from rotation_testkit import Secret, run_steps, start_rotation, value_at


def fetch_stats(provider_url: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The app's call to the upstream API, reporting a refused key the way the runtime expects."""

    def call(secret: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 - local fake provider
            f"{provider_url}/stats", headers={"Authorization": f"Bearer {secret['api_key']}"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            if exc.code in {401, 403}:
                raise SecretRejectedError(f"upstream answered {exc.code}") from None
            raise

    return call


@pytest.mark.parametrize("single_key", [False, True], ids=["lenient-provider", "one-key-provider"])
def test_rotated_secret_picked_up_without_failed_request(
    aws: Any, make_secret: Callable[[str], Secret], rotation_function: str,
    monkeypatch: pytest.MonkeyPatch, single_key: bool,
) -> None:
    """Requests before, between and after every rotation step all succeed, even when the
    provider invalidates the old key the moment a new one is registered."""
    old = "app-key-generation-1-abcdef"
    secret = make_secret(json.dumps({"api_key": old}))
    app = Secrets(max_age=3600)
    outcomes: list[str] = []
    with serving(FakeKeyProvider(old, single_key=single_key)) as provider:
        monkeypatch.setenv("ROTATION_PROVIDER_URL", provider.url)
        call = fetch_stats(provider.url)

        def request(_: str = "") -> None:
            try:
                app.call_with_secret(secret["name"], call, as_json=True)
                outcomes.append("ok")
            except Exception as exc:  # any failure the app's caller would see
                outcomes.append(f"failed: {exc!r}")

        request()
        run_steps(secret, start_rotation(aws, secret, rotation_function), between=request)
        request()

    assert outcomes == ["ok"] * 6
    new_key = json.loads(value_at(aws, secret, "AWSCURRENT"))["api_key"]
    cached = app.get_secret(secret["name"], as_json=True)["api_key"]
    refused = [r for r in provider.requests if r[1] == "/stats" and r[2] == 401]
    if single_key:
        # The old key died at setSecret; one refusal was absorbed and the new key adopted.
        assert len(refused) == 1 and cached == new_key
    else:
        # The old key stays valid until the next rotation, so the cache may serve it.
        assert refused == [] and cached == old
