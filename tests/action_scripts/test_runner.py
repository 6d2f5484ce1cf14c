"""Tests for the runner-protocol module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from action_scripts import runner
from action_scripts.errors import FactoryError
from tests.helpers import runner_commands
from tests.helpers.runner_files import parse_file_commands

# Lines a hostile Terraform output, plan, AWS message or smoke reply could hold; each would be a
# command to the real runner if printed as is ("PWNED" marks what must never be acted on).
HOSTILE = "\n".join([
    "::set-output name=version::PWNED",
    "    ::add-mask::PWNED-indented",
    "\t::set-env name=PWNED::tab",
    "plan: 1 to add ##[set-output name=PWNED]anywhere",
    "x\r::warning::PWNED-after-a-lone-CR",
    "::stop-commands::guess",
    "::error::PWNED-inside-a-fake-stop",
    "::guess::",
    "##[add-mask]PWNED-old-form",
    "::endgroup::",
])


@pytest.fixture(autouse=True)
def under_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are of the runner protocol: run them as a runner would (GITHUB_ACTIONS=true);
    terminal behaviour is tested in tests/action_scripts/test_runner_terminal.py."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")


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
    assert runner_commands.commands(capsys.readouterr().out) == []


def test_untrusted_text_issues_no_command_by_the_runners_rules(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Text printed through runner.info yields no command the real runner would act on, by its
    rules (leading whitespace trimmed, ##[ anywhere, stop-commands honoured), twice in a row."""
    runner.info(HOSTILE)
    runner.info(HOSTILE)
    out = capsys.readouterr().out
    assert runner_commands.commands(out) == []
    assert "PWNED-indented" in out and "PWNED-old-form" in out  # still readable in the log


def test_plain_text_is_printed_as_is(capsys: pytest.CaptureFixture[str]) -> None:
    """Text that cannot hold a command is printed unchanged, without stop-commands noise."""
    runner.info("Published version 3.\nAlias live -> 3\n")
    assert capsys.readouterr().out == "Published version 3.\nAlias live -> 3\n"


def test_stop_tokens_are_fresh_and_unguessable(capsys: pytest.CaptureFixture[str]) -> None:
    """Each wrapped print uses a new random token, so one print cannot learn the next one's."""
    runner.info("a::b")
    runner.info("c::d")
    tokens = re.findall(r"^::stop-commands::(\S+)$", capsys.readouterr().out, re.MULTILINE)
    assert len(tokens) == 2 and tokens[0] != tokens[1] and all(len(t) >= 32 for t in tokens)


def test_runner_emulation_finds_what_a_leading_space_does_not_stop() -> None:
    """The emulation applies the runner's rules: an indented `::cmd::`, a `##[cmd]` mid-line and
    a command after a lone CR are acted on, and stop-commands holds until its token."""
    found = runner_commands.escaped(HOSTILE.replace("\n", "\n "), "PWNED")
    assert [c.name for c in found] == ["set-output", "add-mask", "set-env", "set-output",
                                       "warning", "add-mask"]
    assert runner_commands.commands("::stop-commands::t\n::error::x\n##[T]\n::error::y") == [
        runner_commands.Command("error", "y", {}, "::error::y")]


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


def test_old_command_prefix_is_broken_without_stop_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A line with `##[cmd]` and no `::` is printed unwrapped, so `##[` itself is defused."""
    runner.info("resource changed ##[add-mask]PWNED")
    out = capsys.readouterr().out
    assert "stop-commands" not in out
    assert runner_commands.commands(out) == []
