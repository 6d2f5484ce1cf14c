"""The runner module at a terminal (GITHUB_ACTIONS unset) and under Actions (GITHUB_ACTIONS=true).

Each test runs a real process, as a user or a runner would, with an environment built from
scratch so that the host's own GITHUB_* variables cannot leak in.
"""

from __future__ import annotations

import os
import pty
import re
import socket
import subprocess
import sys
from pathlib import Path

from tests.helpers.runner_files import parse_file_commands

FAILING = """
from action_scripts import runner
from action_scripts.errors import FactoryError

def act():
    runner.warning("Something looks odd.", title="Odd thing")
    runner.mask("s3cr3t-value")
    with runner.group("A group"):
        runner.info("inside the group")
    raise FactoryError("It broke.", title="Broken thing", fix="Do the fix.\\nThen retry.",
                       reason="access-denied")

raise SystemExit(runner.run_action(act))
"""

WORKFLOW_COMMAND = re.compile(r"^\s*::[a-z-]+|##\[", re.MULTILINE)


def _env(**extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if k in {"PATH", "HOME", "LANG", "SYSTEMROOT"} or k.startswith("PYTHON")}
    return {**keep, **extra}


def _python(code: str, env: dict[str, str], *, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True,
                          check=False,
                          text=True, timeout=120)


def _factory(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "factory_cli", *args], env=env, cwd=cwd,
                          check=False,
                          capture_output=True, text=True, timeout=120)


def test_terminal_errors_are_human_lines_without_workflow_commands(tmp_path: Path) -> None:
    """At a terminal a failure prints `error: <title>: <message>` and its fix on stderr, and no
    workflow command, failure-reason line, Markdown block or colour (stderr is not a TTY)."""
    done = _python(FAILING, _env(), cwd=tmp_path)
    assert done.returncode == 1
    assert "error: Broken thing: It broke." in done.stderr
    assert "fix: Do the fix." in done.stderr and "Then retry." in done.stderr
    assert "warning: Odd thing: Something looks odd." in done.stderr
    both = done.stdout + done.stderr
    assert not WORKFLOW_COMMAND.search(both), both
    assert "failure-reason" not in both and "###" not in both and "s3cr3t" not in both
    assert "\x1b[" not in both
    assert "==> A group" in done.stdout and "inside the group" in done.stdout


def test_terminal_writes_the_summary_only_to_a_named_file(tmp_path: Path) -> None:
    """At a terminal the Markdown summary goes to GITHUB_STEP_SUMMARY when it is set, and is
    never printed."""
    summary = tmp_path / "summary.md"
    done = _python(FAILING, _env(GITHUB_STEP_SUMMARY=str(summary)), cwd=tmp_path)
    assert done.returncode == 1
    assert "### ❌ Broken thing" in summary.read_text()
    assert "###" not in done.stdout + done.stderr


def test_under_actions_the_protocol_is_unchanged(tmp_path: Path) -> None:
    """With GITHUB_ACTIONS=true the same failure is an ::error annotation, masks, groups, a
    Markdown summary and the failure-reason output."""
    files = {name: tmp_path / name for name in ("output", "summary")}
    done = _python(FAILING, _env(GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(files["output"]),
                                 GITHUB_STEP_SUMMARY=str(files["summary"])), cwd=tmp_path)
    assert done.returncode == 1
    assert "::error title=Broken thing::It broke. Fix: Do the fix." in done.stdout
    assert "::warning title=Odd thing::Something looks odd." in done.stdout
    assert "::add-mask::s3cr3t-value" in done.stdout and "::group::A group" in done.stdout
    assert "**What happened:** It broke." in files["summary"].read_text()
    assert parse_file_commands(files["output"].read_text()) == {"failure-reason": "access-denied"}


def _with_tty(code: str, env: dict[str, str], cwd: Path) -> str:
    """Run ``code`` with stderr on a pseudo-terminal; return what it wrote there."""
    leader, follower = pty.openpty()
    try:
        subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                       stderr=follower, timeout=120, check=False)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    return b"".join(chunks).decode(errors="replace")


