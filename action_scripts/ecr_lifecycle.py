"""The ECR lifecycle policy that expires old builds but never a rollback target.

Tag scheme (docs/ecr-tag-scheme.md): every pushed image carries ``src-<hash>`` (its build inputs)
and the commit SHA; lambda-deploy adds ``lambda-<function>-<version>`` for each Lambda version it
keeps and deletes that tag (BatchDeleteImage by tag) when it deletes the version. The rules:

1. images with a ``lambda-`` tag are selected first with a count no repository reaches, so no
   lower rule may expire them ("an image that matches the tagging requirements of a rule cannot
   be expired by a rule with a lower priority" — ECR lifecycle evaluation rules);
2. untagged images (failed or superseded pushes) expire after ``untagged_days``;
3. of the build images (``src-*``), all but the newest ``keep_builds`` expire.

:func:`evaluate` applies ECR's documented evaluation rules to a list of images, so the rules are
tested here (moto stores lifecycle policies but does not evaluate or preview them).
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

ROLLBACK_PREFIX = "lambda-"
BUILD_PREFIX = "src-"
# Larger than any repository's image count (ECR's default quota is 20,000 images per
# repository but a rollback set is a handful), so rule 1 selects without ever expiring.
NEVER = 100_000


def rollback_tag(function_name: str, version: str) -> str:
    """The tag lambda-deploy puts on the image of each Lambda version it keeps."""
    return f"{ROLLBACK_PREFIX}{function_name}-{version}"


def lifecycle_policy(*, keep_builds: int = 30, untagged_days: int = 1) -> dict[str, Any]:
    if keep_builds < 1 or untagged_days < 1:
        raise ValueError("keep_builds and untagged_days must be at least 1")
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": "Keep images used by retained Lambda versions (rollback targets)",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": [f"{ROLLBACK_PREFIX}*"],
                    "countType": "imageCountMoreThan",
                    "countNumber": NEVER,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 10,
                "description": f"Expire untagged images after {untagged_days} day(s)",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": untagged_days,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 20,
                "description": f"Keep the newest {keep_builds} builds",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": [f"{BUILD_PREFIX}*"],
                    "countType": "imageCountMoreThan",
                    "countNumber": keep_builds,
                },
                "action": {"type": "expire"},
            },
        ]
    }


def policy_text(**kwargs: int) -> str:
    return json.dumps(lifecycle_policy(**kwargs), indent=2)


@dataclass(frozen=True)
class Image:
    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime


def validate(policy: dict[str, Any]) -> list[str]:
    """Problems ECR would refuse the policy for (the constraints in ECR's lifecycle docs)."""
    problems: list[str] = []
    rules = policy.get("rules", [])
    priorities = [r.get("rulePriority") for r in rules]
    if len(set(priorities)) != len(priorities):
        problems.append("rulePriority values must be unique")
    if sum(1 for r in rules if r["selection"]["tagStatus"] == "untagged") > 1:
        problems.append("only one rule may select untagged images")
    ordered = sorted(rules, key=lambda r: r["rulePriority"])
    for rule in ordered[:-1]:
        if rule["selection"]["tagStatus"] == "any":
            problems.append("a tagStatus=any rule must have the highest rulePriority")
    for rule in rules:
        sel = rule["selection"]
        lists = [k for k in ("tagPrefixList", "tagPatternList") if sel.get(k)]
        if sel["tagStatus"] == "tagged" and len(lists) != 1:
            problems.append(f"rule {rule['rulePriority']}: tagged needs one tag list")
        if sel["tagStatus"] != "tagged" and lists:
            problems.append(f"rule {rule['rulePriority']}: tag lists only with tagged")
        if sel["countType"] == "sinceImagePushed" and sel.get("countUnit") != "days":
            problems.append(f"rule {rule['rulePriority']}: sinceImagePushed needs countUnit days")
        if not int(sel.get("countNumber", 0)) >= 1:
            problems.append(f"rule {rule['rulePriority']}: countNumber must be at least 1")
    return problems


def _selects(selection: dict[str, Any], image: Image) -> bool:
    status = selection["tagStatus"]
    if status == "untagged":
        return not image.tags
    if status == "any":
        return True
    if not image.tags:
        return False
    if "tagPrefixList" in selection:
        return all(any(t.startswith(p) for t in image.tags) for p in selection["tagPrefixList"])
    return all(
        any(fnmatch.fnmatchcase(t, p) for t in image.tags) for p in selection["tagPatternList"]
    )


def evaluate(policy: dict[str, Any], images: list[Image], *, now: datetime) -> dict[str, int]:
    """Digest -> priority of the rule that expires it, per ECR's evaluation rules.

    Rules run in priority order; each identifies images as if nothing had expired yet, but never
    expires an image whose tags a higher-priority rule selected. Expiry is by push time, oldest
    first.
    """
    expired: dict[str, int] = {}
    claimed: set[str] = set()
    for rule in sorted(policy["rules"], key=lambda r: r["rulePriority"]):
        sel = rule["selection"]
        selected = sorted(
            (i for i in images if _selects(sel, i)), key=lambda i: i.pushed_at, reverse=True
        )
        if sel["countType"] == "imageCountMoreThan":
            doomed = selected[int(sel["countNumber"]):]
        else:
            cutoff = now - timedelta(days=int(sel["countNumber"]))
            doomed = [i for i in selected if i.pushed_at < cutoff]
        for image in doomed:
            if image.digest not in claimed and image.digest not in expired:
                expired[image.digest] = int(rule["rulePriority"])
        claimed.update(i.digest for i in selected)
    return expired
