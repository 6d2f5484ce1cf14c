"""Recognise "state is locked by someone else" in terraform's diagnostics: who holds it, since when.

Terraform reports a held lock as the error diagnostic "Error acquiring the state lock" whose
detail carries a ``Lock Info:`` block (ID, Path, Operation, Who, Version, Created) read from the
lock object; the S3 backend's native lockfile (``use_lockfile = true``) fills it from the
``.tflock`` object's JSON. That block is the only structured form terraform gives, so it is
parsed here, field by field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

LOCK_SUMMARY = "Error acquiring the state lock"

_FIELD = re.compile(r"^\s+(?P<key>ID|Path|Operation|Who|Version|Created|Info):[ \t]*(?P<value>.*)$",
                    re.MULTILINE)
# Go's time.Time String(): "2026-11-25 08:00:00.123456789 +0000 UTC" (fraction optional).
_GO_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2}) (?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d+))?"
    r" (?P<offset>[+-]\d{4})"
)


@dataclass(frozen=True)
class LockInfo:
    lock_id: str
    path: str
    operation: str
    who: str
    version: str
    created: datetime | None

    def age(self, *, now: datetime | None = None) -> str:
        """How long the lock has been held, e.g. ``2h 05m``; ``unknown`` without a time."""
        if self.created is None:
            return "unknown"
        seconds = int(((now or datetime.now(UTC)) - self.created).total_seconds())
        if seconds < 0:
            return "0s (its clock is ahead of this runner's)"
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        if days:
            return f"{days}d {hours:02d}h"
        if hours:
            return f"{hours}h {minutes:02d}m"
        if minutes:
            return f"{minutes}m {secs:02d}s"
        return f"{secs}s"


def parse_created(text: str) -> datetime | None:
    found = _GO_TIME.search(text)
    if found is None:
        return None
    fraction = (found["frac"] or "0")[:6].ljust(6, "0")
    stamp = f"{found['date']}T{found['time']}.{fraction}{found['offset']}"
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)


def parse_lock_info(detail: str) -> LockInfo | None:
    """The ``Lock Info:`` block of a diagnostic detail, or ``None`` if there is none."""
    _, marker, block = detail.partition("Lock Info:")
    if not marker:
        return None
    fields = {m["key"]: m["value"].strip() for m in _FIELD.finditer(block)}
    if not fields:
        return None
    return LockInfo(
        lock_id=fields.get("ID", ""),
        path=fields.get("Path", ""),
        operation=fields.get("Operation", ""),
        who=fields.get("Who", "") or "unknown",
        version=fields.get("Version", ""),
        created=parse_created(fields.get("Created", "")),
    )


def is_lock_error(summary: str) -> bool:
    return summary.strip().startswith(LOCK_SUMMARY)
