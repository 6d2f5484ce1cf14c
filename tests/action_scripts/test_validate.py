"""Tests for shared input patterns."""

from __future__ import annotations

import pytest

from action_scripts import validate


@pytest.mark.parametrize(
    "raw,suffix",
    [
        ("gha-hoopstat-haus/demo app!", "-123-1"),
        ("x" * 200, "-99999999999-3"),
        ("", ""),
        ("ok", ""),
    ],
)
def test_session_names_always_satisfy_sts(raw: str, suffix: str) -> None:
    """Any repository name and run id map to a session name STS accepts, run id kept whole."""
    name = validate.sanitize_session_name(raw, suffix=suffix)
    assert validate.SESSION_NAME.fullmatch(name), name
    assert name.endswith(suffix)


@pytest.mark.parametrize(
    "arn,ok",
    [
        ("arn:aws:iam::123456789012:role/deploy", True),
        ("arn:aws:iam::123456789012:role/path/to/deploy", True),
        ("arn:aws-us-gov:iam::123456789012:role/x", True),
        ("arn:aws:iam::12345:role/deploy", False),
        ("arn:aws:iam::123456789012:user/deploy", False),
        ("deploy", False),
    ],
)
def test_role_arn_pattern(arn: str, ok: bool) -> None:
    """Role ARNs are accepted only in IAM's role form, any partition, with a 12-digit account."""
    assert bool(validate.ROLE_ARN.fullmatch(arn)) is ok
