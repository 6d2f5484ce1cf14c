"""The bench: real stand-ins on 127.0.0.1 for AWS (moto), GitHub's OIDC issuer, and the runner.

:class:`Bench` starts each service as its own process, reads the URL it prints once listening,
and stops exactly the processes it started. Used by the pytest fixtures and by ``factory bench``
and ``factory local-run``. ``Bench(workdir, registry=True)`` also starts the local image registry
(Debian ``docker-registry``) bridged into moto's ECR (:mod:`factory_bench.registry`).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from factory_bench.oidc_issuer import GITHUB_ISSUER, encode_ctx

BENCH_ACCOUNT = "123456789012"
BENCH_REGION = "us-east-1"
# moto accepts any static key; these reach only the local moto server.
ADMIN_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class BenchError(RuntimeError):
    pass


@dataclass
class Service:
    name: str
    process: subprocess.Popen[str]
    info: dict[str, Any]
    log_path: Path

    def stop(self, timeout: float = 5) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout)


def start_service(name: str, argv: list[str], *, log_dir: Path, timeout: float = 30) -> Service:
    """Start ``argv`` in its own process group; wait for the JSON line it prints when ready."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            line = process.stdout.readline()
            if line.strip().startswith("{"):
                info: dict[str, Any] = json.loads(line)
                return Service(name, process, info, log_path)
        if process.poll() is not None:
            break
    service = Service(name, process, {}, log_path)
    service.stop()
    raise BenchError(f"{name} did not start; see {log_path}:\n{log_path.read_text()[-2000:]}")


@dataclass
class Bench:
    """moto + OIDC issuer + the fake GitHub API (+ the ECR registry), on free loopback ports."""

    workdir: Path
    region: str = BENCH_REGION
    registry: bool = False
    registry_binary: str | None = None
    services: dict[str, Service] = field(default_factory=dict)

    def start(self) -> Bench:
        logs = self.workdir / "logs"
        python = sys.executable
        issuer = start_service(
            "oidc-issuer", [python, "-m", "factory_bench.oidc_issuer"], log_dir=logs
        )
        self.services["oidc-issuer"] = issuer
        try:
            self.services["moto"] = start_service(
                "moto",
                [
                    python,
                    "-m",
                    "factory_bench.moto_server",
                    "--jwks",
                    f"{GITHUB_ISSUER}={issuer.info['jwks_url']}",
                    "--images-dir",
                    str(self.images_dir),
                ],
                log_dir=logs,
            )
            self.services["fake-github"] = start_service(
                "fake-github", [python, "-m", "factory_bench.fake_github"], log_dir=logs
            )
            if self.registry:
                self.services["registry"] = self._start_registry(logs)
        except BenchError:
            self.stop()
            raise
        return self

    def _start_registry(self, logs: Path) -> Service:
        binary = self.registry_binary or shutil.which("docker-registry")
        if binary is None:
            raise BenchError("docker-registry is not installed (apt-get install docker-registry)")
        workdir = self.workdir / "registry"
        workdir.mkdir(parents=True, exist_ok=True)
        return start_service(
            "registry",
            [sys.executable, "-m", "factory_bench.registry", "--moto-url", self.moto_url,
             "--region", self.region, "--workdir", str(workdir), "--binary", binary],
            log_dir=logs,
        )

    @property
    def images_dir(self) -> Path:
        """Where moto's invoke hook unpacks images: removed when the bench stops."""
        return self.workdir / "images"

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()
        self.services.clear()
        shutil.rmtree(self.images_dir, ignore_errors=True)

    def __enter__(self) -> Bench:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def moto_url(self) -> str:
        return str(self.services["moto"].info["url"])

    @property
    def issuer_url(self) -> str:
        return str(self.services["oidc-issuer"].info["url"])

    @property
    def github_api_url(self) -> str:
        """URL of the FAKE GitHub REST API (see :mod:`factory_bench.fake_github`)."""
        return str(self.services["fake-github"].info["url"])

    @property
    def registry_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the ECR registry (only with ``registry=True``)."""
        if "registry" not in self.services:
            raise BenchError("this bench was started without registry=True")
        return str(self.services["registry"].info["url"])

    def registry_env(self) -> dict[str, str]:
        """What ecr-push needs to push to the bench registry instead of ``*.dkr.ecr.*``."""
        return {"HOOPSTAT_FACTORY_REGISTRY_ENDPOINT": self.registry_url}

    @property
    def github_token(self) -> str:
        return str(self.services["fake-github"].info["token"])

    def github_env(self) -> dict[str, str]:
        return {"GITHUB_API_URL": self.github_api_url}

    def aws_env(self) -> dict[str, str]:
        """What a step needs to reach the bench's AWS (no credentials: those come from login)."""
        return {
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def admin_env(self) -> dict[str, str]:
        """Administrator access to the bench's AWS, for seeding and checking; never for actions."""
        return {
            **self.aws_env(),
            **ADMIN_CREDENTIALS,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }

    def admin_client(self, service: str) -> Any:
        made: Any = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=self.region,
        )
        return made.client(
            service, endpoint_url=self.moto_url, config=Config(retries={"max_attempts": 2})
        )

    def oidc_env(self, ctx: dict[str, Any]) -> dict[str, str]:
        """The runner's token-request variables for a job with the given run context."""
        issuer = self.services["oidc-issuer"].info
        url = f"{issuer['url']}/_apis/token?api-version=2.0&ctx={encode_ctx(ctx)}"
        return {
            "ACTIONS_ID_TOKEN_REQUEST_URL": url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": str(issuer["request_token"]),
        }

    def lambda_execution_role(self, name: str) -> str:
        """A role the Lambda service may assume (a function's execution role); its ARN."""
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"Service": "lambda.amazonaws.com"}}]}
        role = self.admin_client("iam").create_role(RoleName=name,
                                                    AssumeRolePolicyDocument=json.dumps(trust))
        return str(role["Role"]["Arn"])

    def github_oidc_role(
        self,
        name: str,
        *,
        subjects: list[str],
        audience: str = "sts.amazonaws.com",
        max_session_seconds: int = 3600,
    ) -> str:
        """Create (once) GitHub's OIDC provider and a role trusting the given ``sub`` patterns.

        This mirrors what the ``github-oidc`` Terraform module provisions in a real account.
        """
        iam = self.admin_client("iam")
        host = GITHUB_ISSUER.removeprefix("https://")
        provider_arn = f"arn:aws:iam::{BENCH_ACCOUNT}:oidc-provider/{host}"
        existing = [
            p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
        ]
        if provider_arn not in existing:
            iam.create_open_id_connect_provider(
                Url=GITHUB_ISSUER, ClientIDList=[audience], ThumbprintList=["f" * 40]
            )
        else:
            current = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider_arn)
            if audience not in current["ClientIDList"]:
                iam.add_client_id_to_open_id_connect_provider(
                    OpenIDConnectProviderArn=provider_arn, ClientID=audience
                )
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {f"{host}:aud": audience},
                        "StringLike": {f"{host}:sub": subjects},
                    },
                }
            ],
        }
        role = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(policy),
            MaxSessionDuration=max_session_seconds,
        )
        return str(role["Role"]["Arn"])


@contextlib.contextmanager
def running_bench(workdir: Path) -> Iterator[Bench]:
    bench = Bench(workdir)
    with bench:
        yield bench
