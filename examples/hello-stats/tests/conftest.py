"""Fixtures for hello-stats.

The suite's moto bench and a seeded data bucket and secret.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from factory_bench.stack import Bench
from hello_stats_bench import APP_DIR, Deployed


@pytest.fixture(scope="session")
def app_bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    """moto in server mode as its own process (the suite's bench), shared by this session."""
    with Bench(tmp_path_factory.mktemp("hello-stats-bench")) as running:
        yield running


@pytest.fixture
def deployed(app_bench: Bench) -> Deployed:
    suffix = uuid.uuid4().hex[:10]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "HOOPSTAT_", "POWERTOOLS_"))}
    env.update(app_bench.admin_env())
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
    secret_name = env["HELLO_STATS_SECRET_NAME"]
    return Deployed(app_bench, env["HOOPSTAT_DATA_BUCKET"], secret_name, env)
