"""Tests for the bench's OIDC issuer: GitHub's claim rules and RS256 tokens that verify."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from action_scripts.oidc_token import request_token
from factory_bench import jwt
from factory_bench.oidc_issuer import GITHUB_ISSUER, github_claims
from factory_bench.stack import Bench


@pytest.mark.parametrize(
    "ctx,sub",
    [
        ({"repository": "o/r", "ref": "refs/heads/main"}, "repo:o/r:ref:refs/heads/main"),
        ({"repository": "o/r", "environment": "prod"}, "repo:o/r:environment:prod"),
        (
            {"repository": "o/r", "event_name": "pull_request", "ref": "refs/pull/3/merge"},
            "repo:o/r:pull_request",
        ),
    ],
)
def test_sub_follows_github_rules(ctx: dict[str, str], sub: str) -> None:
    """sub is the environment form in an environment, pull_request on PRs, else the ref form."""
    assert github_claims(ctx, "sts.amazonaws.com")["sub"] == sub


def test_served_token_verifies_against_jwks(bench: Bench) -> None:
    """A token from the runner-style endpoint is RS256-signed by a key in the issuer's JWKS."""
    env = bench.oidc_env({"repository": "hoopstat-haus/x", "ref": "refs/heads/main"})
    token = request_token(
        env["ACTIONS_ID_TOKEN_REQUEST_URL"],
        env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"],
        "sts.amazonaws.com",
    )
    with urllib.request.urlopen(f"{bench.issuer_url}/.well-known/jwks") as response:
        jwks = json.loads(response.read())
    claims = jwt.verify(token, jwks)
    assert claims["iss"] == GITHUB_ISSUER
    assert claims["aud"] == "sts.amazonaws.com"
    assert claims["repository"] == "hoopstat-haus/x"


def test_endpoint_requires_the_request_token(bench: Bench) -> None:
    """Without the runner's bearer request token, the endpoint refuses (HTTP 401)."""
    env = bench.oidc_env({"repository": "hoopstat-haus/x"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(env["ACTIONS_ID_TOKEN_REQUEST_URL"] + "&audience=a")
    assert caught.value.code == 401


def test_tampered_token_fails_verification(bench: Bench) -> None:
    """Changing a claim breaks the signature."""
    env = bench.oidc_env({"repository": "hoopstat-haus/x"})
    token = request_token(
        env["ACTIONS_ID_TOKEN_REQUEST_URL"],
        env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"],
        "sts.amazonaws.com",
    )
    head, body, sig = token.split(".")
    claims = json.loads(jwt.b64url_decode(body))
    claims["sub"] = "repo:evil/x:ref:refs/heads/main"
    forged = f"{head}.{jwt.b64url(json.dumps(claims).encode())}.{sig}"
    with urllib.request.urlopen(f"{bench.issuer_url}/.well-known/jwks") as response:
        jwks = json.loads(response.read())
    with pytest.raises(jwt.TokenInvalid):
        jwt.verify(forged, jwks)
