"""Unit tests of the JSON plan summarizer and the normalized plan hash."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from action_scripts import terraform_plan as tfplan

PLANS = Path(__file__).resolve().parents[1] / "fixtures" / "terraform" / "plans"


def load(name: str) -> dict[str, Any]:
    plan: dict[str, Any] = json.loads((PLANS / f"{name}.json").read_text())
    return plan


def test_summarize_counts_a_recorded_create_plan() -> None:
    """A recorded plan that creates a bucket and a topic counts two adds and lists both."""
    summary = tfplan.summarize(load("create"))
    assert summary.counts() == {"add": 2, "change": 0, "destroy": 0, "replace": 0}
    assert [(c.address, c.kind) for c in summary.changes] == [
        ("aws_s3_bucket.data[0]", "create"), ("aws_sns_topic.alerts", "create"),
    ]
    assert summary.headline() == "Plan: 2 to add, 0 to change, 0 to destroy."
    assert [c.address for c in summary.outputs] == ["output.alerts_arn"]


def test_summarize_update_and_destroy_plan() -> None:
    """An update plus a destroy are counted apart, and the destroy is marked as destroying."""
    summary = tfplan.summarize(load("update-and-destroy"))
    assert summary.counts() == {"add": 0, "change": 1, "destroy": 1, "replace": 0}
    by_address = {c.address: c for c in summary.changes}
    assert by_address["aws_s3_bucket.data[0]"].destroys
    assert by_address["aws_s3_bucket.data[0]"].reason == "delete_because_count_index"
    assert not by_address["aws_sns_topic.alerts"].destroys
    assert summary.has_changes


def test_replace_counts_in_add_destroy_and_replace() -> None:
    """A delete+create pair (either order) is one replace, counted in add and destroy too."""
    plan = load("create")
    plan["resource_changes"][0]["change"]["actions"] = ["delete", "create"]
    plan["resource_changes"][1]["change"]["actions"] = ["create", "delete"]
    summary = tfplan.summarize(plan)
    assert summary.counts() == {"add": 2, "change": 0, "destroy": 2, "replace": 2}
    assert all(c.kind == "replace" and c.destroys for c in summary.changes)
    assert "(2 of them replaced)" in summary.headline()


def test_no_op_plan_has_no_changes() -> None:
    """A plan whose every resource and output is a no-op reports no changes."""
    plan = load("create")
    for entry in plan["resource_changes"]:
        entry["change"]["actions"] = ["no-op"]
    for output in plan["output_changes"].values():
        output["actions"] = ["no-op"]
    summary = tfplan.summarize(plan)
    assert not summary.has_changes
    assert summary.headline().startswith("No changes.")
    assert tfplan.normalize(plan)["resources"] == []


def test_hash_ignores_timestamp_version_and_prior_state() -> None:
    """Noise that differs between two plans of one change (time, version, serial) keeps the hash."""
    plan = load("update-and-destroy")
    noisy = copy.deepcopy(plan)
    noisy["timestamp"] = "2030-01-01T00:00:00Z"
    noisy["terraform_version"] = "1.12.0"
    noisy["prior_state"]["serial"] = 99
    noisy["prior_state"]["lineage"] = "another-lineage"
    noisy["variables"] = {"name": {"value": "other"}}
    noisy["resource_changes"].reverse()  # order is not meaning
    # A refreshed, untouched attribute of the updated resource differs as well.
    topic = next(r for r in noisy["resource_changes"] if r["address"] == "aws_sns_topic.alerts")
    topic["change"]["before"]["policy"] = "refreshed-differently"
    topic["change"]["after"]["policy"] = "refreshed-differently"
    assert tfplan.plan_hash(tfplan.normalize(noisy)) == tfplan.plan_hash(tfplan.normalize(plan))


def test_hash_changes_when_a_new_value_changes() -> None:
    """Setting a different value on the same resource gives a different hash and fingerprint."""
    plan = load("update-and-destroy")
    changed = copy.deepcopy(plan)
    topic = next(r for r in changed["resource_changes"] if r["address"] == "aws_sns_topic.alerts")
    topic["change"]["after"]["display_name"] = "v3"
    before, after = tfplan.normalize(plan), tfplan.normalize(changed)
    assert tfplan.plan_hash(before) != tfplan.plan_hash(after)
    found = tfplan.diff(tfplan.fingerprints(before), tfplan.fingerprints(after))
    assert found.altered == [("aws_sns_topic.alerts", "update", "update")]
    assert found.added == [] and found.removed == []
    assert "`aws_sns_topic.alerts`: update with different values" in tfplan.render_diff(found)


def test_hash_changes_when_actions_change() -> None:
    """Turning an update into a replace changes the hash and is named in the diff."""
    plan = load("update-and-destroy")
    changed = copy.deepcopy(plan)
    topic = next(r for r in changed["resource_changes"] if r["address"] == "aws_sns_topic.alerts")
    topic["change"]["actions"] = ["delete", "create"]
    found = tfplan.diff(tfplan.fingerprints(tfplan.normalize(plan)),
                        tfplan.fingerprints(tfplan.normalize(changed)))
    assert found.altered == [("aws_sns_topic.alerts", "update", "replace")]
    assert "reviewed update, now replace" in tfplan.render_diff(found)


def test_diff_lists_added_and_removed_resources() -> None:
    """Resources only in the new plan or only in the reviewed one are listed as such."""
    reviewed = tfplan.fingerprints(tfplan.normalize(load("create")))
    new = tfplan.fingerprints(tfplan.normalize(load("update-and-destroy")))
    found = tfplan.diff(reviewed, new)
    assert found.removed == ["output.alerts_arn"]
    assert {a for a, _, _ in found.altered} == {"aws_s3_bucket.data[0]", "aws_sns_topic.alerts"}
    text = tfplan.render_diff(tfplan.PlanDiff(added=["aws_iam_role.x"], removed=[], altered=[]))
    assert text == "- new since review: `aws_iam_role.x`"
    assert tfplan.diff(reviewed, reviewed).empty


def test_sensitive_values_never_reach_the_normal_form() -> None:
    """A value marked sensitive is replaced by a marker, so the hash cannot reveal it."""
    plan = load("create")
    topic = next(r for r in plan["resource_changes"] if r["address"] == "aws_sns_topic.alerts")
    topic["change"]["after"]["display_name"] = "hunter2-secret"
    topic["change"]["after_sensitive"] = {"display_name": True}
    plan["output_changes"]["alerts_arn"].update(after="secret-out", after_sensitive=True)
    normal = tfplan.normalize(plan)
    text = json.dumps(normal)
    assert "hunter2-secret" not in text and "secret-out" not in text
    assert tfplan.SENSITIVE in text
    # Different secret values, same marker: the hash does not depend on the secret.
    topic["change"]["after"]["display_name"] = "other-secret"
    assert tfplan.plan_hash(tfplan.normalize(plan)) == tfplan.plan_hash(normal)


def test_redact_handles_nested_lists_and_maps() -> None:
    """Redaction follows the sensitivity tree into nested lists and maps."""
    value = {"a": [{"k": "x"}, {"k": "y"}], "b": {"c": "d"}, "e": 1}
    marks = {"a": [{}, {"k": True}], "b": True}
    assert tfplan.redact(value, marks) == {
        "a": [{"k": "x"}, {"k": tfplan.SENSITIVE}], "b": tfplan.SENSITIVE, "e": 1,
    }


def test_render_diff_is_bounded() -> None:
    """A diff of many resources is cut to the limit with a count of the rest."""
    found = tfplan.PlanDiff(added=[f"r.{i}" for i in range(80)], removed=[], altered=[])
    lines = tfplan.render_diff(found, limit=50).splitlines()
    assert len(lines) == 51 and lines[-1] == "- … and 30 more"


def test_partly_unknown_blocks_keep_their_known_values() -> None:
    """A block with one unknown field still hashes its known fields; empty flags change nothing."""
    plan = load("create")
    bucket = plan["resource_changes"][0]["change"]
    bucket["after"]["versioning"] = [{"enabled": True, "mfa_delete": False}]
    bucket["after_unknown"]["versioning"] = [{"mfa_delete": True}]
    bucket["after"]["logging"] = [{"target": "x"}]
    bucket["after_unknown"]["logging"] = [{}]  # nothing unknown in it
    normal = tfplan.normalize(plan)
    changed = normal["resources"][0]["set"]
    assert changed["versioning"] == {"known": [{"enabled": True, "mfa_delete": False}],
                                     "unknown": [{"mfa_delete": True}]}
    assert changed["logging"] == [{"target": "x"}]
    known_hash = tfplan.plan_hash(normal)
    bucket["after"]["versioning"][0]["enabled"] = False
    assert tfplan.plan_hash(tfplan.normalize(plan)) != known_hash
