"""Read a plan from ``terraform show -json``: counts, per-resource changes, a normalized hash.

Everything here works on the JSON plan (never on terraform's human-readable text), so the
summary cannot be fooled by output formatting and does not change between terraform versions.

The *normalized* plan keeps only what an apply would do: for each resource or output that is not
a no-op, its address, actions, replace paths, and the attributes that change (their new values,
or "unknown"). It drops what differs between two plans of the same change: the timestamp,
terraform's version, the prior state (serial, lineage, refreshed values of untouched
attributes), the configuration and the variables (their effect is in the changes). Sensitive
values are replaced by a marker before hashing, so the hash published in a PR comment reveals
nothing about them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

NORMAL_FORM_VERSION = 1
SENSITIVE = "(sensitive)"
UNKNOWN = "(known after apply)"

Kind = Literal["create", "update", "delete", "replace", "read", "no-op"]

SYMBOLS: dict[str, str] = {
    "create": "+", "update": "~", "delete": "-", "replace": "-/+", "read": "<=", "no-op": " ",
}


def kind_of(actions: Iterable[str]) -> Kind:
    """Terraform's action list as one word; ``[delete, create]`` in either order is a replace."""
    found = tuple(actions)
    if "delete" in found and "create" in found:
        return "replace"
    if "create" in found:
        return "create"
    if "update" in found:
        return "update"
    if "delete" in found:
        return "delete"
    if "read" in found:
        return "read"
    return "no-op"


@dataclass(frozen=True)
class Change:
    address: str
    kind: Kind
    actions: tuple[str, ...]
    resource_type: str = ""
    reason: str = ""

    @property
    def destroys(self) -> bool:
        """True when the apply would delete the existing object (a destroy or a replace)."""
        return "delete" in self.actions


@dataclass
class PlanSummary:
    """What a plan will do, read from its JSON form."""

    changes: list[Change] = field(default_factory=list)
    drift: list[Change] = field(default_factory=list)
    outputs: list[Change] = field(default_factory=list)
    to_add: int = 0
    to_change: int = 0
    to_destroy: int = 0
    to_replace: int = 0
    to_read: int = 0

    @property
    def has_changes(self) -> bool:
        return bool(self.changes or self.outputs)

    def counts(self) -> dict[str, int]:
        return {
            "add": self.to_add, "change": self.to_change,
            "destroy": self.to_destroy, "replace": self.to_replace,
        }

    def headline(self) -> str:
        """Terraform's own wording; replacements count in both add and destroy, as there."""
        if not self.has_changes:
            return "No changes. Your infrastructure matches the configuration."
        if not self.changes:
            return "Changes to outputs only."
        text = (
            f"Plan: {self.to_add} to add, {self.to_change} to change, "
            f"{self.to_destroy} to destroy"
        )
        if self.to_replace:
            text += f" ({self.to_replace} of them replaced)"
        return text + "."


def _change(entry: Mapping[str, Any]) -> Change:
    actions = tuple(str(a) for a in entry.get("change", {}).get("actions", []))
    return Change(
        address=str(entry.get("address", "")),
        kind=kind_of(actions),
        actions=actions,
        resource_type=str(entry.get("type", "")),
        reason=str(entry.get("action_reason", "")),
    )


def summarize(plan: Mapping[str, Any]) -> PlanSummary:
    """Counts and change lists of a ``terraform show -json`` plan."""
    summary = PlanSummary()
    for entry in plan.get("resource_changes") or []:
        change = _change(entry)
        if change.kind == "no-op":
            continue
        summary.changes.append(change)
        if change.kind in {"create", "replace"}:
            summary.to_add += 1
        if change.kind in {"delete", "replace"}:
            summary.to_destroy += 1
        if change.kind == "replace":
            summary.to_replace += 1
        if change.kind == "update":
            summary.to_change += 1
        if change.kind == "read":
            summary.to_read += 1
    for entry in plan.get("resource_drift") or []:
        change = _change(entry)
        if change.kind != "no-op":
            summary.drift.append(change)
    for name, output in sorted((plan.get("output_changes") or {}).items()):
        actions = tuple(str(a) for a in output.get("actions", []))
        if kind_of(actions) != "no-op":
            summary.outputs.append(Change(f"output.{name}", kind_of(actions), actions))
    return summary


def redact(value: Any, sensitive: Any) -> Any:
    """``value`` with every part that terraform marks sensitive replaced by a marker.

    ``sensitive`` mirrors ``value``'s shape (``before_sensitive``/``after_sensitive``): ``true``
    at a node means everything below it is sensitive.
    """
    if sensitive is True:
        return SENSITIVE if value is not None else None
    if isinstance(value, dict) and isinstance(sensitive, dict):
        return {key: redact(item, sensitive.get(key)) for key, item in value.items()}
    if isinstance(value, list) and isinstance(sensitive, list):
        return [
            redact(item, sensitive[index] if index < len(sensitive) else None)
            for index, item in enumerate(value)
        ]
    return value


