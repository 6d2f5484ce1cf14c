"""Tests for the runner-protocol module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from action_scripts import runner
from action_scripts.errors import FactoryError
from tests.helpers.runner_files import parse_file_commands


@pytest.fixture
def runner_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    files = {name: tmp_path / name for name in ("output", "env", "summary")}
    monkeypatch.setenv("GITHUB_OUTPUT", str(files["output"]))
    monkeypatch.setenv("GITHUB_ENV", str(files["env"]))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(files["summary"]))
    monkeypatch.setattr(runner, "_masked", set())
    return files




def test_multiline_output_round_trips(runner_files: dict[str, Path]) -> None:
    """A multi-line output, even one containing a fake delimiter line, reads back intact."""
    value = "line one\nEOF\nghadelimiter_x\nname=injected"
    runner.set_output("report", value)
    runner.set_output("plain", "1")
    parsed = parse_file_commands(runner_files["output"].read_text())
    assert parsed == {"report": value, "plain": "1"}


def test_delimiters_are_random(runner_files: dict[str, Path]) -> None:
    """Each value gets a fresh random delimiter, so a value cannot predict and close it."""
    runner.set_output("a", "x")
    runner.set_output("b", "y")
    delimiters = re.findall(r"<<(\S+)", runner_files["output"].read_text())
    assert len(set(delimiters)) == 2
    assert all(len(d) > 30 for d in delimiters)


def test_export_env_masks_secret_before_writing(
    runner_files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A secret export prints ::add-mask:: for it before the value reaches GITHUB_ENV."""
    runner.export_env("TOKEN", "s3cr3t-value", secret=True)
    out = capsys.readouterr().out
    assert "::add-mask::s3cr3t-value" in out
    assert parse_file_commands(runner_files["env"].read_text()) == {"TOKEN": "s3cr3t-value"}


def test_mask_registers_every_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A multi-line secret is masked whole and line by line (the runner masks per line)."""
    monkeypatch.setattr(runner, "_masked", set())
    runner.mask("first-line\nsecond-line")
    out = capsys.readouterr().out.splitlines()
    assert "::add-mask::first-line" in out
    assert "::add-mask::second-line" in out
    assert "::add-mask::first-line%0Asecond-line" in out


def test_annotation_escapes_properties_and_data(capsys: pytest.CaptureFixture[str]) -> None:
    """Titles with ':' and ',' and messages with newlines cannot break the command format."""
    runner.error("bad\nthing 100%", title="Input: a, b")
    assert capsys.readouterr().out.strip() == "::error title=Input%3A a%2C b::bad%0Athing 100%25"


def test_info_defuses_workflow_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """Untrusted text that looks like a workflow command is printed inert."""
    runner.info("::set-env name=X::y")
    assert not capsys.readouterr().out.startswith("::")


def test_inputs_collects_every_problem() -> None:
    """All bad inputs are reported together, each with its name and the accepted form."""
    inputs = runner.Inputs({"INPUT_COUNT": "abc", "INPUT_FLAG": "yes", "INPUT_MODE": "x"})
    inputs.integer("count", default=1, minimum=1, maximum=5)
    inputs.boolean("flag", default=False)
    inputs.choice("mode", ("a", "b"), default="a")
    inputs.text("name", required=True)
    assert [p.name for p in inputs.problems] == ["count", "flag", "mode", "name"]
    with pytest.raises(FactoryError) as caught:
        inputs.check()
    assert caught.value.reason == "invalid-input"


def test_run_action_reports_failure(
    runner_files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A FactoryError becomes ::error, a summary with what/how, failure-reason and exit 1."""

    def failing() -> None:
        raise FactoryError(
            "It broke.", title="Broken thing", fix="Do the fix.", reason="access-denied"
        )

    assert runner.run_action(failing) == 1
    assert "::error title=Broken thing::It broke." in capsys.readouterr().out
    summary = runner_files["summary"].read_text()
    assert "**What happened:** It broke." in summary and "Do the fix." in summary
    assert parse_file_commands(runner_files["output"].read_text()) == {
        "failure-reason": "access-denied"
    }


def test_run_action_maps_unexpected_errors(runner_files: dict[str, Path]) -> None:
    """A bug still fails readably with failure-reason internal-error."""

    def buggy() -> None:
        raise KeyError("oops")

    assert runner.run_action(buggy) == 1
    outputs = parse_file_commands(runner_files["output"].read_text())
    assert outputs["failure-reason"] == "internal-error"


def test_outside_runner_outputs_print_and_secrets_stay_hidden(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """At a terminal (no runner files) outputs print as name=value and secrets as ***."""
    for name in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(runner, "_masked", set())
    runner.set_output("region", "us-east-1")
    runner.export_env("SECRET_X", "value-123", secret=True)
    out = capsys.readouterr().out
    assert "output region=us-east-1" in out
    assert "export SECRET_X=***" in out
    assert "export SECRET_X=value-123" not in out
