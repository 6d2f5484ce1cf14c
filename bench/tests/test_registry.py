"""The bench registry: ECR-style login, and pushes and deletes mirrored into moto's ECR API."""

from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.config import Config

from factory_bench.fault_proxy import FaultProxy
from factory_bench.registry import EcrBridge
from factory_bench.stack import Bench
from factory_bench.testing import BenchRegistry

V2S2 = "application/vnd.docker.distribution.manifest.v2+json"
# Registry notifications are asynchronous; on a loaded 2-core machine they can take seconds.
NOTIFY_SECONDS = 30.0


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def call(reg: BenchRegistry, method: str, path: str, *, data: bytes | None = None,
         content_type: str = "application/octet-stream", password: str | None = None) -> Any:
    auth = base64.b64encode(f"AWS:{password or reg.password}".encode()).decode()
    request = urllib.request.Request(
        f"{reg.url}/v2/{path}", data=data, method=method,
        headers={"Authorization": f"Basic {auth}", "Content-Type": content_type,
                 "Accept": V2S2},
    )
    return urllib.request.urlopen(request, timeout=10)


def push_blob(reg: BenchRegistry, repository: str, body: bytes) -> str:
    import hashlib
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    started = call(reg, "POST", f"{repository}/blobs/uploads/")
    location = started.headers["Location"]
    sep = "&" if "?" in location else "?"
    path = location.split("/v2/", 1)[1] + f"{sep}digest={digest}"
    call(reg, "PUT", path, data=body)
    return digest


def push_image(reg: BenchRegistry, repository: str, tag: str, content: bytes) -> tuple[str, bytes]:
    """Push a minimal image through the registry API (what buildah/docker do, byte for byte)."""
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    config_digest = push_blob(reg, repository, config)
    layer_digest = push_blob(reg, repository, content)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": V2S2,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": len(config), "digest": config_digest},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(content), "digest": layer_digest}],
    }).encode()
    answer = call(reg, "PUT", f"{repository}/manifests/{tag}", data=manifest, content_type=V2S2)
    return answer.headers["Docker-Content-Digest"], manifest


def ecr_image(bench: Bench, repository: str, digest: str, *, gone: bool = False) -> Any:
    """Wait (briefly: notifications are asynchronous) for ECR to show, or drop, the digest."""
    ecr = bench.admin_client("ecr")
    deadline = time.monotonic() + NOTIFY_SECONDS
    while time.monotonic() < deadline:
        try:
            found = ecr.describe_images(repositoryName=repository,
                                        imageIds=[{"imageDigest": digest}])["imageDetails"][0]
        except ecr.exceptions.ImageNotFoundException:
            found = None
        if (found is None) is gone:
            return found
        time.sleep(0.02)
    raise AssertionError(f"ECR never {'dropped' if gone else 'showed'} {digest}")


def test_login_is_user_aws_with_the_token_moto_hands_out(
    registry: BenchRegistry, bench: Bench,
) -> None:
    """The registry accepts AWS + GetAuthorizationToken's password and refuses anything else."""
    token = bench.admin_client("ecr").get_authorization_token()["authorizationData"][0]
    assert base64.b64decode(token["authorizationToken"]).decode() == f"AWS:{registry.password}"
    assert call(registry, "GET", "").status == 200
    with pytest.raises(urllib.error.HTTPError) as refused:
        call(registry, "GET", "", password="wrong-password")
    assert refused.value.code == 401


def test_push_becomes_visible_in_ecr_with_the_same_digest_and_tag(
    registry: BenchRegistry, bench: Bench,
) -> None:
    """A manifest pushed to the registry appears in DescribeImages with its digest and tag."""
    repository = unique("bridge/push")
    bench.admin_client("ecr").create_repository(repositoryName=repository)
    digest, manifest = push_image(registry, repository, "v1", b"layer-one")
    found = ecr_image(bench, repository, digest)
    assert found["imageTags"] == ["v1"]
    assert found["imageManifestMediaType"] == V2S2
    stored = bench.admin_client("ecr").batch_get_image(
        repositoryName=repository, imageIds=[{"imageDigest": digest}])["images"][0]
    assert stored["imageManifest"].encode() == manifest


