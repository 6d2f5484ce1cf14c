"""Tests for the bench's OIDC issuer: GitHub's claim rules and RS256 tokens that verify."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

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


WORKFLOW = "hoopstat-haus/hoopstat-factory/.github/workflows/deploy-lambda-app.yml@refs/tags/v1"


@pytest.mark.parametrize(
    "ctx,sub",
    [
        (  # GitHub docs' example template ["repo", "context", "job_workflow_ref"]
            {"environment": "prod", "job_workflow_ref": WORKFLOW},
            f"repo:o/r:environment:prod:job_workflow_ref:{WORKFLOW}",
        ),
        (
            {"repository_owner_id": "7", "repository_id": "42", "ref": "refs/heads/main"},
            "repository_owner_id:7:repository_id:42:ref:refs/heads/main:job_workflow_ref:"
            "o/r/.github/workflows/deploy.yml@refs/heads/main",
        ),
        (
            {"repository_owner_id": "7", "repository_id": "42", "event_name": "pull_request",
             "ref": "refs/pull/3/merge", "job_workflow_ref": WORKFLOW},
            f"repository_owner_id:7:repository_id:42:pull_request:job_workflow_ref:{WORKFLOW}",
        ),
    ],
)
def test_sub_follows_a_customized_template(ctx: dict[str, str], sub: str) -> None:
    """With sub_claim_keys, sub is each key as key:value joined by ':' in template order, the
    context key giving the bare context and repo the repository."""
    keys = (
        ["repo", "context", "job_workflow_ref"]
        if "environment" in ctx
        else ["repository_owner_id", "repository_id", "context", "job_workflow_ref"]
    )
    claims = github_claims({"repository": "o/r", **ctx, "sub_claim_keys": keys}, "aud")
    assert claims["sub"] == sub


def test_repository_ids_are_claims_with_defaults() -> None:
    """repository_id and repository_owner_id are string claims, from the context or defaults."""
    given = github_claims({"repository_id": 42, "repository_owner_id": 7}, "aud")
    assert (given["repository_id"], given["repository_owner_id"]) == ("42", "7")
    default = github_claims({}, "aud")
    assert default["repository_id"].isdigit() and default["repository_owner_id"].isdigit()


def test_immutable_subjects_name_owner_and_repository_by_id() -> None:
    """With immutable_subjects, the repo part reads repo:<owner>@<owner-id>/<name>@<repo-id>."""
    ctx = {"repository": "octocat/my-repo", "repository_owner_id": "123456",
           "repository_id": "456789", "immutable_subjects": True}
    sub = github_claims(ctx, "aud")["sub"]
    assert sub == "repo:octocat@123456/my-repo@456789:ref:refs/heads/main"


def test_template_key_that_is_no_claim_is_refused() -> None:
    """A template key naming no claim of the token (environment outside one) raises ValueError."""
    with pytest.raises(ValueError, match="environment"):
        github_claims({"sub_claim_keys": ["repo", "environment"]}, "aud")


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


def test_a_gated_token_waits_for_the_gate_to_open(bench: Bench, tmp_path: Path) -> None:
    """With a gate in the context, no token is issued until the gate file says ``open``: a
    request made while it is missing waits, and gets its token once the file appears."""
    gate = tmp_path / "infrastructure.gate"
    env = bench.oidc_env({"repository": "hoopstat-haus/x", "gate": str(gate)})
    threading.Timer(0.5, lambda: gate.write_text("open")).start()
    started = time.monotonic()
    token = request_token(env["ACTIONS_ID_TOKEN_REQUEST_URL"],
                          env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"], "sts.amazonaws.com")
    assert time.monotonic() - started >= 0.5
    assert token.count(".") == 2


def refused_with_503(env: dict[str, str]) -> str:
    """Request a token as the runner does; it must be refused with HTTP 503: its message."""
    request = urllib.request.Request(
        env["ACTIONS_ID_TOKEN_REQUEST_URL"] + "&audience=a",
        headers={"Authorization": f"bearer {env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)
    assert caught.value.code == 503
    return str(json.loads(caught.value.read())["message"])


@pytest.mark.parametrize(("content", "message"), [
    ("terraform apply failed", "terraform apply failed"),
    (None, "still waiting for the environment's protection rule"),
])
def test_a_gate_that_does_not_open_answers_503_with_why(bench: Bench, tmp_path: Path,
                                                        content: str | None,
                                                        message: str) -> None:
    """A gate file saying anything but ``open``, or none within gate_seconds, is an HTTP 503
    (transient: the login action retries) whose message says why; no token is issued."""
    gate = tmp_path / "infrastructure.gate"
    if content is not None:
        gate.write_text(content)
    env = bench.oidc_env({"repository": "hoopstat-haus/x", "gate": str(gate),
                          "gate_seconds": 0.2})
    assert message in refused_with_503(env)


def test_a_gate_that_is_no_gate_file_is_refused_unread(bench: Bench, tmp_path: Path) -> None:
    """The gate path travels in the token URL every step can see: a path not named *.gate (a
    secret file, say) is refused with a 503 that does not echo the file, and no token issued."""
    secret = tmp_path / "credentials"
    secret.write_text("aws_secret_access_key = do-not-echo")
    env = bench.oidc_env({"repository": "hoopstat-haus/x", "gate": str(secret)})
    message = refused_with_503(env)
    assert "a gate is a file named *.gate" in message and "do-not-echo" not in message
