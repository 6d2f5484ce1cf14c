"""Unit tests of the protected-resources destroy guard."""

from __future__ import annotations

import pytest

from action_scripts import terraform_guard as guard
from action_scripts.terraform_plan import Change, kind_of


def change(address: str, *actions: str) -> Change:
    return Change(address=address, kind=kind_of(actions), actions=actions)


@pytest.mark.parametrize(
    ("pattern", "address", "expected"),
    [
        ("aws_s3_bucket.data", "aws_s3_bucket.data", True),
        ("aws_s3_bucket.data", "aws_s3_bucket.data[0]", True),
        ("aws_s3_bucket.data", 'aws_s3_bucket.data["logs"]', True),
        ("aws_s3_bucket.data", "aws_s3_bucket.database", False),
        ("aws_s3_bucket.data[0]", "aws_s3_bucket.data[0]", True),
        ("aws_s3_bucket.data[0]", "aws_s3_bucket.data[1]", False),
        ("module.storage", "module.storage.aws_s3_bucket.this[0]", True),
        ("module.storage", "module.storage_v2.aws_s3_bucket.this", False),
        ("module.*.aws_s3_bucket.*", "module.a.aws_s3_bucket.b", True),
        ("aws_dynamodb_table.*", "aws_s3_bucket.x", False),
        ("*", "anything.at_all", True),
    ],
)
def test_pattern_matching(pattern: str, address: str, expected: bool) -> None:
    """Patterns match literally except `*`, and also cover instances and nested addresses."""
    assert guard.matches(pattern, address) is expected


def test_only_destroying_changes_are_blocked() -> None:
    """Deletes and replaces of protected addresses are blocked; creates and updates are not."""
    changes = [
        change("aws_s3_bucket.data[0]", "delete"),
        change("aws_s3_bucket.data[1]", "create", "delete"),
        change("aws_s3_bucket.data[2]", "update"),
        change("aws_s3_bucket.other", "delete"),
        change("aws_s3_bucket.data[3]", "create"),
    ]
    hits = guard.blocked(changes, ["aws_s3_bucket.data"])
    assert [(c.address, p) for c, p in hits] == [
        ("aws_s3_bucket.data[0]", "aws_s3_bucket.data"),
        ("aws_s3_bucket.data[1]", "aws_s3_bucket.data"),
    ]


def test_no_patterns_block_nothing() -> None:
    """Without protected-resources nothing is blocked, even a destroy."""
    assert guard.blocked([change("aws_s3_bucket.data", "delete")], []) == []


def test_pattern_input_form() -> None:
    """The input pattern accepts addresses with keys and wildcards, and refuses spaces."""
    assert guard.PATTERN.fullmatch('module.x["a-b"].aws_s3_bucket.*')
    assert not guard.PATTERN.fullmatch("aws_s3_bucket data")
