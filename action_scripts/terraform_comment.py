"""The PR comment (and step summary) for one working directory's plan.

The comment starts with a hidden header, ``<!-- hoopstat-factory {json} -->``, naming the
working directory and the plan's normalized hash (plus, while it fits, a fingerprint per changed
resource, so a later apply can say *what* differs). The apply on merge finds the comment again by
that header and applies only a plan with the same hash.

GitHub rejects comment bodies over 65,536 characters; the body is kept under that by shortening
the full plan text first, then the resource table, then dropping the fingerprints.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from action_scripts import runner
from action_scripts.terraform_plan import SYMBOLS, Change, PlanSummary

COMMENT_LIMIT = 65536
# Room for what GitHub may add or count differently (it counts UTF-16 code units: see _length).
SAFETY_MARGIN = 512
HEADER_PREFIX = "<!-- hoopstat-factory "
HEADER_KIND = "terraform-plan"
FINGERPRINT_BUDGET = 20000
TABLE_ROWS = 200

_HEADER = re.compile(r"<!-- hoopstat-factory (?P<json>\{.*?\}) -->", re.DOTALL)


def _length(text: str) -> int:
    """Length as GitHub counts it (UTF-16 code units), never less than Python's ``len``."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Header:
    """What the hidden header records about a reviewed plan."""

    directory: str
    plan_hash: str
    commit: str = ""
    fingerprints: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "kind": HEADER_KIND, "dir": self.directory, "hash": self.plan_hash,
            "commit": self.commit, **self.extra,
        }
        if self.fingerprints is not None:
            data["changes"] = self.fingerprints
        # No ">" may appear raw: "-->" inside the JSON would end the HTML comment early.
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return text.replace("<", "\\u003c").replace(">", "\\u003e")

    def render(self) -> str:
        return f"{HEADER_PREFIX}{self.to_json()} -->"


def parse_header(body: str) -> Header | None:
    """The plan header at the start of a comment body, or ``None`` for any other comment."""
    found = _HEADER.match(body.lstrip())
    if found is None:
        return None
    try:
        data = json.loads(found["json"])
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or data.get("kind") != HEADER_KIND:
        return None
    changes = data.get("changes")
    return Header(
        directory=str(data.get("dir", "")),
        plan_hash=str(data.get("hash", "")),
        commit=str(data.get("commit", "")),
        fingerprints={str(k): str(v) for k, v in changes.items()}
        if isinstance(changes, dict) else None,
        extra={k: v for k, v in data.items()
               if k not in {"kind", "dir", "hash", "commit", "changes"}},
    )


def _fence(text: str) -> str:
    """A code fence longer than any backtick run inside ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _table(changes: Sequence[Change], rows: int) -> str:
    if not changes:
        return ""
    lines = ["| | resource | action |", "| --- | --- | --- |"]
    for change in changes[:rows]:
        label = change.kind + (f" ({change.reason.replace('_', ' ')})" if change.reason else "")
        lines.append(
            f"| `{SYMBOLS[change.kind]}` | `{runner.md_escape(change.address)}` | "
            f"{runner.md_escape(label)} |"
        )
    if len(changes) > rows:
        lines.append(f"| | … and {len(changes) - rows} more | |")
    return "\n".join(lines)


def _truncate_lines(text: str, budget: int) -> str:
    """At most ``budget`` characters of ``text``, cut at a line end, with a note if cut."""
    if _length(text) <= budget:
        return text
    note = "\n… plan truncated to fit GitHub's comment limit; the full plan is in the job log."
    room = max(0, budget - _length(note))
    cut = text[:room]
    while _length(cut) > room:
        cut = cut[: max(0, len(cut) - (_length(cut) - room))]
    if "\n" in cut:
        cut = cut[: cut.rindex("\n")]
    return cut + note


@dataclass
class Rendered:
    body: str
    truncated: bool
    fingerprints_kept: bool


def render(
    *,
    directory: str,
    summary: PlanSummary,
    plan_hash: str,
    plan_text: str,
    fingerprints: Mapping[str, str] | None,
    commit: str = "",
    run_url: str = "",
    notes: Sequence[str] = (),
    with_header: bool = True,
    limit: int = COMMENT_LIMIT,
) -> Rendered:
    """The comment body, at most ``limit`` characters (minus a margin) long."""
    budget = limit - SAFETY_MARGIN
    keep_prints = (
        fingerprints is not None and _length(json.dumps(fingerprints)) <= FINGERPRINT_BUDGET
    )
    rows = TABLE_ROWS
    while True:
        header = Header(
            directory=directory, plan_hash=plan_hash, commit=commit,
            fingerprints=dict(fingerprints) if keep_prints and fingerprints is not None else None,
        )
        icon = "📝" if summary.has_changes else "✅"
        parts = [header.render()] if with_header else []
        parts += [f"### {icon} Terraform plan for `{runner.md_escape(directory)}`", "",
                  f"**{summary.headline()}**", ""]
        table = _table([*summary.changes, *summary.outputs], rows)
        if table:
            parts += [table, ""]
        parts += [*notes, ""] if notes else []
        footer = [f"Plan hash `{plan_hash}`"]
        if commit:
            footer.append(f"commit `{commit[:12]}`")
        if run_url:
            footer.append(f"[workflow run]({run_url})")
        tail = ["", " · ".join(footer)]
        fixed = "\n".join([*parts, *tail])
        fence = _fence(plan_text)
        wrapper = ("<details><summary>Full plan</summary>\n\n" + fence + "text\n", "\n" + fence
                   + "\n</details>\n")
        room = budget - _length(fixed) - _length(wrapper[0] + wrapper[1])
        if room >= 200 or (rows <= 10 and not keep_prints):
            shown = _truncate_lines(plan_text.rstrip("\n"), max(room, 0))
            body = "\n".join([*parts, wrapper[0] + shown + wrapper[1], *tail])
            return Rendered(body=body, truncated=shown != plan_text.rstrip("\n"),
                            fingerprints_kept=keep_prints)
        if keep_prints:
            keep_prints = False
        else:
            rows = max(10, rows // 2)
