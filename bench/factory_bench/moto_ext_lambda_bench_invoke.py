"""moto extension: the local invoke hook — Invoke runs the image's real handler.

moto's no-Docker Lambda only echoes the payload, so a smoke test against it tests nothing. For a
function whose image lives in the bench's local registry (an ``ImageUri`` on a loopback host —
what ``ecr-push`` outputs in local mode), Invoke here:

1. pulls the image by digest from that registry (ECR-style login: user ``AWS``, password from
   moto's GetAuthorizationToken) and unpacks its layers once per digest;
2. reads the handler from the function's ``ImageConfig.Command`` or the image's ``CMD``
   (``module.function``) and the task root from ``LAMBDA_TASK_ROOT``/``WorkingDir``;
3. runs it in a fresh process (:mod:`factory_bench.lambda_runtime`) with the function's
   environment variables, the Lambda runtime variables, and ``AWS_ENDPOINT_URL`` pointing at this
   moto server, within the function's timeout;
4. answers like Lambda: the handler's result, or ``X-Amz-Function-Error: Unhandled`` with
   ``{"errorMessage", "errorType", "stackTrace"}``; the handler's output goes to CloudWatch Logs
   group ``/aws/lambda/<function>``.

The handler runs on the bench's Python, so its third-party packages come from the bench's
environment (the bench image carries no interpreter; the offline machine cannot install the
image's requirements). Other functions keep moto's behaviour.

Install order matters: extensions install in name order, so ``moto_ext_lambda_deploy`` (queued
canned replies, qualifier fix) wraps this one and its canned replies still win.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

_cache_lock = threading.Lock()
_rootfs: dict[str, Path] = {}
_cache_dir = Path(tempfile.mkdtemp(prefix="hoopstat-bench-images-"))

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def bench_image(image_uri: str) -> tuple[str, str, str] | None:
    """(host, repository, digest) for a digest-pinned image in a loopback registry, else None."""
    if "@sha256:" not in image_uri:
        return None
    location, digest = image_uri.split("@", 1)
    host, _, repository = location.partition("/")
    if host.rsplit(":", 1)[0] not in LOOPBACK_HOSTS or not repository:
        return None
    return host, repository, digest


def _get(url: str, auth: str, accept: str = "*/*") -> bytes:
    request = urllib.request.Request(
        url, headers={"Authorization": f"Basic {auth}", "Accept": accept}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body: bytes = response.read()
        return body


def _registry_auth(account: str) -> str:
    """Basic auth for the bench registry: what moto's GetAuthorizationToken hands out (moto
    builds it in its response layer as ``AWS:<registry id>-auth-token``)."""
    return base64.b64encode(f"AWS:{account}-auth-token".encode()).decode()


def unpack_image(host: str, repository: str, digest: str, auth: str) -> tuple[Path, dict[str, Any]]:
    """The image's root filesystem (unpacked once per digest) and its config."""
    base = f"http://{host}/v2/{repository}"
    manifest = json.loads(_get(f"{base}/manifests/{digest}", auth, MANIFEST_TYPES))
    if "layers" not in manifest:
        raise RuntimeError(f"{digest} is an index, not a single image manifest")
    config = json.loads(_get(f"{base}/blobs/{manifest['config']['digest']}", auth))
    with _cache_lock:
        if digest not in _rootfs:
            root = _cache_dir / digest.replace(":", "-")
            root.mkdir(parents=True, exist_ok=True)
            for layer in manifest["layers"]:
                blob = _get(f"{base}/blobs/{layer['digest']}", auth)
                with tarfile.open(fileobj=io.BytesIO(blob), mode="r:*") as archive:
                    archive.extractall(root, filter="data")
            _rootfs[digest] = root
        return _rootfs[digest], config.get("config") or {}


def _image_env(config: dict[str, Any]) -> dict[str, str]:
    pairs = (item.partition("=") for item in config.get("Env") or [])
    return {key: value for key, _, value in pairs if key}


