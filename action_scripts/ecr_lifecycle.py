"""The ECR lifecycle policy that expires old builds but never a rollback target.

Tag scheme (docs/ecr-tag-scheme.md): every pushed image carries ``src-<hash>`` (its build inputs)
and the commit SHA; lambda-deploy adds ``lambda-<function>-<version>`` for each Lambda version it
keeps and deletes that tag (BatchDeleteImage by tag) when it deletes the version. The rules:

1. images with a ``lambda-`` tag are selected first with a count no repository reaches, so no
   lower rule may expire them ("an image that matches the tagging requirements of a rule cannot
   be expired by a rule with a lower priority" — ECR lifecycle evaluation rules);
2. untagged images (failed or superseded pushes) expire after ``untagged_days``;
3. of the build images (``src-*``), all but the newest ``keep_builds`` expire.

In a repository shared by several apps each app writes its tags under its own tag prefix
(``<prefix>src-<hash>``, ``<prefix><commit-sha>``; docs/adr/0010-shared-ecr-repository.md), and
rule 3 becomes one rule per prefix (priorities 20, 21, ...), each counting only that app's builds:
one app's churn never expires another app's images. Rollback tags stay unprefixed: they name the
function, which is unique in an account and region.

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


def build_rule(prefix: str, *, priority: int, keep_builds: int) -> dict[str, Any]:
    """Keep the newest ``keep_builds`` images tagged ``<prefix>src-*``; older ones expire.

    The description names the app as the Terraform module does (the prefix without its
    trailing ``-``), so both documents read the same."""
    owner = f" of {prefix[:-1]}" if prefix else ""
    return {
        "rulePriority": priority,
        "description": f"Keep the newest {keep_builds} builds{owner}",
        "selection": {
            "tagStatus": "tagged",
            "tagPatternList": [f"{prefix}{BUILD_PREFIX}*"],
            "countType": "imageCountMoreThan",
            "countNumber": keep_builds,
        },
        "action": {"type": "expire"},
    }


def lifecycle_policy(
    *, keep_builds: int = 30, untagged_days: int = 1, tag_prefixes: tuple[str, ...] = ("",),
) -> dict[str, Any]:
    """The policy for a repository whose apps write under ``tag_prefixes`` (``("",)``: one app,
    no prefix). Each prefix gets its own build rule, in the order given."""
    if keep_builds < 1 or untagged_days < 1:
        raise ValueError("keep_builds and untagged_days must be at least 1")
    if not tag_prefixes or len(set(tag_prefixes)) != len(tag_prefixes):
        raise ValueError("tag_prefixes must be distinct and not empty")
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
            *(
                build_rule(prefix, priority=20 + index, keep_builds=keep_builds)
                for index, prefix in enumerate(tag_prefixes)
            ),
        ]
    }


def policy_text(**kwargs: Any) -> str:
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


def _rule_selecting(policy: dict[str, Any], image: Image) -> int | None:
    for rule in sorted(policy.get("rules", []), key=lambda r: r["rulePriority"]):
        if _selects(rule["selection"], image):
            return int(rule["rulePriority"])
    return None


def check_shared(policy: dict[str, Any], *, prefix: str, now: datetime) -> list[str]:
    """What goes wrong for the app writing under ``prefix`` if ``policy`` runs on a shared
    repository: each problem as one sentence (empty: the app's builds are counted on their own
    and its rollback targets never expire).

    The policy is evaluated (:func:`evaluate`) against a made-up repository: one old build of
    this app, one older rollback target of it, and a thousand newer builds of two other apps
    (one prefixed, one not) — the churn that must not expire this app's images."""
    ours = Image("ours", (f"{prefix}{BUILD_PREFIX}{'a' * 40}", f"{prefix}{'a' * 40}"),
                 now - timedelta(days=400))
    target = Image("target", (f"{prefix}{BUILD_PREFIX}{'b' * 40}", f"{prefix}{'b' * 40}",
                              rollback_tag("this-app-function", "1")),
                   now - timedelta(days=1000))
    other = "other-app-" if prefix != "other-app-" else "another-app-"
    churn = [
        Image(f"churn-{p or 'none'}-{n}", (f"{p}{BUILD_PREFIX}{n:040x}", f"{p}{n:040x}"),
              now - timedelta(hours=n))
        for p in (other, "") for n in range(500)
    ]
    problems: list[str] = []
    alone = evaluate(policy, [ours, target], now=now)
    shared = evaluate(policy, [ours, target, *churn], now=now)
    if target.digest in shared:
        problems.append(f"rule {shared[target.digest]} expires this app's rollback targets "
                        "(images tagged `lambda-*`)")
    if ours.digest in shared and ours.digest not in alone:
        problems.append(f"rule {shared[ours.digest]} counts other apps' images together with "
                        f"this app's `{prefix}{BUILD_PREFIX}*` builds: their pushes expire "
                        "this app's builds")
    if _rule_selecting(policy, ours) is None:
        problems.append(f"no rule selects `{prefix}{BUILD_PREFIX}*`: this app's builds never "
                        "expire")
    return problems
