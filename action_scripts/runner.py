"""The one module that speaks the GitHub Actions runner protocol.

Inputs arrive as ``INPUT_<NAME>`` environment variables (the composite actions map them through
``env:``); outputs go to ``$GITHUB_OUTPUT``, exported variables to ``$GITHUB_ENV``, Markdown to
``$GITHUB_STEP_SUMMARY``, and workflow commands (masks, annotations, groups) to stdout. Nothing
else in the package writes those files or prints those commands.

Outside a runner (``GITHUB_ACTIONS`` is not ``true``: ``factory`` used from a terminal) nothing here
speaks the protocol: no workflow commands are printed, errors and warnings are plain
``error: <title>: <message>`` lines with the fix on stderr (coloured on a TTY unless ``NO_COLOR``
is set), inputs are named in their flag form (``-i name=…``), the summary file is written only
when ``GITHUB_STEP_SUMMARY`` names one, and outputs and exports without their files are printed
as ``name=value`` lines, never secrets.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path, PurePath
from typing import Literal, TextIO

import botocore.exceptions

from action_scripts.errors import FactoryError, InputError, InputProblem

_masked: set[str] = set()

# How an input is named at a terminal; ``factory <action>`` takes ``-i name=value``. A CLI with
# its own flags (``factory init --role-arn``) sets this to ``"--{name}"``.
input_flag_form = "-i {name}=…"


def _out() -> TextIO:
    return sys.stdout


def in_actions() -> bool:
    """True under a GitHub Actions runner (which always sets ``GITHUB_ACTIONS=true``)."""
    return os.environ.get("GITHUB_ACTIONS") == "true"


def input_hint(name: str) -> str:
    """How to name input ``name`` in a fix: `` `name` `` in a workflow, its flag at a terminal."""
    return f"`{name}`" if in_actions() else f"`{input_flag_form.format(name=name)}`"


_COLOURS = {"error": "31", "warning": "33", "notice": "36", "fix": "2", "group": "1"}


def _paint(text: str, kind: str, stream: TextIO) -> str:
    """Colour only on a TTY, and never with ``NO_COLOR`` set (no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    if os.environ.get("NO_COLOR") or not (isatty and isatty()):
        return text
    return f"\x1b[{_COLOURS[kind]}m{text}\x1b[0m"


# Control characters from untrusted text could move a terminal's cursor or rewrite its title.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _human(level: str, message: str, *, title: str | None = None, fix: str = "") -> None:
    """One human message at a terminal: ``error: <title>: <message>`` and the fix below it."""
    stream = sys.stderr if level in {"error", "warning"} else _out()
    head = f"{level}: {title}: {message}" if title else f"{level}: {message}"
    lines = [_paint(_CONTROL.sub("?", head), level, stream)]
    lines += [_paint(f"  {_CONTROL.sub('?', line)}", "fix", stream)
              for line in (f"fix: {fix}" if fix else "").splitlines()]
    print("\n".join(lines), file=stream, flush=True)


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, value: str = "", **properties: str | int | None) -> None:
    """Print one workflow command, escaping its value and properties as the runner expects."""
    props = ",".join(
        f"{key}={_escape_property(str(val))}" for key, val in properties.items() if val is not None
    )
    head = f"::{name} {props}" if props else f"::{name}"
    if not in_actions():
        return  # no runner reads it: a workflow command at a terminal is noise
    print(f"{head}::{_escape_data(value)}", file=_out(), flush=True)


def mask(value: str) -> None:
    """Register a secret with the runner, line by line, before it can appear anywhere.

    The runner masks per line, so a multi-line secret is registered whole and line by line.
    """
    if not value:
        return
    pieces = [value, *value.splitlines()]
    for piece in pieces:
        piece = piece.strip()
        if len(piece) < 2 or piece in _masked:
            continue
        _masked.add(piece)
        if not in_actions():
            continue  # nothing to register with; ``_masked`` still hides it in printed outputs
        print(f"::add-mask::{_escape_data(piece)}", file=_out(), flush=True)


def is_masked(value: str) -> bool:
    return value in _masked


Level = Literal["error", "warning", "notice", "debug"]


def annotate(level: Level, message: str, *, title: str | None = None) -> None:
    """Print an annotation (``::error title=...::message``), or at a terminal a plain line."""
    if not in_actions():
        if level != "debug":
            _human("note" if level == "notice" else level, message, title=title)
        return
    if level == "debug":
        command("debug", message)
    else:
        command(level, message, title=title)


def error(message: str, *, title: str | None = None) -> None:
    annotate("error", message, title=title)


def warning(message: str, *, title: str | None = None) -> None:
    annotate("warning", message, title=title)


def notice(message: str, *, title: str | None = None) -> None:
    annotate("notice", message, title=title)


# The runner splits its output into lines at \r\n, \n and a lone \r.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Zero-width space: `##[` stays readable but is no longer the runner's old command prefix.
_V1_DEFUSED = "##\u200b["


