r"""Input patterns shared by the actions, each with the accepted form shown to users.

Every pattern is ASCII-only (``re.ASCII``): without it ``\d`` and ``\w`` also match digits and
letters of other scripts (``١٢٣`` is ``\d``), which no AWS name accepts.
"""

from __future__ import annotations

import re

ROLE_ARN = re.compile(
    r"arn:aws(?:-cn|-us-gov|-iso[a-z]*)?:iam::\d{12}:role/[\w+=,.@/-]{1,512}", re.ASCII
)
ROLE_ARN_EXPECTED = "an IAM role ARN such as `arn:aws:iam::123456789012:role/hoopstat-deploy`"

REGION = re.compile(r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}", re.ASCII)
REGION_EXPECTED = "an AWS region code such as `us-east-1`"

ACCOUNT_ID = re.compile(r"\d{12}", re.ASCII)
ACCOUNT_ID_EXPECTED = "12-digit AWS account IDs, separated by commas or new lines"

# STS RoleSessionName: 2-64 characters of [\w+=,.@-].
SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
SESSION_NAME_EXPECTED = "2-64 characters from letters, digits and `+=,.@_-`"

AUDIENCE = re.compile(r"[!-+\--~]{1,255}", re.ASCII)  # printable ASCII but space and `,`
AUDIENCE_EXPECTED = "one audience without spaces, such as `sts.amazonaws.com`"


def account_of_role(role_arn: str) -> str:
    return role_arn.split(":")[4]


def sanitize_session_name(raw: str, *, suffix: str = "") -> str:
    """Map any text to an STS-valid session name, keeping the suffix (e.g. a run id) whole."""
    clean = re.sub(r"[^\w+=,.@-]+", "-", raw, flags=re.ASCII).strip("-") or "GitHubActions"
    tail = re.sub(r"[^\w+=,.@-]+", "-", suffix, flags=re.ASCII)
    room = 64 - len(tail)
    name = (clean[:room] if room > 0 else "") + tail
    name = name[:64]
    return name if len(name) >= 2 else "GitHubActions"


# Lambda function by name or full ARN (unqualified: deploys choose versions and aliases themselves).
LAMBDA_FUNCTION = re.compile(
    r"(?:arn:aws(?:-cn|-us-gov)?:lambda:[a-z0-9-]+:\d{12}:function:)?[A-Za-z0-9_-]{1,64}",
    re.ASCII,
)
LAMBDA_FUNCTION_EXPECTED = (
    "a Lambda function name (1-64 of letters, digits, `-`, `_`) or its unqualified ARN "
    "`arn:aws:lambda:us-east-1:123456789012:function:my-app`"
)

# Alias names may not be all digits (those are versions) and `$LATEST` is reserved.
LAMBDA_ALIAS = re.compile(r"(?!\d+$)[A-Za-z0-9_-]{1,128}", re.ASCII)
LAMBDA_ALIAS_EXPECTED = "an alias name (letters, digits, `-`, `_`; not all digits), e.g. `live`"

GIT_SHA = re.compile(r"[0-9a-f]{7,40}", re.ASCII)


# ECR repository names: lowercase path components separated by `/`, 2-256 characters.
ECR_REPOSITORY = re.compile(
    r"(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*", re.ASCII
)
ECR_REPOSITORY_EXPECTED = "an ECR repository name such as `hoopstat/api` (lowercase, `/._-`)"

# Image tags as a registry reference accepts them (ECR allows these and more; docker does not).
IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII)
IMAGE_TAG_EXPECTED = (
    "tags of up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`"
)


# A directory inside the repository, written relative to its root: no leading `/`, no `..` part.
REPO_DIR = re.compile(r"(?!/)(?!.*(?:^|/)\.\.(?:/|$))[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*",
                      re.ASCII)
REPO_DIR_EXPECTED = (
    "a directory relative to the repository root, such as `.` or `apps/api` (no `..`)"
)


POLICY_ARN = re.compile(
    r"arn:aws(?:-cn|-us-gov|-iso[a-z]*)?:iam::(?:aws|\d{12}):policy/[\w+=,.@/-]{1,512}", re.ASCII
)
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
_TAG_VALUE_DROP = re.compile(r"[^\w .:/=+@-]", re.ASCII)


def sanitize_tag_value(raw: str) -> str:
    """An STS session tag value: allowed characters only, at most 256 of them."""
    return _TAG_VALUE_DROP.sub("_", raw)[:256]


# A per-app image tag prefix in a shared ECR repository (docs/adr/0010): ends in `-`, never holds
# `src-` (content tags) nor starts with `lambda-` (rollback targets); 84 characters at most so
# `<prefix><40-hex sha>` fits ECR's 128. ecr-push checks the same rules with the actual tags.
TAG_PREFIX = re.compile(r"(?!lambda-)(?!.*src-)[A-Za-z0-9_][A-Za-z0-9_.-]{0,82}-", re.ASCII)
TAG_PREFIX_EXPECTED = (
    "letters, digits, `_`, `.` and `-` ending in `-` (e.g. `box-scores-`), at most 84 "
    "characters, without `src-` and not starting with `lambda-`"
)
