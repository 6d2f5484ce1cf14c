"""The `factory` command at a terminal: every subcommand described, inputs checked by name."""

from __future__ import annotations

import json

import pytest

from action_scripts.actions import ACTIONS
from factory_cli import docs, main
from tests.helpers import SUITE_DIR


def test_help_lists_every_subcommand_with_a_description(capsys: pytest.CaptureFixture[str]) -> None:
    """`factory --help` names every action and tool with a one-line description, no bare `rest`."""
    assert main.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in [*ACTIONS, *main.TOOLS]:
        line = next(line for line in out.splitlines() if line.strip().startswith(name + " "))
        assert len(line.split(None, 1)[1]) > 10, line
    assert "rest" not in out.split()


def test_action_help_lists_inputs_from_action_yml(capsys: pytest.CaptureFixture[str]) -> None:
    """`factory lambda-deploy --help` lists its inputs with defaults, read from its action.yml."""
    with pytest.raises(SystemExit) as caught:
        main.main(["lambda-deploy", "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert "function-name (required)" in out
    assert "alias (default: live)" in out


def test_misspelt_input_is_rejected_with_the_closest_match(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`-i targte=previous` fails naming the input and suggesting `target`; nothing runs."""
    ran: list[str] = []
    monkeypatch.setitem(main.ACTIONS, "lambda-rollback", main.ACTIONS["lambda-rollback"].__class__(
        "lambda-rollback", lambda: ran.append("ran") or 0, "x"))
    with pytest.raises(SystemExit) as caught:
        main.main(["lambda-rollback", "-i", "targte=previous"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "has no input 'targte'; did you mean 'target'?" in err
    assert ran == []


def test_version_names_both_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    """`factory --version` prints the CLI's and the runtime's installed versions."""
    assert main.main(["--version"]) == 0
    out = capsys.readouterr().out
    assert "hoopstat-factory-cli 0." in out and "hoopstat-factory 0." in out


def test_packaged_action_inputs_match_the_action_files() -> None:
    """The inputs the installed CLI knows are exactly those of actions/*/action.yml."""
    shipped = json.loads((SUITE_DIR / "cli" / "factory_cli" / "action_inputs.json").read_text())
    assert shipped == json.loads(docs.action_inputs(SUITE_DIR))
    assert set(shipped) == set(ACTIONS)
