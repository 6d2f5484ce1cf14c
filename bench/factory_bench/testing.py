"""The bench's pytest plugin: fixtures for tests that run against real stand-ins.

Registered as a ``pytest11`` entry point, so any test session in an environment with the bench
installed gets ``bench``, ``registry``, ``buildah`` and ``act_cache`` without importing anything;
``need_tool`` and ``write_app`` are plain helpers. Nothing starts until a test asks for it.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from factory_bench.stack import Bench, start_service

BUSYBOX = Path("/bin/busybox")


def need_tool(name: str, *, install_hint: str, path: str | None = None) -> str:
    """Return the tool's path; skip with a reason if it is absent — but fail under CI.

    CI installs every tool (.ci/run), so an absent tool there is a broken setup, not a skip.
    """
    found = path if path and Path(path).exists() else shutil.which(name)
    if found is None:
        beside = Path(sys.executable).parent / name
        found = str(beside) if beside.exists() else None
    if found is None:
        message = f"{name} is not installed ({install_hint})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; .ci/run should have installed it")
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    """One bench for the session; tests use unique resource names so they do not collide."""
    with Bench(tmp_path_factory.mktemp("bench")) as running:
        yield running


@pytest.fixture(scope="session")
def act_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One act cache for the session, so workflow jobs reuse the suite's venv (warm setup)."""
    return tmp_path_factory.mktemp("act-cache")


@dataclass(frozen=True)
class BenchRegistry:
    url: str
    username: str
    password: str
    log_path: Path | None = None

    def log_tail(self, lines: int = 40) -> str:
        """The end of the registry process's log: the bridge's retries and LOST events."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    @property
    def host(self) -> str:
        return self.url.removeprefix("http://")


@pytest.fixture(scope="session")
def registry(bench: Bench, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BenchRegistry]:
    """docker-registry on 127.0.0.1 with ECR-style login, its pushes mirrored into moto's ECR."""
    binary = need_tool("docker-registry", install_hint="apt-get install docker-registry")
    workdir = tmp_path_factory.mktemp("registry")
    service = start_service(
        "registry",
        [sys.executable, "-m", "factory_bench.registry", "--moto-url", bench.moto_url,
         "--region", bench.region, "--workdir", str(workdir), "--binary", binary],
        log_dir=workdir / "logs",
    )
    try:
        yield BenchRegistry(url=service.info["url"], username=service.info["username"],
                            password=service.info["password"], log_path=service.log_path)
    finally:
        service.stop()


@pytest.fixture(scope="session")
def buildah() -> str:
    """The buildah binary (skips, or fails under CI, when absent)."""
    return need_tool("buildah", install_hint="apt-get install buildah")


def write_app(directory: Path, *, message: str = "hello", dockerfile: str | None = None) -> Path:
    """A tiny app whose image needs no base image: a static busybox and one file."""
    if not BUSYBOX.exists():
        pytest.skip("busybox-static is not installed (apt-get install busybox-static)")
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(BUSYBOX, directory / "busybox")
    (directory / "message.txt").write_text(message + "\n")
    (directory / "Dockerfile").write_text(dockerfile or (
        "FROM scratch\n"
        "COPY busybox /bin/busybox\n"
        "COPY message.txt /message.txt\n"
        'CMD ["/bin/busybox", "cat", "/message.txt"]\n'
    ))
    return directory