def info(message: str) -> None:
    """Print log text that may be untrusted, so that the runner cannot act on any of it.

    Every plain log line goes through here: Terraform output and plans, builder output, AWS
    error messages, smoke-test replies. The runner reads a line as a command when, after
    trimming leading whitespace, it starts with ``::name ...::`` — and anywhere a line holds
    ``##[name ...]``. So ``##[`` is broken with a zero-width space, and text holding ``::`` is
    printed between ``::stop-commands::<token>`` and ``::<token>::``, with a fresh random token
    the text cannot know; the runner ignores every command in between.
    """
    lines = [line.replace("##[", _V1_DEFUSED) for line in _LINE_BREAK.split(message)]
    if len(lines) > 1 and not lines[-1]:
        lines.pop()  # a trailing line break ends the last line, it starts no new one
    out = _out()
    if not in_actions():
        print("\n".join(_CONTROL.sub("?", line) for line in lines), file=out, flush=True)
        return
    if not any("::" in line for line in lines):
        print("\n".join(lines), file=out, flush=True)
        return
    token = secrets.token_hex(16)
    print(f"::stop-commands::{token}", file=out)
    print("\n".join(lines), file=out)
    print(f"::{token}::", file=out, flush=True)


@contextlib.contextmanager
def group(title: str) -> Iterator[None]:
    """A collapsible log group (at a terminal, a heading line)."""
    if not in_actions():
        print(_paint(f"==> {_CONTROL.sub('?', title)}", "group", _out()), file=_out(), flush=True)
    command("group", title)
    try:
        yield
    finally:
        command("endgroup")


def _in_runner(variable: str) -> str | None:
    path = os.environ.get(variable, "")
    return path or None


def _write_file_command(variable: str, name: str, value: str) -> None:
    path = _in_runner(variable)
    if path is None:
        return
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
        raise ValueError(f"not a valid name for {variable}: {name!r}")
    # A random delimiter that the value cannot contain makes multi-line values safe and stops a
    # value from smuggling in further name=value pairs.
    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    while delimiter in value:
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def set_output(name: str, value: str) -> None:
    """Set a step output (multi-line safe)."""
    if _in_runner("GITHUB_OUTPUT") is None:
        if name == "failure-reason" and not in_actions():
            return  # the error line already says what failed
        shown = "***" if value in _masked else value
        info(f"output {name}={shown}")
        return
    _write_file_command("GITHUB_OUTPUT", name, value)


def export_env(name: str, value: str, *, secret: bool = False) -> None:
    """Export a variable to later steps of the job (and to this process).

    ``secret=True`` masks the value first; callers must not print it afterwards either.
    """
    if secret:
        mask(value)
    os.environ[name] = value
    if _in_runner("GITHUB_ENV") is None:
        info(f"export {name}={'***' if secret else value}")
        return
    _write_file_command("GITHUB_ENV", name, value)


def summary(markdown: str) -> None:
    """Append Markdown to the step summary (under Actions without the file: printed as log text;
    at a terminal without the file: nothing, the log lines already said it)."""
    path = _in_runner("GITHUB_STEP_SUMMARY")
    if path is None:
        if in_actions():
            info(markdown)
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(markdown.rstrip("\n") + "\n\n")


def md_escape(value: str) -> str:
    """Escape a value for a Markdown table cell."""
    return value.replace("|", "\\|").replace("\n", " ").replace("`", "'")


