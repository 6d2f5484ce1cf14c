"""Traffic-shift strategies: `all-at-once`, `canary-<pct>-<minutes>`, `linear-<pct>-<minutes>`.

The names follow CodeDeploy's Lambda deployment configurations (``Canary10Percent5Minutes``,
``Linear10PercentEvery1Minute``) so the behaviour is familiar; the shift itself is done here with
alias routing weights, without CodeDeploy or CloudFormation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PATTERN = re.compile(
    r"all-at-once|(?P<kind>canary|linear)-(?P<percent>\d{1,3})-(?P<minutes>\d{1,4})",
    re.ASCII,
)
EXPECTED = (
    "`all-at-once`, `canary-<percent>-<minutes>` (e.g. `canary-10-5`: 10% for 5 minutes, then "
    "all) or `linear-<percent>-<minutes>` (e.g. `linear-25-2`: +25% every 2 minutes), percent "
    "1-99, minutes 1-1440"
)


@dataclass(frozen=True)
class Step:
    """Send ``weight`` (0 < weight < 1) of the traffic to the new version for ``minutes``."""

    weight: float
    minutes: int


@dataclass(frozen=True)
class Strategy:
    name: str
    steps: tuple[Step, ...]  # empty: all at once

    @property
    def bake_minutes(self) -> int:
        return sum(step.minutes for step in self.steps)


def parse(value: str) -> Strategy | str:
    """A :class:`Strategy`, or the reason ``value`` is not one."""
    match = PATTERN.fullmatch(value)
    if match is None:
        return f"'{value}' is not a known strategy."
    if value == "all-at-once":
        return Strategy(value, ())
    percent, minutes = int(match["percent"]), int(match["minutes"])
    if not 1 <= percent <= 99:
        return f"percent {percent} in '{value}' is outside 1-99."
    if not 1 <= minutes <= 1440:
        return f"minutes {minutes} in '{value}' is outside 1-1440."
    if match["kind"] == "canary":
        return Strategy(value, (Step(percent / 100, minutes),))
    weights = range(percent, 100, percent)
    return Strategy(value, tuple(Step(w / 100, minutes) for w in weights))
