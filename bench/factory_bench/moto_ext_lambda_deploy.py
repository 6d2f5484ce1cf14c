"""moto extension: the Lambda behaviour that safe deploys depend on, which moto 5.2 lacks.

* **RevisionId on functions** — AWS gives ``$LATEST`` a RevisionId that changes on every code or
  configuration update and on PublishVersion, and refuses UpdateFunctionCode,
  UpdateFunctionConfiguration and PublishVersion with a stale one (412
  ``PreconditionFailedException``). moto returns none and ignores the parameter.
* **RevisionId on aliases** — moto sets one at creation but never changes or checks it; AWS changes
  it on every UpdateAlias and refuses a stale one.
  Checks and updates happen under one lock, so two concurrent deploys race the way they do on AWS:
  exactly one wins.
* **CodeSha256 of image functions** — on AWS it is the image manifest digest; moto (with ECR
  stubbed) hashes the URI string instead, and garbles ``ResolvedImageUri``.
* **Invoke of a missing function/version** — the no-Docker backend echoes any payload, even for a
  function that does not exist; AWS answers 404 ``ResourceNotFoundException``.
* **Per-function canned replies with FunctionError** — ``POST /moto-api/hoopstat/lambda-replies``
  with ``{"function_name", "qualifier" (optional), "region", "replies": [{"payload": str,
  "function_error": "Unhandled" | null}]}`` queues replies for that function (and version) only,
  so a test's smoke failure can never be consumed by another test's invoke; a reply with
  ``function_error`` sets ``X-Amz-Function-Error`` as AWS does for a failed handler.
  ``x-amz-executed-version`` is set on every synchronous reply, as AWS does.
* **An update takes time** — on AWS, UpdateFunctionCode returns at once and ``$LATEST`` reports
  ``LastUpdateStatus: InProgress`` until the new image is ready; meanwhile UpdateFunctionCode,
  UpdateFunctionConfiguration and PublishVersion are refused with 409
  ``ResourceConflictException`` ("An update is in progress"). moto finishes every update at once.
  Here an update stays InProgress for a window set per function with
  ``POST /moto-api/hoopstat/lambda-update-window`` ``{"function_name", "region", "seconds"}``.
  The window is 0 unless a test sets it, so tests that drive a fake clock (which never really
  sleeps) stay deterministic; tests of races and lost replies set a real one.
* **PublishVersion's CodeSha256 precondition** — AWS publishes only when ``CodeSha256`` (if given)
  equals ``$LATEST``'s, else 400 ``InvalidParameterValueException`` "CodeSHA256 (…) is different
  from current CodeSHA256 in $LATEST (…)". moto ignores the parameter, so a deploy could publish
  another deploy's image.
* **Version numbers are never reused** — moto numbers a new version ``len(versions) + 1``, so after
  a version is deleted the next publish repeats an existing number; AWS counts on from the
  highest number ever published.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

_lock = threading.RLock()
_local = threading.local()
# (account, region, function, qualifier or "") -> queued replies
_replies: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
# (account, region, function) -> seconds an UpdateFunctionCode stays InProgress
_update_windows: dict[tuple[str, str, str], float] = {}


def _precondition_failed(kind: str) -> Exception:
    from moto.awslambda.exceptions import PreconditionFailedException

    return PreconditionFailedException(
        "The Revision Id provided does not match the latest Revision Id. "
        f"Call the {kind} API to retrieve the latest Revision Id"
    )


def _update_in_progress(fn: Any) -> bool:
    return time.monotonic() < float(getattr(fn, "hoopstat_update_until", 0.0))


def _conflict_in_progress(fn: Any) -> Exception:
    from moto.awslambda.exceptions import LambdaClientError

    error = LambdaClientError(
        "ResourceConflictException",
        "The operation cannot be performed at this time. An update is in progress for resource: "
        f"{fn.function_arn}",
    )
    error.code = 409
    return error


def _code_sha_mismatch(given: str, current: str) -> Exception:
    from moto.awslambda.exceptions import InvalidParameterValueException

    return InvalidParameterValueException(
        f"CodeSHA256 ({given}) is different from current CodeSHA256 in $LATEST ({current}). "
        "Please try again with the CodeSHA256 in $LATEST."
    )


def _revision(fn: Any) -> str:
    current = getattr(fn, "hoopstat_revision_id", None)
    if current is None:
        current = str(uuid.uuid4())
        fn.hoopstat_revision_id = current
    return str(current)


def _digest_hex(image_uri: str) -> str | None:
    _, sep, digest = image_uri.partition("@sha256:")
    return digest if sep and digest else None


def install() -> None:
    from moto.awslambda import models, responses
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.moto_api._internal import urls as api_urls

    function_cls = models.LambdaFunction
    response_cls = responses.LambdaResponse

    original_config = function_cls.get_configuration

    def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        config: dict[str, Any] = original_config(self, on_create)
        config["RevisionId"] = _revision(self)
        if _update_in_progress(self):
            config["LastUpdateStatus"] = "InProgress"
        return config

    original_set_code = function_cls._set_function_code

    def set_function_code(self: Any, updated_spec: dict[str, Any]) -> None:
        original_set_code(self, updated_spec)
        digest = _digest_hex(str(updated_spec.get("ImageUri", "")))
        if digest:
            self.code_sha_256 = digest

    original_get_code = function_cls.get_code

    def get_code(self: Any) -> dict[str, Any]:
        result: dict[str, Any] = original_get_code(self)
        uri = str(self.code.get("ImageUri") or "")
        if uri and "Code" in result:
            repo = uri.split("@", 1)[0]
            if "@" not in uri and ":" in repo.rsplit("/", 1)[-1]:
                repo = repo.rsplit(":", 1)[0]
            result["Code"]["ResolvedImageUri"] = f"{repo}@sha256:{self.code_sha_256}"
        return result

    original_set_version = function_cls.set_version

    def set_version(self: Any, version: int) -> None:
        # Called on the copy of $LATEST that PublishVersion is creating: count on from the
        # highest number this function ever had, which $LATEST remembers.
        storage = getattr(self, "hoopstat_latest", None)
        if storage is not None:
            version = max(version, int(getattr(storage, "hoopstat_highest", 0)) + 1)
            storage.hoopstat_highest = version
        original_set_version(self, version)

    original_publish = models.LambdaStorage.publish_version

    def publish_version(self: Any, name_or_arn: str, description: str = "") -> Any:
        latest = self.get_function_by_name_or_arn_forbid_qualifier(name_or_arn)
        versions = self._functions.get(latest.function_name, {}).get("versions", [])
        known = [int(v.version) for v in versions]
        latest.hoopstat_highest = max([int(getattr(latest, "hoopstat_highest", 0)), *known])
        latest.hoopstat_latest = latest
        try:
            published: Any = original_publish(self, name_or_arn, description)
        finally:
            latest.hoopstat_latest = None
        if published is not None:
            published.hoopstat_latest = None  # the copy must not count for $LATEST again
            # moto's copy.copy shares $LATEST's code dict: a later UpdateFunctionCode would
            # change this version's ImageUri too. A version's code is frozen on AWS.
            published.code = dict(published.code)
        return published

    function_cls.set_version = set_version  # type: ignore[method-assign]
    models.LambdaStorage.publish_version = publish_version  # type: ignore[method-assign]
    function_cls.get_configuration = get_configuration  # type: ignore[method-assign]
    function_cls._set_function_code = set_function_code  # type: ignore[method-assign]
    function_cls.get_code = get_code  # type: ignore[method-assign]

    def guarded(method_name: str, name_index: int) -> None:
        original = getattr(response_cls, method_name)

        def handler(self: Any) -> Any:
            from urllib.parse import unquote

            name = unquote(self.path.rsplit("/", name_index)[-name_index])
            body = json.loads(self.body or "{}") or {}
            wanted = body.get("RevisionId")
            with _lock:
                try:
                    fn = self.backend.get_function(name, None)
                except Exception:  # moto's own not-found handling answers below
                    return original(self)
                if _update_in_progress(fn):
                    raise _conflict_in_progress(fn)
                if wanted and wanted != _revision(fn):
                    raise _precondition_failed("GetFunction")
                code_sha = body.get("CodeSha256")
                if method_name == "publish_version" and code_sha and code_sha != fn.code_sha_256:
                    raise _code_sha_mismatch(str(code_sha), str(fn.code_sha_256))
                result = original(self)
                fn.hoopstat_revision_id = str(uuid.uuid4())
                if method_name == "update_function_code":
                    key = (self.current_account, self.region, fn.function_name)
                    fn.hoopstat_update_until = time.monotonic() + _update_windows.get(key, 0.0)
                return result

        setattr(response_cls, method_name, handler)

    guarded("update_function_code", 2)
    guarded("update_function_configuration", 2)
    guarded("publish_version", 2)

    original_update_alias = response_cls.update_alias

    def update_alias(self: Any) -> Any:
        from urllib.parse import unquote

        function_name = unquote(self.path.rsplit("/")[-3])
        alias_name = unquote(self.path.rsplit("/", 2)[-1])
        wanted = (json.loads(self.body or "{}") or {}).get("RevisionId")
        with _lock:
            alias = self.backend.get_alias(name=alias_name, function_name=function_name)
            if wanted and wanted != alias.revision_id:
                raise _precondition_failed("GetAlias")
            result = original_update_alias(self)
            alias.revision_id = str(uuid.uuid4())
            _, headers, body = result
            payload = json.loads(body)
            payload["RevisionId"] = alias.revision_id
            return 200, {**headers, "status": 200}, json.dumps(payload)

    response_cls.update_alias = update_alias  # type: ignore[method-assign]

    # moto reads the invoke qualifier from a lowercase parameter boto3 never sends, so every
    # invoke ran $LATEST; hand the real ``Qualifier`` query parameter to the backend.
    original_response_invoke = response_cls.invoke

    def response_invoke(self: Any) -> Any:
        _local.qualifier = (self.querystring.get("Qualifier") or [None])[0]
        try:
            return original_response_invoke(self)
        finally:
            _local.qualifier = None

    response_cls.invoke = response_invoke  # type: ignore[method-assign]
    original_invoke = LambdaSimpleBackend.invoke

    def invoke(
        self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any,
        response_headers: Any,
    ) -> Any:
        qualifier = qualifier or getattr(_local, "qualifier", None)
        # Raises moto's ResourceNotFoundException, as AWS answers for a missing function/version.
        fn = self.get_function(function_name, qualifier)
        executed = str(fn.version)
        if qualifier and not qualifier.isdigit() and qualifier != "$LATEST":
            executed = str(self.get_alias(name=qualifier, function_name=fn.function_name)
                           .function_version)
        response_headers["x-amz-executed-version"] = executed
        with _lock:
            for key in ((self.account_id, self.region_name, fn.function_name, executed),
                        (self.account_id, self.region_name, fn.function_name, "")):
                queue = _replies.get(key)
                if queue:
                    reply = queue.pop(0)
                    if reply.get("function_error"):
                        response_headers["x-amz-function-error"] = str(reply["function_error"])
                    return str(reply.get("payload", "")).encode()
        return original_invoke(self, function_name, qualifier, body, headers, response_headers)

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]

    def queue_replies(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
        if hasattr(request, "environ"):  # werkzeug, as in server mode
            length = int(headers.get("Content-Length") or 0)
            raw = request.environ["wsgi.input"].read(length)
        else:
            raw = request.body
        spec = json.loads(raw or b"{}")
        key = (
            str(spec.get("account_id", "123456789012")), str(spec.get("region", "us-east-1")),
            str(spec["function_name"]), str(spec.get("qualifier", "")),
        )
        with _lock:
            _replies.setdefault(key, []).extend(spec.get("replies", []))
        return 201, {}, json.dumps({"queued": len(_replies[key])})

    api_urls.url_paths["{0}/moto-api/hoopstat/lambda-replies"] = queue_replies

    def set_update_window(
        request: Any, full_url: str, headers: Any
    ) -> tuple[int, dict[str, str], str]:
        if hasattr(request, "environ"):
            length = int(headers.get("Content-Length") or 0)
            raw = request.environ["wsgi.input"].read(length)
        else:
            raw = request.body
        spec = json.loads(raw or b"{}")
        key = (str(spec.get("account_id", "123456789012")), str(spec.get("region", "us-east-1")),
               str(spec["function_name"]))
        with _lock:
            _update_windows[key] = float(spec.get("seconds", 0.0))
        return 201, {}, json.dumps({"seconds": _update_windows[key]})

    api_urls.url_paths["{0}/moto-api/hoopstat/lambda-update-window"] = set_update_window
