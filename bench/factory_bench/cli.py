"""The dev-only command of the test bench, `factory-bench` (not installed on runners or by apps).

``serve`` keeps the bench up for manual work; ``local-run`` rehearses the whole pipeline offline.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


def serve(argv: list[str]) -> int:
    from factory_bench.serve import main

    return main(argv)


def local_run(argv: list[str]) -> int:
    from factory_bench.local_run import main

    return main(argv)


COMMANDS: dict[str, tuple[Callable[[list[str]], int], str]] = {
    "serve": (serve, "run moto, the OIDC issuer and the FAKE GitHub API until Ctrl-C"),
    "local-run": (local_run, "rehearse the pipeline offline: Terraform, act, the bench"),
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help"} or args[0] not in COMMANDS:
        lines = ["usage: factory-bench <command> [args]", "", (__doc__ or "").splitlines()[0], ""]
        lines += [f"  {name:<10}  {summary}" for name, (_, summary) in COMMANDS.items()]
        print("\n".join(lines), file=sys.stdout if args and args[0] in {"-h", "--help"}
              else sys.stderr)
        return 0 if args and args[0] in {"-h", "--help"} else 2
    run, _ = COMMANDS[args[0]]
    return run(args[1:])


if __name__ == "__main__":
    sys.exit(main())
