"""Fixtures for image tests: the bench's registry (docker-registry bridged into moto's ECR).

Import them where needed (``from tests.registry_fixtures import registry  # noqa: F401``);
tests/conftest.py stays the shared, minimal set.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from action_scripts.bench.stack import Bench, start_service
from tests.conftest import need_tool

BUSYBOX = Path("/bin/busybox")


@dataclass(frozen=True)
class BenchRegistry:
    url: str
    username: str
    password: str

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
        [sys.executable, "-m", "action_scripts.bench.registry", "--moto-url", bench.moto_url,
         "--region", bench.region, "--workdir", str(workdir), "--binary", binary],
        log_dir=workdir / "logs",
    )
    try:
        yield BenchRegistry(url=service.info["url"], username=service.info["username"],
                            password=service.info["password"])
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
