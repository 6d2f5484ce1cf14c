"""ECR image references for Lambda: parse, resolve a tag to its digest, check an image exists.

Lambda runs an image by whatever the reference points at *when UpdateFunctionCode runs*; a tag can
move between build and deploy. Deploys therefore always hand Lambda the digest form
(``<registry>/<repo>@sha256:<hex>``), resolving a tag through ECR first.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import botocore.exceptions

from action_scripts import aws, ecr_registry
from action_scripts.errors import FactoryError

IMAGE_URI = re.compile(
    r"(?P<registry>(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)"
    r"\.amazonaws\.com(?:\.cn)?)/(?P<repository>[a-z0-9][a-z0-9._/-]{0,254})"
    r"(?:@sha256:(?P<digest>[a-f0-9]{64})|:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))",
    re.ASCII,
)
# Local mode (the bench): ecr-push pushes to the loopback registry named by
# HOOPSTAT_FACTORY_REGISTRY_ENDPOINT and outputs its host in the image URI; only that host is
# accepted, and only while the setting is on.
LOCAL_IMAGE_URI = re.compile(
    r"(?P<registry>(?:127\.0\.0\.1|localhost):\d{1,5})/(?P<repository>[a-z0-9][a-z0-9._/-]{0,254})"
    r"(?:@sha256:(?P<digest>[a-f0-9]{64})|:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))",
    re.ASCII,
)
IMAGE_URI_EXPECTED = (
    "an ECR image URI, by digest `123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:<64 hex>`"
    " (the `image-uri` output of ecr-push) or by tag `…/app:v1.2.3`"
)


@dataclass(frozen=True)
class ImageRef:
    registry: str
    account: str
    region: str
    repository: str
    digest: str = ""  # 64 hex characters, without the ``sha256:`` prefix
    tag: str = ""

    @property
    def digest_uri(self) -> str:
        return f"{self.registry}/{self.repository}@sha256:{self.digest}"

    @property
    def shown(self) -> str:
        return self.digest_uri if self.digest else f"{self.registry}/{self.repository}:{self.tag}"


def local_registry_host() -> str:
    """``host:port`` of the local-mode registry, or ``""`` outside local mode."""
    return urlsplit(os.environ.get("HOOPSTAT_FACTORY_REGISTRY_ENDPOINT", "")).netloc


def image_uri_pattern() -> re.Pattern[str]:
    host = local_registry_host()
    if not host:
        return IMAGE_URI
    return re.compile(f"{IMAGE_URI.pattern}|{re.escape(host)}/[a-z0-9][a-z0-9._/-]{{0,254}}"
                      r"(?:@sha256:[a-f0-9]{64}|:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})", re.ASCII)


def parse(uri: str) -> ImageRef | None:
    match = IMAGE_URI.fullmatch(uri.strip())
    if match is None:
        local = LOCAL_IMAGE_URI.fullmatch(uri.strip())
        if local is None or local["registry"] != local_registry_host():
            return None
        match = local
    named = match.groupdict()
    return ImageRef(
        registry=match["registry"],
        account=named.get("account") or "",
        region=named.get("region") or "",
        repository=match["repository"],
        digest=match["digest"] or "",
        tag=match["tag"] or "",
    )


def digest_of(uri: str) -> str:
    """The 64-hex digest in a digest-form URI, or ``""``."""
    found = re.search(r"@sha256:([a-f0-9]{64})$", uri or "", re.ASCII)
    return found.group(1) if found else ""


def _describe(ecr: Any, ref: ImageRef, image_id: dict[str, str]) -> dict[str, Any] | None:
    try:
        # A local-mode reference names no account: the caller's own registry.
        registry = {"registryId": ref.account} if ref.account else {}
        result = ecr.describe_images(
            **registry, repositoryName=ref.repository, imageIds=[image_id]
        )
    except botocore.exceptions.ClientError as exc:
        if aws.error_code(exc) in {"ImageNotFoundException", "RepositoryNotFoundException"}:
            return None
        raise
    details: list[dict[str, Any]] = result.get("imageDetails", [])
    return details[0] if details else None


def resolve(ecr: Any, ref: ImageRef, *, input_name: str) -> ImageRef:
    """Return ``ref`` in digest form, after checking the image exists in ECR."""
    image_id = {"imageDigest": f"sha256:{ref.digest}"} if ref.digest else {"imageTag": ref.tag}
    try:
        found = _describe(ecr, ref, image_id)
    except botocore.exceptions.ClientError as exc:
        raise FactoryError(
            f"Could not look up `{input_name}` {ref.shown} in ECR: {exc}",
            title="ECR lookup failed",
            fix="The deploy role needs `ecr:DescribeImages` on the repository; see the action's "
            "README for the IAM actions.",
        ) from exc
    if found is None:
        what = "digest" if ref.digest else "tag"
        raise FactoryError(
            f"`{input_name}` {ref.shown}: no image with that {what} in ECR repository "
            f"`{ref.repository}`.",
            title="Image not found in ECR",
            fix="Deploy the exact `image-uri` output of ecr-push; a tag must exist in the "
            "repository (typos are not guessed at), and a lifecycle policy may have expired old "
            "images.",
            reason="image-not-found",
        )
    digest = str(found["imageDigest"]).removeprefix("sha256:")
    return ImageRef(
        registry=ref.registry, account=ref.account, region=ref.region,
        repository=ref.repository, digest=digest, tag=ref.tag,
    )


# --- the image's platform ---------------------------------------------------------------------

# A function's `Architectures` entry and the image platform Lambda runs on it.
LAMBDA_PLATFORMS = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}
_CONFIG_LIMIT = 1 << 20  # an image config is a few KB; never read more than 1 MiB


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _fetch(url: str, headers: dict[str, str]) -> bytes:
    # https, or http to a loopback stand-in (the bench); never a file: or ftp: URL.
    if not (url.startswith("https://") or (url.startswith("http://") and _loopback(url))):
        raise OSError(f"refusing to fetch {urlsplit(url).scheme or '?'}: URL")
    request = urllib.request.Request(url, headers=headers)  # noqa: S310  # scheme checked above
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        body: bytes = response.read(_CONFIG_LIMIT + 1)
    if len(body) > _CONFIG_LIMIT:
        raise OSError("the image config is larger than 1 MiB")
    return body


def _config_blob(ecr: Any, ref: ImageRef, digest: str) -> bytes:
    """The config blob's bytes: through ``GetDownloadUrlForLayer`` (a pre-signed URL, no
    credentials sent), or in local mode from the local registry's v2 API (ECR login)."""
    endpoint = os.environ.get(ecr_registry.ENDPOINT_SETTING, "")
    if endpoint and ref.registry == local_registry_host():
        login = ecr_registry.login(ecr, override=endpoint)
        url = f"{login.registry.base_url}/v2/{ref.repository}/blobs/{digest}"
        return _fetch(url, {"Authorization": login.basic_auth()})
    registry = {"registryId": ref.account} if ref.account else {}
    found = ecr.get_download_url_for_layer(**registry, repositoryName=ref.repository,
                                           layerDigest=digest)
    return _fetch(str(found["downloadUrl"]), {})


