"""Fixtures for hello-stats.

moto's server, started by the tests themselves, and a seeded data bucket and secret.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from hello_stats_bench import APP_DIR, Deployed, MotoServer, moto_server


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    """moto in server mode on 127.0.0.1, shared by this session."""
    with moto_server() as running:
        yield running


@pytest.fixture
def deployed(moto: MotoServer) -> Deployed:
    suffix = uuid.uuid4().hex[:10]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "HOOPSTAT_", "POWERTOOLS_"))}
    env.update(moto.env())
    env.update({
        "HOOPSTAT_DATA_BUCKET": f"hoopstat-data-{suffix}",
        "HOOPSTAT_APP": "hello-stats",
        "POWERTOOLS_SERVICE_NAME": "hello-stats",
        "HELLO_STATS_SECRET_NAME": f"hello-stats/signing-{suffix}",
        "AWS_LAMBDA_FUNCTION_NAME": "hello-stats",
    })
    seeded = subprocess.run([sys.executable, str(APP_DIR / "smoke" / "seed.py")], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert seeded.returncode == 0, seeded.stderr
    return Deployed(moto, env["HOOPSTAT_DATA_BUCKET"], env["HELLO_STATS_SECRET_NAME"], env)
