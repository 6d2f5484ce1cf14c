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

The bench image carries no interpreter, so the hook stands in for the real image's Python and its
``RUN pip install``, from two labels of ``Dockerfile.bench``:

- ``dev.hoopstat.bench-python`` (``3.12``: the real base image's Python): the handler runs on a
  base interpreter of that version found on this machine, isolated (``-I -S``: no site-packages,
  no environment variables of Python's, no script directory), so it imports only the standard
  library, the task root and what the image declares, never the suite's packages (stricter than
  Lambda on one point: AWS's base image also carries a boto3 of its own, which the bench does
  not, so an image must declare the boto3 it imports, as AWS advises anyway);
- ``dev.hoopstat.bench-requirements`` (a requirements file inside the image, e.g.
  ``/tmp/build/requirements.txt`` beside the ``libs/`` it names): installed with that Python's
  pip, from the package index, into a directory put on the path after the task root, as the real
  image's ``pip install -r requirements.txt --target $LAMBDA_TASK_ROOT`` would. The install is
  kept per content (the files beside the requirements file and the Python), as a layer cache
  keeps an unchanged ``RUN`` step; a requirement that cannot be installed fails the invoke, naming
  the file, as it would fail the real build.

An image without ``bench-python`` runs on the bench's own Python and environment, and its log says
so. Other functions keep moto's behaviour.

Install order matters: extensions install in name order, so ``moto_ext_lambda_deploy`` (queued
canned replies, qualifier fix) wraps this one and its canned replies still win.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_cache_lock = threading.Lock()
_rootfs: dict[str, Path] = {}


def _images_dir() -> Path:
    """Where images are unpacked: the bench's own directory (removed when the bench stops), or a
    temporary one for a server started without it."""
    named = os.environ.get("HOOPSTAT_BENCH_IMAGES_DIR")
    if named:
        return Path(named)
    global _fallback_images_dir  # noqa: PLW0603 - made once, on first use
    if _fallback_images_dir is None:
        _fallback_images_dir = Path(tempfile.mkdtemp(prefix="hoopstat-bench-images-"))
    return _fallback_images_dir


_fallback_images_dir: Path | None = None

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
            root = _images_dir() / digest.replace(":", "-")
            root.mkdir(parents=True, exist_ok=True)
            for layer in manifest["layers"]:
                blob = _get(f"{base}/blobs/{layer['digest']}", auth)
                with tarfile.open(fileobj=io.BytesIO(blob), mode="r:*") as archive:
                    archive.extractall(root, filter="data")
            _rootfs[digest] = root
        return _rootfs[digest], config.get("config") or {}


PYTHON_LABEL = "dev.hoopstat.bench-python"
REQUIREMENTS_LABEL = "dev.hoopstat.bench-requirements"
RUNTIME_SCRIPT = Path(__file__).resolve().parent / "lambda_runtime.py"
SETUP_PYTHON_STUB = (Path(__file__).resolve().parent / "stubs" / "actions" / "setup-python"
                     / "fake_setup_python.py")
KEEP_ENTRIES = 6  # installs of image requirements kept in the cache (most recently used)
_interpreters: dict[str, str] = {}
_versions: dict[str, str] = {}  # interpreter path -> the 3.X.Y find_interpreter probed
_digests: dict[tuple[str, Path], str] = {}


class ImageSetupError(RuntimeError):
    """What the real image's build would have failed at (no such Python, a requirement that
    does not install): the invoke fails with this message instead of running the handler."""


def _deps_root() -> Path:
    return Path(os.environ.get("HOOPSTAT_BENCH_LAMBDA_DEPS")
                or Path.home() / ".cache" / "hoopstat-bench" / "lambda-deps")


def image_python(requested: str) -> str:
    """A base interpreter (never a virtualenv) of the version the image's label names, found the
    way the FAKE setup-python finds one."""
    with _cache_lock:
        if requested not in _interpreters:
            spec = importlib.util.spec_from_file_location("fake_setup_python", SETUP_PYTHON_STUB)
            assert spec is not None and spec.loader is not None
            finder = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(finder)
            try:
                version, path = finder.find_interpreter(requested)
                _interpreters[requested], _versions[path] = path, version
            except finder.SetupError as exc:
                raise ImageSetupError(
                    f"{PYTHON_LABEL}={requested!r}: {exc.title}. {exc}") from exc
        return _interpreters[requested]


def _tree_digest(python: str, directory: Path) -> str:
    """The install's cache key: the interpreter and every file beside the requirements file
    (computed once per unpacked image: an image's files never change)."""
    with _cache_lock:
        known = _digests.get((python, directory))
    if known:
        return known
    # The interpreter's path and the version the finder probed (3.X.Y).
    digest = hashlib.sha256(f"{python}\0{_versions.get(python, '')}\0".encode())
    for path in sorted(p for p in directory.rglob("*") if p.is_file() or p.is_symlink()):
        digest.update(str(path.relative_to(directory)).encode() + b"\0")
        digest.update((os.readlink(path).encode() if path.is_symlink() else path.read_bytes())
                      + b"\0")
    with _cache_lock:
        _digests[(python, directory)] = digest.hexdigest()[:24]
        return _digests[(python, directory)]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def image_dependencies(python: str, rootfs: Path, requirements: str) -> Path:
    """The image's declared requirements installed with ``python``'s pip (once per content)."""
    inside = Path("/") / requirements.lstrip("/")
    file = (rootfs / inside.relative_to("/")).resolve()
    if not file.is_relative_to(rootfs.resolve()) or not file.is_file():
        raise ImageSetupError(f"{REQUIREMENTS_LABEL}={requirements!r}: the image has no such "
                              "file. COPY the requirements file (and the libs/ it names) there "
                              "in Dockerfile.bench, as the real Dockerfile's build step has them.")
    root = _deps_root()
    target = root / _tree_digest(python, file.parent)
    with _locked(root / f"{target.name}.lock"):
        if (target / ".ready").exists():
            (target / ".ready").touch()  # recently used: kept by prune()
            return target
        shutil.rmtree(target, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{target.name}-", dir=root))
        done = subprocess.run(
            [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
             "--quiet", "--target", str(staging), "-r", file.name],
            cwd=file.parent, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
            raise ImageSetupError(
                f"{inside} (the image's {REQUIREMENTS_LABEL}) could not be installed with "
                f"{python} -m pip, as the real image's pip install would fail: {tail}")
        (staging / ".ready").write_text(f"{inside}\n")
        staging.rename(target)
    prune(root, keep=target)
    return target


def prune(root: Path, *, keep: Path, entries: int = KEEP_ENTRIES,
          min_age_seconds: float = 3600) -> list[Path]:
    """Remove install directories beyond the ``entries`` most recently used (each ~50 MB for
    hello-stats), if unused for ``min_age_seconds``: an in-progress install or an entry a
    handler may be running from is never that old. Returns what was removed."""
    def used(path: Path) -> float:
        ready = path / ".ready"
        return (ready if ready.exists() else path).stat().st_mtime

    directories = sorted((p for p in root.iterdir() if p.is_dir() and p != keep),
                         key=used, reverse=True)
    now, removed = time.time(), []
    for stale in directories[max(entries - 1, 0):]:
        if now - used(stale) >= min_age_seconds:
            shutil.rmtree(stale, ignore_errors=True)
            Path(f"{stale}.lock").unlink(missing_ok=True)
            removed.append(stale)
    return removed


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


def runtime_command(rootfs: Path, labels: dict[str, str]) -> tuple[list[str], str]:
    """The argv that starts the bench runtime for this image, and a line for the log if it
    falls short of the image (no ``bench-python`` label: the bench's own Python runs it)."""
    requested = labels.get(PYTHON_LABEL, "").strip()
    if not requested:
        return ([sys.executable, "-m", "factory_bench.lambda_runtime"],
                f"bench: the image has no {PYTHON_LABEL} label, so the handler runs on the "
                f"bench's Python {sys.version.split()[0]} with the bench's packages, not the "
                "image's (see examples/hello-stats/Dockerfile.bench)\n")
    python = image_python(requested)
    argv = [python, "-I", "-S", str(RUNTIME_SCRIPT)]
    requirements = labels.get(REQUIREMENTS_LABEL, "").strip()
    if requirements:
        argv += ["--path", str(image_dependencies(python, rootfs, requirements))]
    return argv, ""


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
    labels = config.get("Labels") or {}
    try:
        runtime, note = runtime_command(rootfs, labels)
    except ImageSetupError as exc:
        log = f"START RequestId: {request_id} Version: {version}\nbench: {exc}"
        _write_logs(account, region, fn.function_name, version,
                    log + f"\nEND RequestId: {request_id}")
        response_headers["x-amz-function-error"] = "Unhandled"
        response_headers["x-amz-executed-version"] = version
        return json.dumps({"errorMessage": str(exc), "errorType": "Runtime.BenchImageSetup",
                           "stackTrace": []}).encode()
    with tempfile.TemporaryDirectory() as scratch:
        result_path = Path(scratch) / "result.json"
        event = body.decode() if isinstance(body, bytes) else str(body or "{}")
        try:
            done = subprocess.run(
                [
                    *runtime,
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
            log = (f"START RequestId: {request_id} Version: {version}\n{note}"
                   f"{done.stdout}{done.stderr}")
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