def _changed_attributes(change: Mapping[str, Any]) -> dict[str, Any]:
    """New values of the top-level attributes the apply sets; unchanged ones are left out.

    Unchanged attributes come from the refreshed prior state and may differ between two plans
    of the same change (computed, provider-normalized values), so they are not part of it.
    """
    before = change.get("before")
    after = redact(change.get("after"), change.get("after_sensitive"))
    unknown = change.get("after_unknown")
    before_clear = redact(before, change.get("before_sensitive"))
    result: dict[str, Any] = {}
    if isinstance(after, dict):
        old = before_clear if isinstance(before_clear, dict) else {}
        for key in sorted(after):
            if key not in old or old[key] != after[key]:
                result[key] = after[key]
    elif after is not None:
        result["(value)"] = after
    if isinstance(unknown, dict):
        for key, flag in sorted(unknown.items()):
            if flag is True:
                result[key] = UNKNOWN
            elif _has_unknown(flag):
                # Partly unknown (e.g. one field of a block): keep the known part, mark the rest.
                known = after.get(key) if isinstance(after, dict) else None
                result[key] = {"known": known, "unknown": flag}
    return result


def _has_unknown(flag: Any) -> bool:
    if flag is True:
        return True
    if isinstance(flag, dict):
        return any(_has_unknown(item) for item in flag.values())
    if isinstance(flag, list):
        return any(_has_unknown(item) for item in flag)
    return False


def _normal_resource(entry: Mapping[str, Any]) -> dict[str, Any]:
    change = entry.get("change", {})
    actions = [str(a) for a in change.get("actions", [])]
    normal: dict[str, Any] = {"address": str(entry.get("address", "")), "actions": actions}
    if kind_of(actions) in {"create", "update", "replace", "read"}:
        normal["set"] = _changed_attributes(change)
    if change.get("replace_paths"):
        normal["replace_paths"] = change["replace_paths"]
    return normal


def normalize(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a plan that define what an apply does, in a canonical order."""
    resources = [
        _normal_resource(entry)
        for entry in plan.get("resource_changes") or []
        if kind_of(entry.get("change", {}).get("actions", [])) != "no-op"
    ]
    resources.sort(key=lambda item: (item["address"], item["actions"]))
    outputs: dict[str, Any] = {}
    for name, output in sorted((plan.get("output_changes") or {}).items()):
        actions = [str(a) for a in output.get("actions", [])]
        if kind_of(actions) == "no-op":
            continue
        after = redact(output.get("after"), output.get("after_sensitive"))
        if output.get("after_unknown") is True:
            after = UNKNOWN
        outputs[name] = {"actions": actions, "after": after}
    return {"version": NORMAL_FORM_VERSION, "resources": resources, "outputs": outputs}


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def plan_hash(normal: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of a normalized plan's canonical JSON."""
    return "sha256:" + _digest(normal)


def fingerprints(normal: Mapping[str, Any]) -> dict[str, str]:
    """A short digest per changed resource/output, to say *which* part of a plan differs."""
    prints = {
        str(item["address"]): kind_of(item["actions"]) + ":" + _digest(item)[:12]
        for item in normal.get("resources", [])
    }
    for name, output in (normal.get("outputs") or {}).items():
        prints[f"output.{name}"] = kind_of(output["actions"]) + ":" + _digest(output)[:12]
    return prints


@dataclass(frozen=True)
class PlanDiff:
    """How a new plan differs from the reviewed one, per address."""

    added: list[str]
    removed: list[str]
    altered: list[tuple[str, str, str]]  # (address, reviewed kind, new kind)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.altered)


def diff(reviewed: Mapping[str, str], new: Mapping[str, str]) -> PlanDiff:
    """Compare two :func:`fingerprints` maps."""
    added = sorted(set(new) - set(reviewed))
    removed = sorted(set(reviewed) - set(new))
    altered = [
        (address, reviewed[address].split(":")[0], new[address].split(":")[0])
        for address in sorted(set(new) & set(reviewed))
        if new[address] != reviewed[address]
    ]
    return PlanDiff(added=added, removed=removed, altered=altered)


def render_diff(found: PlanDiff, *, limit: int = 50) -> str:
    """Markdown bullet list of a :class:`PlanDiff`, at most ``limit`` lines."""
    lines = [f"- new since review: `{a}`" for a in found.added]
    lines += [f"- reviewed but no longer planned: `{a}`" for a in found.removed]
    lines += [
        f"- `{a}`: reviewed {old}, now {new}" if old != new
        else f"- `{a}`: {new} with different values"
        for a, old, new in found.altered
    ]
    if len(lines) > limit:
        lines = [*lines[:limit], f"- … and {len(lines) - limit} more"]
    return "\n".join(lines)
