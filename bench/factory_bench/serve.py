"""``factory-bench serve``: start the bench, keep it up until Ctrl-C, print how to reach it."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from factory_bench.stack import Bench


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="factory-bench serve",
        description="Run moto, the local OIDC issuer and the fake GitHub API on 127.0.0.1 "
        "until interrupted.",
    )
    parser.add_argument("--workdir", type=Path, default=None, help="where logs go")
    parser.add_argument(
        "--role",
        action="append",
        default=[],
        metavar="NAME=SUB_PATTERN",
        help="create a GitHub OIDC deploy role trusting SUB_PATTERN (repeatable)",
    )
    parser.add_argument("--once", action="store_true", help="start, print, stop (a smoke check)")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hoopstat-bench-"))
    with Bench(workdir) as bench:
        roles = {}
        for item in args.role:
            name, _, sub = item.partition("=")
            roles[name] = bench.github_oidc_role(name, subjects=[sub])
        info = {
            "moto": bench.moto_url,
            "oidc_issuer": bench.issuer_url,
            "fake_github": bench.github_api_url,
            "logs": str(workdir / "logs"),
            "roles": roles,
            "env": {**bench.admin_env(), **bench.github_env()},
        }
        print(json.dumps(info, indent=2), flush=True)
        if args.once:
            return 0
        print("Bench is up; Ctrl-C stops it.", flush=True)
        try:
            while all(s.process.poll() is None for s in bench.services.values()):
                time.sleep(0.5)
        except KeyboardInterrupt:
            return 0
        print("A bench service exited; see the logs.", flush=True)
        return 1
