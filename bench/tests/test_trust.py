"""Tests for the bench's trust-policy evaluation (what makes moto refuse like AWS)."""

from __future__ import annotations

import pytest

from factory_bench import trust

HOST = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::123456789012:oidc-provider/{HOST}"


def policy(condition: dict[str, object], effect: str = "Allow") -> dict[str, object]:
    return {
        "Statement": [
            {
                "Effect": effect,
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            }
        ]
    }


CLAIMS = {
    "sub": "repo:hoopstat-haus/app:ref:refs/heads/main",
    "aud": "sts.amazonaws.com",
    "repository": "hoopstat-haus/app",
}


def test_matching_sub_and_aud_is_allowed() -> None:
    """A StringLike sub pattern and a StringEquals aud that match the claims allow the call."""
    doc = policy(
        {
            "StringEquals": {f"{HOST}:aud": "sts.amazonaws.com"},
            "StringLike": {f"{HOST}:sub": "repo:hoopstat-haus/app:*"},
        }
    )
    trust.evaluate(doc, PROVIDER, HOST, CLAIMS)


def test_other_branch_is_denied() -> None:
    """A sub pinned to main refuses a token from another branch with AccessDenied."""
    doc = policy({"StringLike": {f"{HOST}:sub": "repo:hoopstat-haus/app:ref:refs/heads/main"}})
    with pytest.raises(trust.Denied) as caught:
        trust.evaluate(
            doc, PROVIDER, HOST, {**CLAIMS, "sub": "repo:hoopstat-haus/app:ref:refs/heads/dev"}
        )
    assert caught.value.code == "AccessDenied"


def test_any_of_several_patterns_allows() -> None:
    """A list of sub patterns allows a token matching any one of them."""
    doc = policy({"StringLike": {f"{HOST}:sub": ["repo:x/y:*", "repo:hoopstat-haus/app:ref:*"]}})
    trust.evaluate(doc, PROVIDER, HOST, CLAIMS)


def test_explicit_deny_wins() -> None:
    """A Deny statement whose condition holds overrides an Allow."""
    doc = policy({"StringLike": {f"{HOST}:sub": "repo:hoopstat-haus/*"}})
    doc["Statement"].append(
        {  # type: ignore[attr-defined]
            "Effect": "Deny",
            "Principal": {"Federated": PROVIDER},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{HOST}:repository": "hoopstat-haus/app"}},
        }
    )
    with pytest.raises(trust.Denied):
        trust.evaluate(doc, PROVIDER, HOST, CLAIMS)


def test_other_provider_is_not_trusted() -> None:
    """A statement naming another federated principal does not apply."""
    doc = policy({})
    doc["Statement"][0]["Principal"] = {"Federated": "arn:aws:iam::123456789012:oidc-provider/x"}  # type: ignore[index]
    with pytest.raises(trust.Denied):
        trust.evaluate(doc, PROVIDER, HOST, CLAIMS)


def test_unknown_operator_fails_closed() -> None:
    """A condition operator the bench does not model denies rather than allows."""
    doc = policy({"DateGreaterThan": {f"{HOST}:iat": "2020-01-01T00:00:00Z"}})
    with pytest.raises(trust.Denied):
        trust.evaluate(doc, PROVIDER, HOST, CLAIMS)


def test_wildcards_do_not_treat_brackets_as_classes() -> None:
    """IAM's StringLike knows * and ? only; '[' is literal."""
    doc = policy({"StringLike": {f"{HOST}:sub": "repo:[ab]*"}})
    with pytest.raises(trust.Denied):
        trust.evaluate(doc, PROVIDER, HOST, {**CLAIMS, "sub": "repo:a-thing"})
