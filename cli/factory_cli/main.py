"""The suite's command for app teams at a terminal (`factory`).

Every action a workflow runs is here too (inputs as ``--input name=value``, or ``INPUT_*`` exactly
as in a workflow), next to the tools that only make sense at a terminal: ``init`` and ``docs``.
The bench and the local rehearsal are not here: they are the dev-only ``factory-bench`` command.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def oidc_subject(argv: list[str]) -> int:
    from factory_cli.oidc_subject import main

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
        Tool("oidc-subject", oidc_subject,
             "read or set the repo's OIDC subject template; print the subjects roles must trust"),
    )
}

# changed-apps is an action with terminal flags of its own (--base, --head, ...).
ARGV_ACTIONS: dict[str, Callable[[list[str]], int]] = {"changed-apps": changed_apps}


def version() -> str:
    """The CLI's and the runtime's versions (they are installed from the same suite commit)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    found = []
    for dist in ("hoopstat-factory-cli", "hoopstat-factory"):
        try:
            found.append(f"{dist} {installed(dist)}")
        except PackageNotFoundError:
            found.append(f"{dist} (not installed)")
    return "factory: " + ", ".join(found)


def _help() -> str:
    width = max(len(name) for name in [*ACTIONS, *TOOLS])
    lines = ["usage: factory <command> [args]", "", (__doc__ or "").splitlines()[0], ""]
    lines.append("actions (what the composite actions run; inputs as -i NAME=VALUE):")
    lines += [f"  {a.name:<{width}}  {a.summary}" for a in ACTIONS.values()]
    lines.append("")
    lines.append("tools:")
    lines += [f"  {t.name:<{width}}  {t.summary}" for t in TOOLS.values()]
    lines.append("")
    lines.append("`factory <command> --help` shows a command's options and an action's inputs;")
    lines.append("`factory --version` the installed versions.")
    return "\n".join(lines)


def action_metadata() -> dict[str, Any]:
    """Each action's inputs as its action.yml declares them (kept current by `factory docs`)."""
    loaded: dict[str, Any] = json.loads(
        (Path(__file__).resolve().parent / "action_inputs.json").read_text())
    return loaded


def _inputs_help(name: str, meta: dict[str, Any]) -> str:
    lines = [f"inputs of {name} (-i NAME=VALUE, repeatable; or INPUT_<NAME> variables):"]
    for input_name, spec in meta["inputs"].items():
        flag = " (required)" if spec["required"] else (
            f" (default: {spec['default']})" if spec["default"] else "")
        lines.append(f"  {input_name}{flag}")
        lines += [f"      {line}" for line in textwrap.wrap(spec["description"], 74)]
    return "\n".join(lines)


def _run_action(name: str, rest: list[str]) -> int:
    meta = action_metadata().get(name, {"description": ACTIONS[name].summary, "inputs": {}})
    parser = argparse.ArgumentParser(
        prog=f"factory {name}", description=meta["description"],
        epilog=_inputs_help(name, meta), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--input", "-i", action="append", default=[], metavar="NAME=VALUE",
                        help="an action input (see the list below)")
    known = set(meta["inputs"])
    for item in parser.parse_args(rest).input:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"-i needs NAME=VALUE, got {item!r}")
        if known and key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            parser.error(f"-i {key}: {name} has no input {key!r}{hint} "
                         f"(`factory {name} --help` lists them)")
        os.environ["INPUT_" + key.upper().replace("-", "_")] = value
    return ACTIONS[name].run()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help"}:
        print(_help())
        return 0 if args else 2
    if args[0] in {"-V", "--version"}:
        print(version())
        return 0
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