class Inputs:
    """Reads ``INPUT_*`` variables and collects every problem before anything is done.

    Each reader returns a usable placeholder on error, so all inputs are checked in one pass and
    :meth:`check` reports them together.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self.problems: list[InputProblem] = []

    def raw(self, name: str) -> str:
        key = "INPUT_" + name.upper().replace("-", "_")
        return self._environ.get(key, "").strip()

    def problem(self, name: str, message: str, expected: str) -> None:
        self.problems.append(InputProblem(name, message, expected))

    def text(self, name: str, *, required: bool = False, default: str = "") -> str:
        value = self.raw(name)
        if not value and required:
            self.problem(name, "is required but empty.", "a value")
        return value or default

    def matching(
        self,
        name: str,
        pattern: re.Pattern[str],
        *,
        expected: str,
        required: bool = False,
        default: str = "",
    ) -> str:
        value = self.raw(name)
        if not value:
            if required:
                self.problem(name, "is required but empty.", expected)
            return default
        # `\d` and `\w` match Arabic-Indic digits and other scripts unless a pattern says
        # re.ASCII; no AWS or git name accepts them, so refuse them whatever the pattern.
        if not value.isascii() or not pattern.fullmatch(value):
            self.problem(name, f"'{value}' is not valid.", expected)
        return value

    def integer(self, name: str, *, default: int, minimum: int, maximum: int) -> int:
        value = self.raw(name)
        if not value:
            return default
        expected = f"a whole number from {minimum} to {maximum}"
        if not re.fullmatch(r"-?[0-9]+", value):
            self.problem(name, f"'{value}' is not a whole number.", expected)
            return default
        number = int(value)
        if not minimum <= number <= maximum:
            self.problem(name, f"{number} is out of range.", expected)
            return default
        return number

    def boolean(self, name: str, *, default: bool) -> bool:
        value = self.raw(name).lower()
        if not value:
            return default
        if value in {"true", "false"}:
            return value == "true"
        self.problem(name, f"'{self.raw(name)}' is not a boolean.", "`true` or `false`")
        return default

    def choice(self, name: str, choices: tuple[str, ...], *, default: str) -> str:
        value = self.raw(name)
        if not value:
            return default
        if value not in choices:
            self.problem(name, f"'{value}' is not one of the accepted values.", " | ".join(choices))
            return default
        return value

    def items(self, name: str) -> list[str]:
        """A list given as comma- and/or newline-separated items."""
        return [item.strip() for item in re.split(r"[,\n]", self.raw(name)) if item.strip()]

    def workspace(self) -> Path:
        """The checkout (``GITHUB_WORKSPACE``), or the current directory at a terminal."""
        return Path(self._environ.get("GITHUB_WORKSPACE") or os.getcwd())

    def workspace_path(self, name: str, value: str, *, base: Path | None = None) -> Path | None:
        """``value`` resolved (symlinks followed) against ``base`` (default: the workspace).

        A path that leads outside the workspace — absolute, through ``..`` or a symlink — is a
        problem, and None is returned so that nothing reads it.
        """
        workspace = self.workspace().resolve()
        resolved = ((base or workspace) / value).resolve()
        if not resolved.is_relative_to(workspace):
            how = "is an absolute path" if PurePath(value).is_absolute() else "leads"
            self.problem(
                name, f"'{value}' {how} outside the workspace ({resolved} is not under "
                f"{workspace}).",
                "a path relative to the repository checkout (`GITHUB_WORKSPACE`), with no "
                "`..` or symlink leading out of it",
            )
            return None
        return resolved

    def check(self) -> None:
        if self.problems:
            raise InputError(self.problems)


def _report_human(err: FactoryError) -> None:
    if isinstance(err, InputError):
        for problem in err.problems:
            flag = input_flag_form.format(name=problem.name)
            # At a terminal the title names the flag the person typed (`-i target`, `--role-arn`).
            _human("error", problem.message, title=f"Invalid {flag.split('=', 1)[0]}",
                   fix=f"`{flag}`: expected {problem.expected}.")
        print("Nothing was changed: every input is checked before anything is done.",
              file=sys.stderr)
        return
    _human("error", err.message, title=err.title, fix=err.fix)
    if err.details:
        print(_CONTROL.sub("?", err.details), file=sys.stderr, flush=True)


def _report(err: FactoryError) -> None:
    if not in_actions():
        _report_human(err)
    elif isinstance(err, InputError):
        for problem in err.problems:
            error(
                f"{problem.message} Expected {problem.expected}.",
                title=f"Invalid input {problem.name}",
            )
    else:
        error(f"{err.message} Fix: {err.fix.splitlines()[0] if err.fix else ''}", title=err.title)
    _summary_block(err)
    set_output("failure-reason", err.reason)


def _summary_block(err: FactoryError) -> None:
    parts = [f"### ❌ {err.title}", "", f"**What happened:** {err.message}", ""]
    parts += ["**How to fix:**", "", err.fix, ""]
    if err.details:
        parts += [err.details, ""]
    if isinstance(err, InputError):
        parts.append("_Nothing was changed: inputs are checked before any AWS call._")
    summary("\n".join(parts))


def run_action(action: Callable[[], None]) -> int:
    """Run one action; map every failure to annotation, summary, ``failure-reason``, exit 1."""
    try:
        action()
    except FactoryError as err:
        _report(err)
        return 1
    except (botocore.exceptions.EndpointConnectionError,
            botocore.exceptions.ConnectTimeoutError) as exc:
        # Connection refused, DNS failure or timeout, after botocore's retries: not a bug.
        endpoint = str(getattr(exc, "kwargs", {}).get("endpoint_url", "")) or "(unknown)"
        _report(FactoryError(
            f"cannot reach the AWS endpoint {endpoint} ({exc}).",
            title="AWS endpoint unreachable",
            fix="Check the network and the endpoint: `AWS_ENDPOINT_URL`/"
            "`AWS_ENDPOINT_URL_<SERVICE>` if set (a local stand-in that is not running?), "
            "otherwise the region (`AWS_REGION`) and any proxy settings.",
            reason="aws-unreachable",
        ))
        return 1
    except Exception as exc:  # An unexpected bug: still fail readably, with the traceback.
        with group("Traceback"):
            info(traceback.format_exc())
        _report(
            FactoryError(
                f"Unexpected {type(exc).__name__}: {exc}",
                title="Internal error in Hoopstat Factory",
                fix="This is a bug in the action. Re-run with the log above and report it.",
                reason="internal-error",
            )
        )
        return 1
    return 0
