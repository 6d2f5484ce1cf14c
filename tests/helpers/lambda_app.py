"""Seeding Lambda apps on the bench's moto for the lambda-deploy/-rollback tests.

Images are seeded straight into moto's ECR (``put_image``); functions are ``PackageType: Image``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from action_scripts import lambda_api
from factory_bench.stack import Bench

_names = itertools.count()


SHA = "0123456789abcdef0123456789abcdef01234567"


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}-{hashlib.sha256(str(id(object())).encode()).hexdigest()[:6]}"


def store_blob(moto_url: str, blob: bytes) -> str:
    """Store a blob that ECR's GetDownloadUrlForLayer hands out (bench moto extension)."""
    request = urllib.request.Request(f"{moto_url}/moto-api/hoopstat/ecr-blobs", data=blob,
                                     method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return str(json.loads(response.read())["digest"])


def put_image(ecr: Any, repository: str, tag: str, *, moto_url: str = "",
              platform: str = "linux/amd64") -> str:
    """Seed an image; returns its digest (64 hex). moto derives it from the layer digests.

    With ``moto_url`` the image's config blob (``os``/``architecture`` from ``platform``) is
    stored where GetDownloadUrlForLayer finds it; without, the config digest names no blob.
    """
    layer = hashlib.sha256(f"{repository}/{tag}/{platform}".encode()).hexdigest()
    system, _, architecture = platform.partition("/")
    config = json.dumps({"os": system, "architecture": architecture, "rootfs": {
        "type": "layers", "diff_ids": [f"sha256:{layer}"]}}).encode()
    config_digest = (store_blob(moto_url, config) if moto_url
                     else f"sha256:{hashlib.sha256(tag.encode()).hexdigest()}")
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(config),
                   "digest": config_digest},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 2,
                    "digest": f"sha256:{layer}"}],
    })
    result = ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)
    return str(result["image"]["imageId"]["imageDigest"]).removeprefix("sha256:")


@dataclass
class App:
    function: str
    repository: str
    registry: str
    digests: list[str]
    lam: Any
    ecr: Any
    cloudwatch: Any
    role: str
    tags: list[str] = field(default_factory=list)

    def uri(self, index: int) -> str:
        return f"{self.registry}/{self.repository}@sha256:{self.digests[index]}"

    def alias(self, name: str = "live") -> dict[str, Any]:
        result: dict[str, Any] = self.lam.get_alias(FunctionName=self.function, Name=name)
        return result

    def versions(self) -> list[str]:
        return [v["Version"] for v in lambda_api.list_versions(self.lam, self.function)]


def seed_app(bench: Bench, *, images: int = 3, live: bool = True, platform: str = "linux/amd64",
             architecture: str = "x86_64") -> App:
    """An ECR repo with ``images`` images built for ``platform`` and an image function
    (``architecture``) on image 0, alias live → v1."""
    name = unique("app")
    ecr, lam = bench.admin_client("ecr"), bench.admin_client("lambda")
    iam = bench.admin_client("iam")
    repo = ecr.create_repository(repositoryName=name)["repository"]
    registry = repo["repositoryUri"].split("/")[0]
    tags = [f"v{i}" for i in range(images)]
    digests = [put_image(ecr, name, tag, moto_url=bench.moto_url, platform=platform)
               for tag in tags]
    role = iam.create_role(RoleName=f"{name}-exec", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(
        FunctionName=name, Role=role, PackageType="Image", Architectures=[architecture],
        Code={"ImageUri": f"{registry}/{name}@sha256:{digests[0]}"},
    )
    if live:
        version = lam.publish_version(FunctionName=name)["Version"]
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    return App(name, name, registry, digests, lam, ecr, bench.admin_client("cloudwatch"), role,
               tags)


def queue_replies(bench: Bench, function: str, replies: list[dict[str, Any]],
                  qualifier: str = "") -> None:
    """Queue canned invoke replies for one function (bench moto extension)."""
    body = json.dumps({"function_name": function, "qualifier": qualifier, "replies": replies,
                       "region": bench.region})
    request = urllib.request.Request(
        f"{bench.moto_url}/moto-api/hoopstat/lambda-replies", data=body.encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


def set_update_window(bench: Bench, function: str, seconds: float) -> None:
    """Keep each UpdateFunctionCode of ``function`` InProgress for ``seconds`` (bench extension),
    as AWS does while it readies a new image."""
    body = json.dumps({"function_name": function, "seconds": seconds, "region": bench.region})
    request = urllib.request.Request(
        f"{bench.moto_url}/moto-api/hoopstat/lambda-update-window", data=body.encode(),
        method="POST", headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


def make_alarm(app: App, *, state: str = "OK") -> str:
    name = unique("errors")
    app.cloudwatch.put_metric_alarm(
        AlarmName=name, MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": "FunctionName", "Value": app.function}],
    )
    app.cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")
    return name


class FakeClock(lambda_api.Clock):
    """A FAKE clock: sleeping advances virtual time at once; ``on_sleep`` hooks into each sleep."""

    def __init__(self, *, minute_seconds: float = 60.0, extra: float = 0.0,
                 on_sleep: Callable[[int], None] | None = None) -> None:
        self.t = 1000.0
        self.sleeps = 0
        self.extra = extra
        self.on_sleep = on_sleep
        super().__init__(now=lambda: self.t, sleep=self._sleep, minute_seconds=minute_seconds)

    def _sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.t += seconds + self.extra
        if self.on_sleep:
            self.on_sleep(self.sleeps)


@dataclass
class Run:
    code: int
    stdout: str
    outputs: dict[str, str]
    summary: str

    @property
    def reason(self) -> str:
        return self.outputs.get("failure-reason", "")


def base_env(bench: Bench, tmp_path: Path) -> dict[str, str]:
    return {
        **bench.admin_env(),
        "GITHUB_ACTIONS": "true",  # in-process runs emulate the runner; terminal tests unset it
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "GITHUB_REPOSITORY": "hoopstat-haus/demo-app",
        "GITHUB_RUN_ID": "77",
        "GITHUB_SHA": SHA,
        "GITHUB_WORKSPACE": str(tmp_path),
        "HOOPSTAT_FACTORY_MINUTE_SECONDS": "0.2",
    }
