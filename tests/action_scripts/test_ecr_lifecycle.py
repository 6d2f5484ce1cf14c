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


# --- A repository shared by several apps (docs/adr/0010-shared-ecr-repository.md) ---


def app_build(prefix: str, n: int, *, days_ago: float, extra: tuple[str, ...] = ()) -> Image:
    """A build as ecr-push tags it under tag-prefix: <prefix>src-<hash> and <prefix><sha>."""
    return Image(digest=f"{prefix}{n}", tags=(f"{prefix}src-{n:040x}", f"{prefix}{n:040x}", *extra),
                 pushed_at=NOW - timedelta(days=days_ago))


def test_shared_policy_expires_each_apps_builds_by_its_own_count() -> None:
    """In a mixed two-app repository, a busy app's churn expires only its own builds beyond the
    count; the quiet app's old builds and both apps' lambda-* rollback targets never expire."""
    policy = lifecycle_policy(keep_builds=5, tag_prefixes=("box-scores-", "ingest-"))
    assert validate(policy) == []
    busy = [app_build("box-scores-", n, days_ago=n / 24) for n in range(12)]
    quiet = [app_build("ingest-", n, days_ago=300 + n) for n in range(3)]
    targets = [
        app_build("box-scores-", 99, days_ago=500,
                  extra=(rollback_tag("hoopstat-box-scores", "7"),)),
        app_build("ingest-", 99, days_ago=900, extra=(rollback_tag("hoopstat-ingest", "2"),)),
    ]
    untagged = Image(digest="untagged", tags=(), pushed_at=NOW - timedelta(days=3))
    expired = evaluate(policy, [*busy, *quiet, *targets, untagged], now=NOW)
    assert expired == {**{i.digest: 20 for i in busy[5:]}, "untagged": 10}


def test_one_pooled_build_rule_would_let_one_app_expire_another() -> None:
    """Control: the same images under one rule for every app's builds expire the quiet app's."""
    pooled = lifecycle_policy(keep_builds=5)
    pooled["rules"][2]["selection"]["tagPatternList"] = ["*src-*"]
    busy = [app_build("box-scores-", n, days_ago=n / 24) for n in range(12)]
    quiet = [app_build("ingest-", n, days_ago=300 + n) for n in range(3)]
    expired = evaluate(pooled, [*busy, *quiet], now=NOW)
    assert {i.digest for i in quiet} <= set(expired)


def test_default_policy_is_the_single_app_policy() -> None:
    """Without prefixes the policy is unchanged: rules 1, 10 and 20, the build rule on `src-*`."""
    policy = lifecycle_policy()
    assert [r["rulePriority"] for r in policy["rules"]] == [1, 10, 20]
    assert policy["rules"][2]["selection"]["tagPatternList"] == ["src-*"]
    assert policy["rules"][2]["description"] == "Keep the newest 30 builds"


def test_prefixed_rules_match_the_terraform_modules_shape() -> None:
    """Per-app rules take priorities 20, 21, ... with `<app>-src-*` and the module's description,
    the document the ecr-repository module renders for `apps`."""
    rules = lifecycle_policy(tag_prefixes=("stats-api-", "ingest-"))["rules"]
    assert [(r["rulePriority"], r["selection"]["tagPatternList"], r["description"])
            for r in rules[2:]] == [
        (20, ["stats-api-src-*"], "Keep the newest 30 builds of stats-api"),
        (21, ["ingest-src-*"], "Keep the newest 30 builds of ingest"),
    ]


def test_rollback_tags_of_two_functions_stay_apart() -> None:
    """`lambda-<function>-<version>` never reads as another function's tag: the version is digits
    after the last `-`, so `api-2` v3 and `api` v23 differ, and both fall under rule 1 only."""
    assert rollback_tag("api-2", "3") != rollback_tag("api", "23")
    assert rollback_tag("api-2", "3").rsplit("-", 1) == ["lambda-api-2", "3"]
    from action_scripts.ecr_lifecycle import _selects

    rules = lifecycle_policy(tag_prefixes=("api-", "api-2-"))["rules"]
    image = Image("t", (rollback_tag("api-2", "3"),), NOW)
    assert [r["rulePriority"] for r in rules if _selects(r["selection"], image)] == [1]


def test_check_shared_accepts_the_per_app_policy_and_names_each_hazard() -> None:
    """check_shared finds nothing in the per-app policy, and names a pooled build rule, a policy
    that expires rollback targets and a policy with no rule for the prefix."""
    from action_scripts.ecr_lifecycle import check_shared

    good = lifecycle_policy(tag_prefixes=("box-scores-", "ingest-"))
    assert check_shared(good, prefix="box-scores-", now=NOW) == []

    pooled = lifecycle_policy()
    pooled["rules"][2]["selection"]["tagPatternList"] = ["*src-*"]
    assert "counts other apps' images" in " ".join(check_shared(pooled, prefix="api-", now=NOW))

    unprotected = lifecycle_policy(tag_prefixes=("api-",))
    del unprotected["rules"][0]
    unprotected["rules"][1]["selection"]["countNumber"] = 1
    assert "rollback targets" in " ".join(check_shared(unprotected, prefix="api-", now=NOW))

    other_only = lifecycle_policy(tag_prefixes=("ingest-",))
    assert "never expire" in " ".join(check_shared(other_only, prefix="api-", now=NOW))


def test_shared_policy_is_accepted_by_the_ecr_api(bench: Bench) -> None:
    """PutLifecyclePolicy accepts the per-app document and returns it unchanged (moto server)."""
    ecr = bench.admin_client("ecr")
    name = unique("lifecycle/shared")
    ecr.create_repository(repositoryName=name)
    policy = lifecycle_policy(tag_prefixes=("box-scores-", "ingest-"))
    ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=json.dumps(policy))
    stored = ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
    assert json.loads(stored) == policy
