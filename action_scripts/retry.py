"""One retry helper: bounded attempts, full-jitter exponential backoff, a log line per retry.

Tests pass ``sleep=`` to remove the waiting; ``HOOPSTAT_FACTORY_RETRY_BASE_SECONDS`` lets the
bench shrink it for whole-workflow runs.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from typing import TypeVar

from action_scripts import runner

T = TypeVar("T")

DEFAULT_BASE_SECONDS = 0.05
DEFAULT_CAP_SECONDS = 10.0


def backoff_delays(
    attempts: int, *, base: float, cap: float, rng: random.Random | None = None
) -> list[float]:
    """Full-jitter delays before attempts 2..N: uniform(0, min(cap, base * 2**n))."""
    pick = rng or random.Random()  # noqa: S311 - jitter, not cryptography
    return [pick.uniform(0, min(cap, base * 2**n)) for n in range(attempts - 1)]


def retry(
    call: Callable[[], T],
    *,
    attempts: int,
    is_transient: Callable[[BaseException], bool],
    what: str,
    base: float | None = None,
    cap: float = DEFAULT_CAP_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``call`` until it succeeds, a non-transient error occurs, or attempts run out."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    if base is None:
        base = float(os.environ.get("HOOPSTAT_FACTORY_RETRY_BASE_SECONDS", DEFAULT_BASE_SECONDS))
    delays = backoff_delays(attempts, base=base, cap=cap)
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            delay = delays[attempt - 1]
            runner.info(
                f"{what}: attempt {attempt}/{attempts} failed ({type(exc).__name__}: "
                f"{str(exc)[:200]}); retrying in {delay:.2f}s"
            )
            sleep(delay)
    raise AssertionError("unreachable")
