"""What the GitHub Actions runner would act on in a step's log: an EMULATION of its rules.

act parses workflow commands only at column 0, so the bench's runner cannot show what the real
runner would do with a log. This reads a log by the real runner's rules (actions/runner,
``ActionCommandManager.TryProcessCommand`` and ``ActionCommand.TryParseV2``/``TryParse``):

* the log is split into lines at ``\\r\\n``, ``\\n`` and ``\\r``;
* a line is a command when, with leading whitespace trimmed, it is ``::name props::data`` with a
  known name (``props`` comma-separated ``k=v``);
* otherwise when it holds ``##[name props]data`` anywhere (``props`` ``;``-separated);
* ``::stop-commands::TOKEN`` ignores every command until one named ``TOKEN`` (either form,
  compared case-insensitively), and command names are matched case-insensitively here too, so
  the emulation errs towards finding more commands, never fewer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

KNOWN = frozenset({
    "add-mask", "add-matcher", "add-path", "debug", "echo", "endgroup", "error", "group",
    "internal-set-repo-path", "notice", "remove-matcher", "save-state", "set-env", "set-output",
    "stop-commands", "warning",
})
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass
class Command:
    name: str
    data: str
    properties: dict[str, str] = field(default_factory=dict)
    line: str = ""


def _unescape(value: str) -> str:
    return (value.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":")
            .replace("%2C", ",").replace("%3B", ";").replace("%5D", "]").replace("%25", "%"))


def _parse_v2(line: str, known: set[str]) -> Command | None:
    text = line.lstrip()
    if not text.startswith("::"):
        return None
    end = text.find("::", 2)
    if end < 0:
        return None
    info = text[2:end]
    name, _, props = info.partition(" ")
    if name.lower() not in known:
        return None
    properties = {}
    for item in (p for p in props.strip().split(",") if p):
        key, sep, value = item.partition("=")
        if sep and key and value:
            properties[key] = _unescape(value)
    return Command(name, _unescape(text[end + 2:]), properties, line)


def _parse_v1(line: str, known: set[str]) -> Command | None:
    start = line.find("##[")
    if start < 0:
        return None
    end = line.find("]", start)
    if end < 0:
        return None
    info = line[start + 3:end]
    name, _, props = info.partition(" ")
    if name.lower() not in known:
        return None
    properties = {}
    for item in (p for p in props.split(";") if p):
        key, sep, value = item.partition("=")
        if sep and key and value:
            properties[key] = _unescape(value)
    return Command(name, _unescape(line[end + 1:]), properties, line)


def commands(log: str) -> list[Command]:
    """Every command the runner would act on in ``log``, in order (stop/resume excluded)."""
    known = set(KNOWN)
    token: str | None = None
    acted: list[Command] = []
    for line in _LINE_BREAK.split(log):
        command = _parse_v2(line, known) or _parse_v1(line, known)
        if command is None:
            continue
        name = command.name.lower()
        if token is not None:
            if token and name == token:
                known.discard(token)
                token = None
            continue
        if name == "stop-commands":
            token = command.data.lower()
            known.add(token)
            continue
        acted.append(command)
    return acted


def escaped(log: str, marker: str) -> list[Command]:
    """The commands in ``log`` that carry ``marker`` (in name, data or properties)."""
    return [c for c in commands(log)
            if marker in c.name or marker in c.data or any(
                marker in k or marker in v for k, v in c.properties.items())]