def _write_logs(account: str, region: str, function: str, version: str, text: str) -> None:
    """Put the handler's output in CloudWatch Logs, as Lambda does (best effort)."""
    try:
        from moto.logs.models import logs_backends

        logs = logs_backends[account][region]
        group = f"/aws/lambda/{function}"
        if group not in logs.groups:
            logs.create_log_group(group, tags={})
        stream = f"{time.strftime('%Y/%m/%d')}/[{version}]{uuid.uuid4().hex}"
        logs.groups[group].create_log_stream(stream)
        now = int(time.time() * 1000)
        events = [{"timestamp": now, "message": line} for line in text.splitlines() if line]
        if events:
            logs.groups[group].put_log_events(stream, events)
    except Exception as exc:  # logging must never fail the invoke
        print(f"bench invoke hook: could not write logs: {exc}", file=sys.stderr)


def run_handler(backend: Any, fn: Any, body: Any, response_headers: Any) -> bytes | None:
    image_uri = str(fn.code.get("ImageUri", "")) if isinstance(fn.code, dict) else ""
    located = bench_image(image_uri)
    if located is None:
        return None
    account, region = backend.account_id, backend.region_name
    auth = _registry_auth(account)
    rootfs, config = unpack_image(*located, auth)
    image_env = _image_env(config)
    command = list(getattr(fn.image_config, "cmd", None) or config.get("Cmd") or [])
    if not command:
        raise RuntimeError(f"{image_uri} has no CMD naming the handler")
    task_root = image_env.get("LAMBDA_TASK_ROOT") or config.get("WorkingDir") or "/var/task"
    version = str(fn.version)
    request_id = str(uuid.uuid4())
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        **image_env,
        **{str(k): str(v) for k, v in (fn.environment_vars or {}).items()},
        "AWS_ENDPOINT_URL": os.environ.get("HOOPSTAT_BENCH_MOTO_URL", ""),
        "AWS_ACCESS_KEY_ID": "bench-execution-role",
        "AWS_SECRET_ACCESS_KEY": "bench-execution-role",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.function_name}",
        "AWS_EXECUTION_ENV": "AWS_Lambda_Image",
        "HOOPSTAT_BENCH_ACCOUNT": account,
        "LAMBDA_TASK_ROOT": task_root,
        "_HANDLER": command[0],
        "_X_AMZN_TRACE_ID": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
    }
    timeout = int(fn.timeout or 3)
    with tempfile.TemporaryDirectory() as scratch:
        result_path = Path(scratch) / "result.json"
        event = body.decode() if isinstance(body, bytes) else str(body or "{}")
        try:
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "factory_bench.lambda_runtime",
                    "--task-root",
                    str(rootfs / task_root.lstrip("/")),
                    "--handler",
                    command[0],
                    "--result",
                    str(result_path),
                    "--request-id",
                    request_id,
                    "--timeout",
                    str(timeout),
                ],
                input=event,
                capture_output=True,
                text=True,
                env=env,
                timeout=timeout + 5,
                check=False,
            )
            log = f"START RequestId: {request_id} Version: {version}\n{done.stdout}{done.stderr}"
            outcome = (
                json.loads(result_path.read_text())
                if result_path.exists()
                else {
                    "ok": False,
                    "payload": {
                        "errorMessage": f"Runtime exited with code {done.returncode}",
                        "errorType": "Runtime.ExitError",
                        "stackTrace": [],
                    },
                }
            )
        except subprocess.TimeoutExpired:
            log = f"START RequestId: {request_id} Version: {version}\nTask timed out"
            outcome = {
                "ok": False,
                "payload": {
                    "errorMessage": f"Task timed out after {timeout} seconds",
                    "errorType": "Sandbox.Timedout",
                    "stackTrace": [],
                },
            }
    _write_logs(account, region, fn.function_name, version, log + f"\nEND RequestId: {request_id}")
    if not outcome["ok"]:
        response_headers["x-amz-function-error"] = "Unhandled"
    response_headers["x-amz-executed-version"] = version
    return json.dumps(outcome["payload"]).encode()


def install() -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    original = LambdaSimpleBackend.invoke

    def invoke(
        self: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> Any:
        fn = self.get_function(function_name, qualifier)
        answer = run_handler(self, fn, body, response_headers)
        if answer is not None:
            return answer
        return original(self, function_name, qualifier, body, headers, response_headers)

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