def test_colour_only_on_a_tty_and_never_with_no_color(tmp_path: Path) -> None:
    """On a TTY the error line is coloured; NO_COLOR turns colour off."""
    coloured = _with_tty(FAILING, _env(), tmp_path)
    assert "\x1b[31merror: Broken thing: It broke." in coloured
    plain = _with_tty(FAILING, _env(NO_COLOR="1"), tmp_path)
    assert "error: Broken thing: It broke." in plain and "\x1b[" not in plain


def test_terminal_input_errors_name_the_flag(tmp_path: Path) -> None:
    """`factory lambda-rollback` with a bad input names it as `-i name=…`, with the accepted form,
    and says nothing was changed."""
    done = _factory("lambda-rollback", "-i", "function-name=bad name!", "-i", "target=nope",
                    env=_env(AWS_REGION="us-east-1"), cwd=tmp_path)
    assert done.returncode == 1
    assert "error: Invalid -i function-name: 'bad name!' is not valid." in done.stderr
    assert "`-i function-name=…`: expected" in done.stderr
    assert "error: Invalid -i target:" in done.stderr and "`-i target=…`" in done.stderr
    assert "Nothing was changed" in done.stderr
    assert not WORKFLOW_COMMAND.search(done.stdout + done.stderr)


def test_region_hint_fits_an_action_without_a_region_input(tmp_path: Path) -> None:
    """lambda-rollback has no aws-region input, so a missing region is explained with
    AWS_REGION, never "Pass `aws-region`"."""
    done = _factory("lambda-rollback", "-i", "function-name=hoopstat-api", env=_env(),
                    cwd=tmp_path)
    assert done.returncode == 1
    assert "error: AWS region missing: No AWS region is set." in done.stderr
    assert "export AWS_REGION=" in done.stderr
    assert "aws-region" not in done.stderr


def test_region_hint_names_the_input_as_a_flag_or_as_an_input(tmp_path: Path) -> None:
    """For an action that has a region input, the hint names it: `-i aws-region=…` at a terminal,
    `aws-region` under Actions."""
    code = ("from action_scripts import aws, runner\n"
            "raise SystemExit(runner.run_action(lambda: aws.resolve_region("
            "input_name='aws-region')))")
    terminal = _python(code, _env(), cwd=tmp_path)
    assert "`-i aws-region=…`" in terminal.stderr
    actions = _python(code, _env(GITHUB_ACTIONS="true"), cwd=tmp_path)
    assert "Fix: Pass `aws-region`" in actions.stdout


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens once the socket is closed


def test_unreachable_endpoint_is_named_not_called_a_bug(tmp_path: Path) -> None:
    """A refused connection to the AWS endpoint is "cannot reach the AWS endpoint <url>" with
    failure-reason aws-unreachable, at a terminal and under Actions — not an internal error."""
    url = f"http://127.0.0.1:{_closed_port()}"
    aws = {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_ENDPOINT_URL": url, "AWS_EC2_METADATA_DISABLED": "true"}
    terminal = _factory("lambda-rollback", "-i", "function-name=hoopstat-api", env=_env(**aws),
                        cwd=tmp_path)
    assert terminal.returncode == 1
    assert f"cannot reach the AWS endpoint {url}" in terminal.stderr, terminal.stderr
    assert "Internal error" not in terminal.stderr and "bug" not in terminal.stderr
    output = tmp_path / "output"
    actions = _factory("lambda-rollback", "-i", "function-name=hoopstat-api", cwd=tmp_path,
                       env=_env(**aws, GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(output)))
    assert actions.returncode == 1
    assert "::error title=AWS endpoint unreachable::cannot reach the AWS endpoint" in actions.stdout
    assert parse_file_commands(output.read_text()) == {
        "version": "", "previous-version": "", "failure-reason": "aws-unreachable"}
