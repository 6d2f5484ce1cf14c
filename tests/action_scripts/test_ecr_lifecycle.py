"""The lifecycle policy's rules, evaluated under ECR's documented rules, and accepted by moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from action_scripts.ecr_lifecycle import (
    Image,
    evaluate,
    lifecycle_policy,
    rollback_tag,
    validate,
)
from factory_bench.stack import Bench
from tests.helpers.ecr import unique

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def build(n: int, *, days_ago: float, extra: tuple[str, ...] = ()) -> Image:
    """A build as ecr-push tags it: src-<hash> and the commit SHA, pushed `days_ago`."""
    return Image(digest=f"sha256:{n:064x}",
                 tags=(f"src-{n:040x}", f"{n:040x}", *extra),
                 pushed_at=NOW - timedelta(days=days_ago))


def test_policy_is_valid_by_ecr_constraints() -> None:
    """Unique priorities, one untagged rule, one tag list per tagged rule, countUnit for days."""
    assert validate(lifecycle_policy()) == []


def test_validate_catches_the_classic_mistakes() -> None:
    """Two untagged rules, an `any` rule not last and a tagged rule without a list are refused."""
    bad = {"rules": [
        {"rulePriority": 1, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                                          "countNumber": 5}},
        {"rulePriority": 2, "selection": {"tagStatus": "untagged",
                                          "countType": "sinceImagePushed", "countNumber": 1}},
        {"rulePriority": 3, "selection": {"tagStatus": "untagged",
                                          "countType": "imageCountMoreThan", "countNumber": 1}},
        {"rulePriority": 4, "selection": {"tagStatus": "tagged",
                                          "countType": "imageCountMoreThan", "countNumber": 1}},
    ]}
    problems = " ".join(validate(bad))
    assert "only one rule may select untagged" in problems
    assert "highest rulePriority" in problems
    assert "tagged needs one tag list" in problems
    assert "countUnit days" in problems


def test_old_builds_expire_but_rollback_targets_never_do() -> None:
    """Beyond keep_builds, old builds expire, except those a retained Lambda version still uses."""
    policy = lifecycle_policy(keep_builds=3)
    images = [build(n, days_ago=100 - n) for n in range(10)]
    # The oldest build is what the function's retained version 4 still runs: a rollback target.
    images[0] = build(0, days_ago=100, extra=(rollback_tag("api", "4"),))
    expired = evaluate(policy, images, now=NOW)
    assert images[0].digest not in expired
    assert set(expired) == {i.digest for i in images[1:7]}
    assert all(rule == 20 for rule in expired.values())
    kept = [i for i in images if i.digest not in expired]
    assert [i.digest for i in kept] == [images[0].digest, *(i.digest for i in images[7:])]


def test_untagged_images_expire_after_a_day() -> None:
    """Untagged images (superseded or half-finished pushes) expire after untagged_days."""
    old = Image(digest="sha256:old", tags=(), pushed_at=NOW - timedelta(days=2))
    fresh = Image(digest="sha256:new", tags=(), pushed_at=NOW - timedelta(hours=3))
    expired = evaluate(lifecycle_policy(), [old, fresh], now=NOW)
    assert expired == {"sha256:old": 10}


def test_every_rule_matches_the_tag_scheme() -> None:
    """No dead rules: each rule selects some image the tag scheme produces (unlike `v*` on SHAs)."""
    from action_scripts.ecr_lifecycle import _selects

    scheme = [build(1, days_ago=5, extra=(rollback_tag("api", "12"),)), build(2, days_ago=5),
              Image(digest="sha256:u", tags=(), pushed_at=NOW)]
    for rule in lifecycle_policy()["rules"]:
        assert any(_selects(rule["selection"], image) for image in scheme), rule["description"]


def test_removing_the_rollback_tag_lets_the_image_expire() -> None:
    """Once lambda-deploy deletes a version's tag, that old image falls under the build count."""
    policy = lifecycle_policy(keep_builds=1)
    target = build(0, days_ago=50, extra=(rollback_tag("api", "1"),))
    newer = build(1, days_ago=1)
    assert evaluate(policy, [target, newer], now=NOW) == {}
    untagged_target = Image(digest=target.digest, tags=target.tags[:2], pushed_at=target.pushed_at)
    assert evaluate(policy, [untagged_target, newer], now=NOW) == {target.digest: 20}


def test_policy_is_accepted_by_the_ecr_api(bench: Bench) -> None:
    """PutLifecyclePolicy accepts the document and returns it unchanged (moto server)."""
    ecr = bench.admin_client("ecr")
    name = unique("lifecycle/check")
    ecr.create_repository(repositoryName=name)
    text = json.dumps(lifecycle_policy())
    ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=text)
    stored = ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
    assert json.loads(stored) == lifecycle_policy()
