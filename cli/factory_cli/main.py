"""The suite's command for app teams at a terminal (`factory`).

Every action a workflow runs is here too (inputs as ``--input name=value``, or ``INPUT_*`` exactly
as in a workflow), next to the tools that only make sense at a terminal: ``init`` and ``docs``.
The bench and the local rehearsal are not here: they are the dev-only ``factory-bench`` command.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from action_scripts.actions import ACTIONS


def init(argv: list[str]) -> int:
    from factory_cli.init_repo import main

    return main(argv)


def status(argv: list[str]) -> int:
    from factory_cli.status import main

    return main(argv)


def docs(argv: list[str]) -> int:
    from factory_cli.docs import main

    return main(argv)


def changed_apps(argv: list[str]) -> int:
    from action_scripts.changed_apps import main

    return main(argv)


@dataclass(frozen=True)
class Tool:
    name: str
    run: Callable[[list[str]], int]
    summary: str


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool("init", init, "write an app repository's workflows (and scaffold a new app)"),
        Tool("status", status, "what is live: alias, version, image, commit, run, canary"),
        Tool("docs", docs, "regenerate the action READMEs' input/output tables (--check)"),
    )
}

# changed-apps is an action with terminal flags of its own (--base, --head, ...).
ARGV_ACTIONS: dict[str, Callable[[list[str]], int]] = {"changed-apps": changed_apps}


def _help() -> str:
    width = max(len(name) for name in [*ACTIONS, *TOOLS])
    lines = ["usage: factory <command> [args]", "", (__doc__ or "").splitlines()[0], ""]
    lines.append("actions (what the composite actions run; inputs as -i NAME=VALUE):")
    lines += [f"  {a.name:<{width}}  {a.summary}" for a in ACTIONS.values()]
    lines.append("")
    lines.append("tools:")
    lines += [f"  {t.name:<{width}}  {t.summary}" for t in TOOLS.values()]
    lines.append("")
    lines.append("`factory <command> --help` shows a command's options.")
    return "\n".join(lines)


def _run_action(name: str, rest: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"factory {name}", description=ACTIONS[name].summary)
    parser.add_argument("--input", "-i", action="append", default=[], metavar="NAME=VALUE")
    for item in parser.parse_args(rest).input:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--input needs NAME=VALUE, got {item!r}")
        os.environ["INPUT_" + key.upper().replace("-", "_")] = value
    return ACTIONS[name].run()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help"}:
        print(_help())
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command in TOOLS:
        return TOOLS[command].run(rest)
    if command in ARGV_ACTIONS:
        return ARGV_ACTIONS[command](rest)
    if command in ACTIONS:
        return _run_action(command, rest)
    print(f"factory: unknown command {command!r}\n\n{_help()}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
