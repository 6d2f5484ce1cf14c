"""Fixtures for hello-stats.

moto's server, started by the tests themselves, and a seeded data bucket and secret.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Callable, Iterator
from typing import cast

import pytest
from hello_stats_bench import APP_DIR, Deployed, MotoServer, moto_server


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    """moto in server mode on 127.0.0.1, shared by this session."""
    with moto_server() as running:
        yield running


@pytest.fixture(scope="session")
def seed() -> Callable[..., None]:
    """smoke/seed.py's seed(), loaded once: the same code the smoke test runs, in this process."""
    spec = importlib.util.spec_from_file_location("hello_stats_seed", APP_DIR / "smoke" / "seed.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return cast("Callable[..., None]", module.seed)


@pytest.fixture
def deployed(moto: MotoServer, seed: Callable[..., None], monkeypatch: pytest.MonkeyPatch
             ) -> Deployed:
    """A fresh bucket and secret, seeded, and the environment the function would get."""
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
    # seed() reads its settings and AWS's from the environment, as `python smoke/seed.py` does.
    with monkeypatch.context() as patched:
        for key in [k for k in os.environ if k.startswith("AWS_")]:
            patched.delenv(key)
        for key, value in env.items():
            patched.setenv(key, value)
        seed()
    return Deployed(moto, env["HOOPSTAT_DATA_BUCKET"], env["HELLO_STATS_SECRET_NAME"], env)
