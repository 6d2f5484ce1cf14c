"""Fixtures for hoopstat-runtime: a moto server (the suite's bench) and a clean environment."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from factory_bench.stack import Bench
from hoopstat_runtime import secrets
from hoopstat_runtime.redaction import REDACTOR

# Variables that would make the library believe it runs in Lambda or read local secrets.
_AMBIENT = ("AWS_LAMBDA_FUNCTION_NAME", "AWS_EXECUTION_ENV", "HOOPSTAT_LOCAL_SECRETS_FILE",
            "HOOPSTAT_SECRETS_MAX_AGE", "AWS_PROFILE", "AWS_SESSION_TOKEN")


@pytest.fixture(scope="session")
def moto_bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    """moto in server mode as its own process (the suite's bench), shared by this session."""
    with Bench(tmp_path_factory.mktemp("runtime-bench")) as running:
        yield running


@pytest.fixture
def aws(moto_bench: Bench, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bench]:
    """Point boto3 at the bench, with a fresh secrets cache and redaction set."""
    for name in _AMBIENT:
        monkeypatch.delenv(name, raising=False)
    for name, value in moto_bench.admin_env().items():
        monkeypatch.setenv(name, value)
    secrets.reset_default()
    REDACTOR.clear()
    yield moto_bench
    secrets.reset_default()
    REDACTOR.clear()


@pytest.fixture
def unique() -> str:
    """A short unique suffix: the moto server is shared, so every resource name must differ."""
    return uuid.uuid4().hex[:10]


@dataclass
class FakeLambdaContext:
    """Stand-in for the context object Lambda passes to a handler (no real one exists offline)."""

    function_name: str = "hello-stats"
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def secrets_file(tmp_path: Path) -> Path:
    return tmp_path / "secrets.json"
