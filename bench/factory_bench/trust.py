"""Evaluate an IAM role trust policy for AssumeRoleWithWebIdentity, as AWS does.

moto accepts any web-identity token; the bench's moto extension calls :func:`evaluate` so that
the bench refuses what AWS would refuse: an unknown OIDC provider, a wrong audience, a bad
signature, an expired token, or a token whose claims the role's trust policy does not allow.
Covers the condition operators that GitHub OIDC trust policies use.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable
from typing import Any


class Denied(Exception):
    """AWS's answer would be an error; ``code`` is the STS error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _action_matches(patterns: Iterable[str], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def _string_like(value: str, pattern: str) -> bool:
    # IAM wildcards: * any run, ? one character; no character classes.
    escaped = pattern.replace("[", "[[]")
    return fnmatch.fnmatchcase(value, escaped)


_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda v, p: v == p,
    "StringNotEquals": lambda v, p: v != p,
    "StringLike": _string_like,
    "StringNotLike": lambda v, p: not _string_like(v, p),
}


def _condition_holds(operator: str, key_values: list[str], patterns: list[str]) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if base not in _OPERATORS:
        # An operator the bench does not model fails closed, as an unmet condition would.
        return False
    test = _OPERATORS[base]
    negated = base.startswith("StringNot")
    if not key_values:
        return negated  # a missing key satisfies only the negated operators
    if qualifier == "ForAllValues":
        return all(any(test(v, p) for p in patterns) for v in key_values)
    if negated:
        return all(all(test(v, p) for p in patterns) for v in key_values)
    return any(any(test(v, p) for p in patterns) for v in key_values)


def _statement_applies(
    statement: dict[str, Any], provider_arn: str, context: dict[str, list[str]]
) -> bool:
    actions = _as_list(statement.get("Action"))
    if not _action_matches(actions, "sts:AssumeRoleWithWebIdentity"):
        return False
    principal = statement.get("Principal", {})
    federated = _as_list(principal.get("Federated")) if isinstance(principal, dict) else []
    if principal != "*" and provider_arn not in federated:
        return False
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, patterns in keys.items():
            if not _condition_holds(
                operator, context.get(key, []), [str(p) for p in _as_list(patterns)]
            ):
                return False
    return True


def condition_context(provider_host: str, claims: dict[str, Any]) -> dict[str, list[str]]:
    """Condition keys AWS derives from an OIDC token: ``<host>:<claim>`` for each claim."""
    context: dict[str, list[str]] = {}
    for claim, value in claims.items():
        if isinstance(value, str | int | bool):
            context[f"{provider_host}:{claim}"] = [str(value)]
        elif isinstance(value, list):
            context[f"{provider_host}:{claim}"] = [str(v) for v in value]
    return context


def evaluate(
    policy_document: str | dict[str, Any],
    provider_arn: str,
    provider_host: str,
    claims: dict[str, Any],
) -> None:
    """Raise :class:`Denied` unless the policy allows this token (explicit Deny wins)."""
    policy = json.loads(policy_document) if isinstance(policy_document, str) else policy_document
    context = condition_context(provider_host, claims)
    allowed = False
    for statement in _as_list(policy.get("Statement")):
        if not _statement_applies(statement, provider_arn, context):
            continue
        if statement.get("Effect") == "Deny":
            allowed = False
            break
        if statement.get("Effect") == "Allow":
            allowed = True
    if not allowed:
        raise Denied("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
