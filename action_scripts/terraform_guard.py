"""The destroy guard: protected resources are never destroyed or replaced unless allowed.

Patterns are resource addresses where ``*`` matches any run of characters; everything else is
literal (``[`` and ``"`` appear in addresses, so shell-glob classes would misread them). A
pattern also covers everything *inside* what it names: ``aws_s3_bucket.data`` covers
``aws_s3_bucket.data[0]`` and ``aws_s3_bucket.data["logs"]``; ``module.storage`` covers every
resource of that module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from action_scripts.terraform_plan import Change

# Characters of a resource address (with for_each keys), plus `*`; no spaces, no commas.
PATTERN = re.compile(r"[\w.\-\[\]\"*/:@=+]{1,512}")
PATTERN_EXPECTED = (
    "resource address patterns separated by commas or new lines, `*` as wildcard, such as "
    "`aws_s3_bucket.data` or `module.storage.*`"
)


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    body = ".*".join(re.escape(part) for part in pattern.split("*"))
    # An address "inside" the pattern continues with an index or a nested address.
    return re.compile(rf"{body}(?:[\[.].*)?", re.DOTALL)


def matches(pattern: str, address: str) -> bool:
    return _compiled(pattern).fullmatch(address) is not None


def blocked(changes: Iterable[Change], patterns: Iterable[str]) -> list[tuple[Change, str]]:
    """Each change that would delete a protected object, with the pattern that protects it."""
    wanted = list(patterns)
    hits: list[tuple[Change, str]] = []
    for change in changes:
        if not change.destroys:
            continue
        for pattern in wanted:
            if matches(pattern, change.address):
                hits.append((change, pattern))
                break
    return hits
