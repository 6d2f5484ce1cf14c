"""Fixtures for running actions in-process against the bench (``run_action``, ``proxy``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.retries.standard
import pytest

from action_scripts import runner
from factory_bench.fault_proxy import FaultProxy
from factory_bench.stack import Bench
from tests.helpers.lambda_app import Run, base_env
from tests.helpers.runner_files import parse_file_commands


@pytest.fixture
def run_action(
    bench: Bench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., Run]:
    """Run an action's ``run(environ)`` in-process the way ``main()`` does; collect its files."""

    def run(action: Callable[..., None], inputs: dict[str, str], *,
            env: dict[str, str] | None = None, **kwargs: Any) -> Run:
        for name in ("output", "summary"):
            (tmp_path / name).unlink(missing_ok=True)
        monkeypatch.setattr(runner, "_masked", set())
        environ = {**base_env(bench, tmp_path), **(env or {})}
        environ.update({"INPUT_" + k.upper().replace("-", "_"): v for k, v in inputs.items()})
        for key, value in environ.items():
            monkeypatch.setenv(key, value)
        code = runner.run_action(lambda: action(dict(environ), **kwargs))
        output = tmp_path / "output"
        summary = tmp_path / "summary"
        return Run(
            code, capsys.readouterr().out,
            parse_file_commands(output.read_text()) if output.exists() else {},
            summary.read_text() if summary.exists() else "",
        )

    return run


@pytest.fixture
def proxy(bench: Bench, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """The fault injector in front of moto; botocore's retry backoff shortened to 10 ms so the
    retries (not their waiting) are what is tested."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount",
                        lambda self, context: 0.01)
    running = FaultProxy(bench.moto_url).start()
    yield running
    running.stop()
