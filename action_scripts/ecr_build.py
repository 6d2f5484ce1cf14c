"""Build one image for one platform and push it, with docker (BuildKit) or buildah.

Both builders push a single image manifest (Docker v2 schema 2): no index, no attestations, since
Lambda rejects the index BuildKit adds for provenance by default (hence ``--provenance=false
--sbom=false``). Credentials never reach argv: buildah reads a private auth file that is deleted
afterwards; docker gets the password on stdin and is logged out afterwards.

Builder output is relayed line by line through :func:`runner.info`, which defuses lines that
look like workflow commands: a ``RUN echo ::add-mask::`` in a Dockerfile cannot talk to the runner.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from action_scripts import runner
from action_scripts.ecr_registry import Login
from action_scripts.errors import FactoryError, FailureReason

Builder = Literal["docker", "buildah"]
BUILDERS: tuple[Builder, ...] = ("docker", "buildah")


@dataclass(frozen=True, kw_only=True)
class BuildRequest:
    context: Path
    dockerfile: Path
    build_args: tuple[tuple[str, str], ...]
    platform: str
    labels: tuple[tuple[str, str], ...]
    destination: str  # registry-host/repository:tag
    plain_http: bool = False


def _common_flags(request: BuildRequest) -> list[str]:
    flags = ["--platform", request.platform, "--file", str(request.dockerfile)]
    for key, value in request.build_args:
        flags += ["--build-arg", f"{key}={value}"]
    for key, value in request.labels:
        flags += ["--label", f"{key}={value}"]
    return flags


def docker_build_argv(request: BuildRequest, *, metadata_file: Path) -> list[str]:
    """``docker buildx build`` that pushes one v2s2 manifest and records its digest."""
    return [
        "docker", "buildx", "build",
        "--provenance=false", "--sbom=false",
        *_common_flags(request),
        "--tag", request.destination,
        "--output", "type=image,push=true,oci-mediatypes=false",
        "--metadata-file", str(metadata_file),
        str(request.context),
    ]


def docker_login_argv(login: Login) -> list[str]:
    return ["docker", "login", "--username", login.username, "--password-stdin",
            login.registry.host]


def docker_logout_argv(login: Login) -> list[str]:
    return ["docker", "logout", login.registry.host]


def buildah_base(*, root: Path, runroot: Path) -> list[str]:
    return ["buildah", "--root", str(root), "--runroot", str(runroot), "--storage-driver", "vfs"]


def buildah_build_argv(
    request: BuildRequest, *, root: Path, runroot: Path, local_name: str
) -> list[str]:
    return [
        *buildah_base(root=root, runroot=runroot), "build",
        "--isolation", "chroot", "--format", "docker", "--no-cache",
        *_common_flags(request),
        "--tag", local_name,
        str(request.context),
    ]


def buildah_push_argv(
    request: BuildRequest, *, root: Path, runroot: Path, local_name: str, authfile: Path,
    digestfile: Path,
) -> list[str]:
    return [
        *buildah_base(root=root, runroot=runroot), "push",
        "--authfile", str(authfile), "--digestfile", str(digestfile), "--format", "v2s2",
        f"--tls-verify={'false' if request.plain_http else 'true'}",
        local_name, f"docker://{request.destination}",
    ]


def write_authfile(path: Path, login: Login) -> None:
    """A containers-auth.json for one registry, readable by this user only."""
    pair = base64.b64encode(f"{login.username}:{login.password}".encode()).decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"auths": {login.registry.host: {"auth": pair}}}, handle)


def run_logged(argv: list[str], *, what: str, env: dict[str, str] | None = None,
               stdin: str | None = None, reason: FailureReason = "build-failed") -> None:
    """Run a tool, relaying its output safely; raise ``build-failed`` with the tail on failure."""
    tail: collections.deque[str] = collections.deque(maxlen=30)
    try:
        process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL, env=env,
            errors="replace",
        )
    except FileNotFoundError as exc:
        raise FactoryError(
            f"`{argv[0]}` is not installed on this runner.",
            title=f"{argv[0]} not found",
            fix=f"Install {argv[0]} on the runner, or choose the other `builder`.",
            reason=reason,
        ) from exc
    if stdin is not None and process.stdin is not None:
        process.stdin.write(stdin)
        process.stdin.close()
    for line in process.stdout or ():
        line = line.rstrip("\n")
        tail.append(line)
        runner.info(line)
    if process.wait() != 0:
        shown = "\n".join(tail).replace("`" * 3, "'" * 3)
        raise FactoryError(
            f"{what} failed (exit {process.returncode}).",
            title=f"{what} failed",
            fix="Read the builder output in the log (last lines below), fix the Dockerfile, "
            "context or registry access, and run again. Nothing was tagged in ECR.",
            reason=reason,
            details=f"```\n{shown}\n```",
        )


@contextlib.contextmanager
def buildah_store(workdir: Path | None) -> Iterator[tuple[Path, Path]]:
    """A throwaway buildah storage per run (vfs, no daemon, nothing left behind)."""
    base = Path(tempfile.mkdtemp(prefix="hoopstat-buildah-", dir=workdir))
    try:
        yield base / "root", base / "runroot"
    finally:
        # vfs layers may contain read-only directories; make them writable before removing.
        for root, dirs, _ in os.walk(base):
            for name in dirs:
                with contextlib.suppress(OSError):
                    os.chmod(Path(root, name), 0o700)
        shutil.rmtree(base, ignore_errors=True)


def build_and_push(
    request: BuildRequest, *, builder: Builder, login: Login, workdir: Path | None = None
) -> str:
    """Build, push, and return the pushed manifest's digest as the builder reported it."""
    private = Path(tempfile.mkdtemp(prefix="hoopstat-push-", dir=workdir))
    try:
        if builder == "buildah":
            return _buildah(request, login=login, private=private, workdir=workdir)
        return _docker(request, login=login, private=private)
    finally:
        shutil.rmtree(private, ignore_errors=True)  # the auth file goes with it: logout


def _buildah(request: BuildRequest, *, login: Login, private: Path, workdir: Path | None) -> str:
    env = {**os.environ, "STORAGE_DRIVER": "vfs", "BUILDAH_ISOLATION": "chroot"}
    # Hex only: a temp dir's random name may hold `_`, which image references refuse.
    local_name = f"localhost/hoopstat-build-{secrets.token_hex(8)}"
    authfile, digestfile = private / "auth.json", private / "digest"
    write_authfile(authfile, login)
    with buildah_store(workdir) as (root, runroot):
        with runner.group("Build (buildah)"):
            run_logged(buildah_build_argv(request, root=root, runroot=runroot,
                                          local_name=local_name), what="Image build", env=env)
        with runner.group(f"Push {request.destination}"):
            run_logged(buildah_push_argv(request, root=root, runroot=runroot,
                                         local_name=local_name, authfile=authfile,
                                         digestfile=digestfile), what="Image push", env=env,
                       reason="push-failed")
    return digestfile.read_text().strip()


def _docker(request: BuildRequest, *, login: Login, private: Path) -> str:
    metadata = private / "metadata.json"
    run_logged(docker_login_argv(login), what="docker login", stdin=login.password)
    try:
        with runner.group("Build and push (docker buildx)"):
            run_logged(docker_build_argv(request, metadata_file=metadata), what="Image build")
    finally:
        with contextlib.suppress(FactoryError):
            run_logged(docker_logout_argv(login), what="docker logout")
    return str(json.loads(metadata.read_text())["containerimage.digest"])
