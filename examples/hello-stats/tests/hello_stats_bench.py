"""The app's own test bench: moto's server in this process, and the deployed-app handle.

A module, since conftest is not importable. It needs only the app's declared test dependencies
(``moto[s3,secretsmanager]`` with Flask for its server, pytest): nothing from the Hoopstat
Factory suite.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

APP_DIR = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
# moto accepts any keys; these never leave the test process.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass(frozen=True)
class MotoServer:
    """moto in server mode on a free loopback port: the handler's subprocess reaches it too."""

    url: str

    def env(self) -> dict[str, str]:
        """What a process needs to talk to this moto (botocore reads AWS_DEFAULT_REGION)."""
        return {"AWS_ENDPOINT_URL": self.url, "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION, **CREDENTIALS}

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")


@contextmanager
def moto_server() -> Iterator[MotoServer]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield MotoServer(f"http://{host}:{port}")
    finally:
        server.stop()


@dataclass
class Deployed:
    """What Terraform would give the function: a bucket, a secret, the function's environment."""

    moto: MotoServer
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
        return self.moto.client(service)
