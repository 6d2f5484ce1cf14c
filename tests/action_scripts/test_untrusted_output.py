"""Echoed text from outside (smoke replies, Terraform plans) cannot command the real runner.

Logs are read with :mod:`tests.helpers.runner_commands`, an emulation of the runner's parsing
rules, because act (the bench's runner) only parses commands at column 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from action_scripts import lambda_deploy, runner, terraform_binary
from factory_bench.stack import Bench
from factory_bench.testing import need_tool
from tests.helpers import runner_commands
from tests.helpers.lambda_app import queue_replies, seed_app

HOSTILE = ("\n::set-output name=version::PWNED\n   ::add-mask::PWNED\n"
           "ok ##[set-env name=PWNED]x\r::error::PWNED")


def test_hostile_smoke_reply_is_defused(run_action: Any, bench: Bench) -> None:
    """A failing smoke reply full of commands is shown in the log and the ::error, and the
    runner's rules find no command in it; the alias is untouched."""
    app = seed_app(bench)
    queue_replies(bench, app.function, [{"payload": HOSTILE, "function_error": "Unhandled"}],
                  qualifier="2")
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(1),
                                         "smoke-payload": "{}"})
    assert run.code == 1 and run.reason == "smoke-test-failed", run.stdout
    assert "::set-output name=version::PWNED" in run.stdout  # shown, not acted on
    carrying = runner_commands.escaped(run.stdout, "PWNED")
    # Only our own ::error carries the reply, as escaped data of one annotation.
    assert [c.name for c in carrying] == ["error"], carrying
    assert carrying[0].data.startswith("Smoke test of version 2 failed")
    assert {c.name for c in runner_commands.commands(run.stdout)} <= {"group", "endgroup",
                                                                       "error"}
    assert app.alias()["FunctionVersion"] == "1"


def test_hostile_terraform_output_in_plan_is_defused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Terraform output value holding commands, printed indented in the plan text, yields no
    command by the runner's rules."""
    need_tool("terraform", install_hint="install terraform")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")  # defusing is for the runner's eyes
    monkeypatch.setattr(runner, "_masked", set())
    (tmp_path / "main.tf").write_text(
        f'output "note" {{\n  value = {json.dumps(HOSTILE)}\n}}\n')
    tf = terraform_binary.Terraform(directory=tmp_path, environ={
        "PATH": __import__("os").environ["PATH"], "CHECKPOINT_DISABLE": "1",
        "HOME": str(tmp_path)})
    result = tf.run("plan", "-no-color", "-input=false")
    out = capsys.readouterr().out
    assert result.returncode == 0, out
    assert "PWNED" in out  # Terraform did print the value
    assert runner_commands.escaped(out, "PWNED") == []