def read_platform(ecr: Any, ref: ImageRef) -> tuple[str, str]:
    """``(os/architecture, "")`` from the image's own config in ECR, or ``("", why not)``.

    BatchGetImage gives the manifest, whose ``config`` blob holds ``os`` and ``architecture``;
    the blob's bytes are checked against its digest before they are believed.
    """
    registry = {"registryId": ref.account} if ref.account else {}
    try:
        got = ecr.batch_get_image(
            **registry, repositoryName=ref.repository,
            imageIds=[{"imageDigest": f"sha256:{ref.digest}"}],
            acceptedMediaTypes=[*ecr_registry.IMAGE_MANIFEST_TYPES, *ecr_registry.INDEX_TYPES],
        )
        images = got.get("images") or []
        if not images:
            return "", "BatchGetImage returned no manifest"
        manifest = json.loads(images[0]["imageManifest"])
        if manifest.get("manifests"):
            return "", "the image is a multi-platform index (Lambda runs single manifests)"
        digest = str((manifest.get("config") or {}).get("digest") or "")
        if not re.fullmatch(r"sha256:[a-f0-9]{64}", digest, re.ASCII):
            return "", "the manifest names no config blob"
        blob = _config_blob(ecr, ref, digest)
    except botocore.exceptions.ClientError as exc:
        return "", f"{exc.operation_name}: {aws.error_code(exc) or exc}"
    except (OSError, ValueError, KeyError, ecr_registry.RegistryError, FactoryError) as exc:
        return "", f"{type(exc).__name__}: {exc}"
    if "sha256:" + hashlib.sha256(blob).hexdigest() != digest:
        return "", "the config blob does not match its digest"
    try:
        config = json.loads(blob)
    except ValueError:
        return "", "the config blob is not JSON"
    system, architecture = config.get("os"), config.get("architecture")
    if not (isinstance(system, str) and isinstance(architecture, str)):
        return "", "the image config names no os/architecture"
    return f"{system}/{architecture}", ""
