"""Input patterns shared by the actions, each with the accepted form shown to users."""

from __future__ import annotations

import re

ROLE_ARN = re.compile(r"arn:aws(?:-cn|-us-gov|-iso[a-z]*)?:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
ROLE_ARN_EXPECTED = "an IAM role ARN such as `arn:aws:iam::123456789012:role/hoopstat-deploy`"

REGION = re.compile(r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}")
REGION_EXPECTED = "an AWS region code such as `us-east-1`"

ACCOUNT_ID = re.compile(r"\d{12}")
ACCOUNT_ID_EXPECTED = "12-digit AWS account IDs, separated by commas or new lines"

# STS RoleSessionName: 2-64 characters of [\w+=,.@-].
SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")
SESSION_NAME_EXPECTED = "2-64 characters from letters, digits and `+=,.@_-`"

AUDIENCE = re.compile(r"[^\s,]{1,255}")
AUDIENCE_EXPECTED = "one audience without spaces, such as `sts.amazonaws.com`"


def account_of_role(role_arn: str) -> str:
    return role_arn.split(":")[4]


def sanitize_session_name(raw: str, *, suffix: str = "") -> str:
    """Map any text to an STS-valid session name, keeping the suffix (e.g. a run id) whole."""
    clean = re.sub(r"[^\w+=,.@-]+", "-", raw).strip("-") or "GitHubActions"
    tail = re.sub(r"[^\w+=,.@-]+", "-", suffix)
    room = 64 - len(tail)
    name = (clean[:room] if room > 0 else "") + tail
    name = name[:64]
    return name if len(name) >= 2 else "GitHubActions"
