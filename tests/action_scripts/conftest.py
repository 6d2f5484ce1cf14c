"""Fixtures for the runtime's tests: they run the actions as a runner step would (``GITHUB_ACTIONS``
is ``true``; tests of terminal mode unset it themselves), and the fault proxy in front of moto
(``run_action`` is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import botocore.retries.standard
import pytest

from factory_bench.fault_proxy import FaultProxy
from factory_bench.stack import Bench


@pytest.fixture(autouse=True)
def under_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """A runner always sets GITHUB_ACTIONS=true; the runtime speaks workflow commands then."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")


@pytest.fixture
def proxy(bench: Bench, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """The fault injector in front of moto; botocore's retry backoff shortened to 10 ms so the
    retries (not their waiting) are what is tested."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount",
                        lambda self, context: 0.01)
    running = FaultProxy(bench.moto_url).start()
    yield running
    running.stop()
