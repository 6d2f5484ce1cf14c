"""Tests for the retry helper."""

from __future__ import annotations

import random

import pytest

from action_scripts.retry import backoff_delays, retry


class Transient(Exception):
    pass


def test_retries_transient_then_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    """Transient failures are retried with a log line each, and the eventual result returned."""
    calls = []
    slept: list[float] = []

    def call() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise Transient("busy")
        return "ok"

    result = retry(
        call,
        attempts=5,
        is_transient=lambda e: isinstance(e, Transient),
        what="thing",
        sleep=slept.append,
    )
    assert result == "ok" and len(calls) == 3 and len(slept) == 2
    assert capsys.readouterr().out.count("thing: attempt") == 2


def test_never_retries_permanent_errors() -> None:
    """A non-transient error (such as AccessDenied) is raised at once, without sleeping."""
    slept: list[float] = []

    def call() -> None:
        raise ValueError("denied")

    with pytest.raises(ValueError, match="denied"):
        retry(call, attempts=5, is_transient=lambda e: False, what="x", sleep=slept.append)
    assert slept == []


def test_gives_up_after_attempts() -> None:
    """Attempts are bounded: the last transient error is raised after N calls."""
    calls = []

    def call() -> None:
        calls.append(1)
        raise Transient("still busy")

    with pytest.raises(Transient):
        retry(call, attempts=4, is_transient=lambda e: True, what="x", sleep=lambda s: None)
    assert len(calls) == 4


def test_backoff_is_full_jitter_and_capped() -> None:
    """Each delay lies in [0, min(cap, base*2^n)]."""
    delays = backoff_delays(10, base=0.05, cap=1.0, rng=random.Random(7))
    assert len(delays) == 9
    for n, delay in enumerate(delays):
        assert 0 <= delay <= min(1.0, 0.05 * 2**n)
