"""moto extension: ECR hands out image config blobs, so lambda-deploy can read an image's platform.

lambda-deploy checks that an image's platform (``os``/``architecture`` in its config blob) fits the
function's ``Architectures`` before ``UpdateFunctionCode``. On AWS it reads the manifest with
``BatchGetImage`` and the config blob through ``GetDownloadUrlForLayer``, whose ``downloadUrl`` is a
pre-signed S3 URL. moto 5.2 keeps manifests but no blobs, and ``GetDownloadUrlForLayer`` raises
``NotImplementedError`` (a 500, which botocore retries). Here:

* ``POST /moto-api/hoopstat/ecr-blobs`` with the raw blob as body stores it under its sha256
  digest (content-addressed, like a registry; not scoped per repository as ECR's are) and answers
  ``{"digest": "sha256:…"}``;
* ``GetDownloadUrlForLayer`` answers ``{"downloadUrl", "layerDigest"}`` for a stored blob, the URL
  being ``GET /moto-api/hoopstat/ecr-blobs/<digest>`` on this server (no credentials, like a
  pre-signed URL); a blob never stored gets ``LayersNotFoundException`` and a missing repository
  ``RepositoryNotFoundException``, as on AWS.

Images pushed through the bench's registry bridge are not stored here (their blobs live in the
registry, which lambda-deploy reads through the registry API in local mode).

Loaded by :mod:`factory_bench.moto_server` at start-up (``install()``).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from typing import Any
from urllib.parse import urlsplit

_lock = threading.Lock()
_blobs: dict[str, bytes] = {}
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}", re.ASCII)


def _body(request: Any, headers: Any) -> bytes:
    if hasattr(request, "environ"):
        length = int(headers.get("Content-Length") or 0)
        raw: bytes = request.environ["wsgi.input"].read(length)
        return raw
    body = request.body
    return body if isinstance(body, bytes) else str(body or "").encode()


def install() -> None:
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult
    from moto.ecr.exceptions import RepositoryNotFoundException
    from moto.ecr.responses import ECRResponse
    from moto.moto_api._internal import urls as api_urls

    class LayersNotFoundException(ServiceException):
        code = "LayersNotFoundException"

    def get_download_url_for_layer(self: Any) -> Any:
        repository = str(self._get_param("repositoryName"))
        registry_id = str(self._get_param("registryId") or self.current_account)
        digest = str(self._get_param("layerDigest"))
        if repository not in self.ecr_backend.repositories:
            raise RepositoryNotFoundException(repository, registry_id)
        with _lock:
            known = digest in _blobs
        if not known:
            raise LayersNotFoundException(
                f"The image layer '{digest}' does not exist in the repository with name "
                f"'{repository}' in the registry with id '{registry_id}'"
            )
        base = urlsplit(self.uri)
        return ActionResult({
            "downloadUrl": f"{base.scheme}://{base.netloc}/moto-api/hoopstat/ecr-blobs/{digest}",
            "layerDigest": digest,
        })

    ECRResponse.get_download_url_for_layer = get_download_url_for_layer  # type: ignore[method-assign]

    def store_blob(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
        blob = _body(request, headers)
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        with _lock:
            _blobs[digest] = blob
        return 201, {}, json.dumps({"digest": digest})

    def serve_blob(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], Any]:
        digest = urlsplit(full_url).path.rsplit("/", 1)[-1]
        with _lock:
            blob = _blobs.get(digest) if _DIGEST.fullmatch(digest) else None
        if blob is None:
            return 404, {}, "blob unknown"
        return 200, {"Content-Type": "application/octet-stream"}, blob

    api_urls.url_paths["{0}/moto-api/hoopstat/ecr-blobs"] = store_blob
    # moto formats these keys with str.format later: no `{n}` quantifiers in the pattern.
    api_urls.url_paths["{0}/moto-api/hoopstat/ecr-blobs/(?P<digest>sha256:[a-f0-9]+)"] = serve_blob
