"""ECR's registry side: where it is, how to log in, and the few manifest calls the action makes.

The registry host comes from ``GetAuthorizationToken``'s ``proxyEndpoint``. Local mode replaces it
with ``HOOPSTAT_FACTORY_REGISTRY_ENDPOINT`` (a documented setting, see actions/ecr-push/README.md):
only loopback addresses are accepted, because the ECR password is sent to whatever host this
names. Tags are added through the registry API (a manifest PUT), the same path ``docker push``
takes, so the registry and the ECR API never disagree about them.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from action_scripts import runner
from action_scripts.errors import FactoryError

ENDPOINT_SETTING = "HOOPSTAT_FACTORY_REGISTRY_ENDPOINT"
ENDPOINT_EXPECTED = (
    "a loopback registry URL such as `http://127.0.0.1:5000` (local mode only: the ECR password "
    "is sent to it)"
)

IMAGE_MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
)
INDEX_TYPES = (
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)
ACCEPT = ", ".join((*IMAGE_MANIFEST_TYPES, *INDEX_TYPES))


def check_endpoint_override(value: str) -> str | None:
    """Return a problem with the override, or None if it is acceptable (or unset)."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path not in {"", "/"}:
        return f"'{value}' is not a registry URL."
    host = parts.hostname
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        return f"'{value}' is not a loopback address."
    return None


@dataclass(frozen=True)
class Registry:
    """Where images go: ``host`` as it appears in image references, and the API base URL."""

    host: str
    base_url: str

    @property
    def plain_http(self) -> bool:
        return self.base_url.startswith("http://")

    @classmethod
    def from_url(cls, url: str) -> Registry:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        return cls(host=parts.netloc, base_url=f"{parts.scheme}://{parts.netloc}")


@dataclass(frozen=True)
class Login:
    registry: Registry
    username: str
    password: str

    def basic_auth(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()


def login(ecr: Any, *, override: str) -> Login:
    """GetAuthorizationToken, decoded; the token and the password are masked before anything."""
    try:
        data = ecr.get_authorization_token()["authorizationData"][0]
    except Exception as exc:
        raise FactoryError(
            f"GetAuthorizationToken failed: {exc}",
            title="ECR login failed",
            fix="The role needs `ecr:GetAuthorizationToken` (on `*`); check the role's policy.",
            reason="aws-error",
        ) from exc
    token = str(data["authorizationToken"])
    runner.mask(token)
    username, _, password = base64.b64decode(token).decode().partition(":")
    runner.mask(password)
    registry = Registry.from_url(override or str(data["proxyEndpoint"]))
    return Login(registry=registry, username=username, password=password)


@dataclass(frozen=True)
class Manifest:
    body: bytes
    media_type: str
    digest: str

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES or bool(json.loads(self.body).get("manifests"))


class RegistryClient:
    """Just enough of the registry API v2: read a manifest, write it under another tag."""

    def __init__(self, auth: Login, *, timeout: float = 30) -> None:
        self._auth = auth
        self._timeout = timeout

    def _request(self, method: str, path: str, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
        url = f"{self._auth.registry.base_url}/v2/{path}"
        headers = {"Authorization": self._auth.basic_auth(), **kwargs.pop("headers", {})}
        # The scheme is http(s): ECR's proxyEndpoint, or the override checked for loopback http(s).
        request = urllib.request.Request(url, method=method, headers=headers, **kwargs)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                return response.read(), {k.lower(): v for k, v in response.headers.items()}
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:500].decode(errors="replace")
            raise RegistryError(method, path, exc.code, detail) from exc
        except OSError as exc:
            raise RegistryError(method, path, 0, str(exc)) from exc

    def get_manifest(self, repository: str, reference: str) -> Manifest:
        body, headers = self._request(
            "GET", f"{repository}/manifests/{reference}", headers={"Accept": ACCEPT}
        )
        media_type = headers.get("content-type", "").split(";")[0] or str(
            json.loads(body).get("mediaType", "")
        )
        digest = headers.get("docker-content-digest", "")
        return Manifest(body=body, media_type=media_type, digest=digest)

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> str:
        _, headers = self._request(
            "PUT", f"{repository}/manifests/{tag}", data=manifest.body,
            headers={"Content-Type": manifest.media_type},
        )
        return headers.get("docker-content-digest", "")


class RegistryError(Exception):
    def __init__(self, method: str, path: str, status: int, detail: str) -> None:
        super().__init__(f"{method} /v2/{path} -> {status or 'no answer'}: {detail.strip()}")
        self.status = status
