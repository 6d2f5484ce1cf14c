"""Where a new key must be registered before it becomes current.

* :class:`SelfContained` — the key is only ever checked by services that read it from Secrets
  Manager themselves (service-to-service keys between Hoopstat apps): nothing to register.
* :class:`HttpKeyProvider` — a provider with a small key-management API, the generic shape of
  most API-key services:

  ``POST {url}/keys``        ``Authorization: Bearer <current>``, body ``{"key": "<new>"}`` — 2xx,
                             or 409 when already registered (a retried setSecret)
  ``GET {url}/keys/self``    ``Authorization: Bearer <key>`` — 200 when the key works
  ``DELETE {url}/keys/self`` ``Authorization: Bearer <key>`` — 2xx, or 401/404 if already gone

Keys travel only in headers and bodies; no error message here ever includes one.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Protocol
from urllib.parse import urlsplit


class RotationError(RuntimeError):
    """A step cannot complete; Secrets Manager will retry the step, then mark rotation failed."""


class KeyProvider(Protocol):
    def register(self, *, current: str, pending: str) -> None: ...

    def check(self, *, key: str) -> None: ...

    def revoke(self, *, key: str) -> None: ...


class SelfContained:
    def register(self, *, current: str, pending: str) -> None:
        return None

    def check(self, *, key: str) -> None:
        return None

    def revoke(self, *, key: str) -> None:
        return None


class HttpKeyProvider:
    def __init__(self, url: str, *, timeout: float = 10) -> None:
        parts = urlsplit(url)
        local = parts.hostname in {"127.0.0.1", "localhost", "::1"}
        if parts.scheme != "https" and not (parts.scheme == "http" and local):
            raise RotationError(
                "ROTATION_PROVIDER_URL must be an https:// URL (http:// only for localhost)"
            )
        self.url = url.rstrip("/")
        self.timeout = timeout

    def register(self, *, current: str, pending: str) -> None:
        status = self._call("POST", "/keys", key=current, body={"key": pending})
        if status == 409:
            return  # registered by an earlier attempt of this same step
        if not 200 <= status < 300:
            raise RotationError(f"provider refused to register the new key (HTTP {status})")

    def check(self, *, key: str) -> None:
        status = self._call("GET", "/keys/self", key=key)
        if status != 200:
            raise RotationError(f"provider does not accept the new key (HTTP {status})")

    def revoke(self, *, key: str) -> None:
        status = self._call("DELETE", "/keys/self", key=key)
        if not (200 <= status < 300 or status in {401, 404}):
            raise RotationError(f"provider refused to revoke the old key (HTTP {status})")

    def _call(self, method: str, path: str, *, key: str, body: object = None) -> int:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self.url + path, data=data, method=method,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except (urllib.error.URLError, TimeoutError) as exc:
            raise RotationError(f"provider at {self.url} unreachable: {exc.__class__.__name__}"
                                ) from None
