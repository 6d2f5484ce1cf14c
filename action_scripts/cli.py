"""``factory``: one command with a subcommand per action, plus the bench and the local run.

Action subcommands take their inputs from ``INPUT_*`` variables exactly as in a workflow, or
from ``--input name=value`` flags for use at a terminal.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable

# subcommand -> module with main() -> int
ACTIONS: dict[str, str] = {
    "oidc-login": "action_scripts.oidc_login",
    "ecr-push": "action_scripts.ecr_push",
    "lambda-deploy": "action_scripts.lambda_deploy",
    "lambda-rollback": "action_scripts.lambda_rollback",
    "terraform": "action_scripts.terraform",
}

TOOLS: dict[str, str] = {
    "bench": "action_scripts.bench.cli",
    "local-run": "action_scripts.local_run",
    "docs": "action_scripts.docs",
    "changed-apps": "action_scripts.changed_apps",
    "init": "action_scripts.init_repo",
}


def _action_main(module: str) -> Callable[[], int]:
    loaded = importlib.import_module(module)
    main: Callable[[], int] = loaded.main
    return main


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="factory", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=[*ACTIONS, *TOOLS])
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    if not args or args[0] in {"-h", "--help"}:
        parser.print_help()
        return 0 if args else 2
    parsed = parser.parse_args(args[:1])
    rest = args[1:]
    if parsed.command in TOOLS:
        tool = importlib.import_module(TOOLS[parsed.command])
        code: int = tool.main(rest)
        return code
    inputs = argparse.ArgumentParser(prog=f"factory {parsed.command}")
    inputs.add_argument("--input", "-i", action="append", default=[], metavar="NAME=VALUE")
    for item in inputs.parse_args(rest).input:
        name, sep, value = item.partition("=")
        if not sep:
            inputs.error(f"--input needs NAME=VALUE, got {item!r}")
        os.environ["INPUT_" + name.upper().replace("-", "_")] = value
    return _action_main(ACTIONS[parsed.command])()


if __name__ == "__main__":
    sys.exit(main())
