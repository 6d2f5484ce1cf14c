"""The deployed-app handle the hello-stats tests share.

A module, since conftest is not importable.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory_bench.stack import Bench

APP_DIR = Path(__file__).resolve().parents[1]


@dataclass
class Deployed:
    """What Terraform would give the function: a bucket, a secret, the function's environment."""

    bench: Bench
    bucket: str
    secret_name: str
    env: dict[str, str]

    def invoke(self, event_file: Path | None = None, **extra_env: str
               ) -> subprocess.CompletedProcess[str]:
        """Run the real handler in a fresh interpreter through smoke/invoke.py."""
        argv = [sys.executable, str(APP_DIR / "smoke" / "invoke.py")]
        if event_file:
            argv.append(str(event_file))
        return subprocess.run(argv, cwd=APP_DIR, env={**self.env, **extra_env}, text=True,
                              capture_output=True, timeout=120, check=False)

    def client(self, service: str) -> Any:
        return self.bench.admin_client(service)