def test_second_tag_and_delete_are_mirrored(
    registry: BenchRegistry, bench: Bench,
) -> None:
    """Re-tagging through the registry adds the ECR tag; deleting the manifest removes the image."""
    repository = unique("bridge/tags")
    bench.admin_client("ecr").create_repository(repositoryName=repository)
    digest, manifest = push_image(registry, repository, "first", b"layer-two")
    ecr_image(bench, repository, digest)
    call(registry, "PUT", f"{repository}/manifests/second", data=manifest, content_type=V2S2)
    deadline = time.monotonic() + NOTIFY_SECONDS
    while time.monotonic() < deadline:
        found = ecr_image(bench, repository, digest)
        if "second" in found["imageTags"]:
            break
        time.sleep(0.02)
    assert sorted(found["imageTags"]) == ["first", "second"]
    call(registry, "DELETE", f"{repository}/manifests/{digest}")
    ecr_image(bench, repository, digest, gone=True)


def test_scan_on_push_is_honoured(registry: BenchRegistry, bench: Bench) -> None:
    """With scanOnPush the pushed image has scan findings at once; without, a scan must start."""
    ecr = bench.admin_client("ecr")
    scanned, plain = unique("bridge/scan"), unique("bridge/noscan")
    ecr.create_repository(repositoryName=scanned, imageScanningConfiguration={"scanOnPush": True})
    ecr.create_repository(repositoryName=plain)
    d1, _ = push_image(registry, scanned, "a", b"layer-s")
    d2, _ = push_image(registry, plain, "a", b"layer-p")
    ecr_image(bench, scanned, d1)
    ecr_image(bench, plain, d2)
    result = ecr.describe_image_scan_findings(repositoryName=scanned, imageId={"imageDigest": d1})
    assert result["imageScanStatus"]["status"] == "COMPLETE"
    with pytest.raises(ecr.exceptions.ScanNotFoundException):
        ecr.describe_image_scan_findings(repositoryName=plain, imageId={"imageDigest": d2})


def bridge_through(proxy: FaultProxy, registry: BenchRegistry) -> EcrBridge:
    """An EcrBridge whose ECR calls pass the fault proxy, with botocore's own retries off."""
    ecr = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1",
    ).client("ecr", endpoint_url=proxy.url,
             config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    return EcrBridge(ecr=ecr, registry_url=registry.url, auth=("AWS", registry.password))


def forgotten_push(registry: BenchRegistry, bench: Bench, prefix: str) -> tuple[str, str, dict]:
    """A manifest in the registry that ECR no longer shows, and the push event that names it."""
    repository = unique(prefix)
    bench.admin_client("ecr").create_repository(repositoryName=repository)
    digest, _ = push_image(registry, repository, "v1", b"layer-" + prefix.encode())
    ecr_image(bench, repository, digest)
    bench.admin_client("ecr").batch_delete_image(repositoryName=repository,
                                                 imageIds=[{"imageDigest": digest}])
    ecr_image(bench, repository, digest, gone=True)
    event = {"id": "e1", "action": "push", "target": {
        "mediaType": V2S2, "repository": repository, "digest": digest, "tag": "v1"}}
    return repository, digest, event


def test_bridge_retries_server_errors_so_no_push_is_lost(
    registry: BenchRegistry, bench: Bench,
) -> None:
    """Two 500s from ECR on PutImage do not lose the event: the third attempt records the image."""
    proxy = FaultProxy(bench.moto_url).start()
    try:
        repository, digest, event = forgotten_push(registry, bench, "bridge/retry")
        proxy.add(service="ecr", operation="PutImage", status=500, code="ServerException",
                  times=2)
        bridge = bridge_through(proxy, registry)
        bridge.handle(event)
        assert proxy.injected == ["ecr:PutImage"] * 2
        assert (bridge.applied, bridge.lost) == (1, 0)
        assert ecr_image(bench, repository, digest)["imageTags"] == ["v1"]
    finally:
        proxy.stop()


def test_bridge_takes_an_ecr_refusal_as_the_answer(
    registry: BenchRegistry, bench: Bench,
) -> None:
    """A 4xx from ECR (its refusal, not a blip) is not retried and the image stays unrecorded."""
    proxy = FaultProxy(bench.moto_url).start()
    try:
        repository, digest, event = forgotten_push(registry, bench, "bridge/refused")
        proxy.add(service="ecr", operation="PutImage", status=400,
                  code="InvalidParameterException", times=-1)
        bridge = bridge_through(proxy, registry)
        bridge.handle(event)
        assert proxy.injected == ["ecr:PutImage"]
        assert (bridge.applied, bridge.lost) == (0, 0)
        ecr_image(bench, repository, digest, gone=True)
    finally:
        proxy.stop()
