"""The bench's ECR registry: Debian ``docker-registry`` on 127.0.0.1, bridged into moto's ECR API.

moto implements ECR's control plane (repositories, describe-images, scans) but no registry
protocol. This process closes the gap the way ECR itself is built: the registry stores the bytes
and, through its own push notifications, tells the "ECR service" (here: a small HTTP listener in
this process) about every manifest pushed or deleted; the listener records it in moto with
``PutImage`` / ``BatchDeleteImage``, digest and tag exactly as the registry saw them. So what lands
in the registry becomes visible through ``describe-images``, with the same digest.

Login works as ECR's does: user ``AWS``, the password from ``GetAuthorizationToken``. moto's
token is fixed per account (``<account>-auth-token``); it is read from moto at start-up rather
than assumed, and written to the registry's htpasswd file as a bcrypt hash.

Run: ``python -m factory_bench.registry --moto-url URL --workdir DIR``; prints one JSON line
``{"url", "endpoint", "bridge_url", "username", "password", "log"}`` once the registry answers.

Known gap: the registry itself does not enforce ECR's IMMUTABLE tags; moto refuses the re-tag
(the bridge logs it) and the actions check tags through the ECR API before pushing.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

MANIFEST_TYPES = frozenset(
    {
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    }
)
ADMIN_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ecr_admin(moto_url: str, region: str) -> Any:
    return boto3.session.Session(
        region_name=region, aws_access_key_id=ADMIN_KEYS["aws_access_key_id"],
        aws_secret_access_key=ADMIN_KEYS["aws_secret_access_key"],
    ).client(
        "ecr", endpoint_url=moto_url, config=Config(retries={"max_attempts": 2})
    )


def token_credentials(ecr: Any) -> tuple[str, str]:
    """The (user, password) pair moto's GetAuthorizationToken hands out, decoded."""
    data = ecr.get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    return user, password


def htpasswd_line(user: str, password: str) -> str:
    """A bcrypt htpasswd entry (the only hash docker-registry accepts)."""
    try:
        import bcrypt
    except ImportError:
        tool = shutil.which("htpasswd")
        if tool is None:
            raise RuntimeError(
                "need python `bcrypt` (pip) or `htpasswd` (apt apache2-utils) for the registry"
            ) from None
        done = subprocess.run(
            [tool, "-nbB", user, password], check=True, capture_output=True, text=True
        )
        return done.stdout.strip()
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
    return f"{user}:{hashed}"


def registry_config(*, root: Path, port: int, htpasswd: Path, bridge_url: str) -> str:
    config = {
        "version": 0.1,
        "log": {"level": "info", "fields": {"service": "bench-registry"}},
        "storage": {
            "filesystem": {"rootdirectory": str(root)},
            "delete": {"enabled": True},
            "cache": {"blobdescriptor": "inmemory"},
        },
        "http": {"addr": f"127.0.0.1:{port}", "headers": {"X-Content-Type-Options": ["nosniff"]}},
        "auth": {"htpasswd": {"realm": "bench-ecr", "path": str(htpasswd)}},
        "notifications": {
            "events": {"includereferences": True},
            "endpoints": [
                {
                    "name": "ecr-bridge",
                    "url": bridge_url,
                    # Generous: on a loaded 2-core machine applying an event to moto can take
                    # seconds, and a timed-out event is queued again behind the next ones.
                    "timeout": "30s",
                    "threshold": 3,
                    "backoff": "200ms",
                    "ignore": {"mediatypes": ["application/octet-stream"], "actions": ["pull"]},
                }
            ],
        },
    }
    # docker-registry reads YAML; JSON is valid YAML, so no YAML writer is needed.
    return json.dumps(config, indent=2)


def transient(exc: Exception) -> bool:
    """Whether ``exc`` may pass on a retry: a network or server error, not an ECR refusal."""
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return int(status) >= 500
    return isinstance(exc, (OSError, BotoCoreError))


class EcrBridge:
    """Applies registry events to moto's ECR, the way ECR's control plane learns of pushes."""

    def __init__(self, *, ecr: Any, registry_url: str, auth: tuple[str, str]) -> None:
        self.ecr = ecr
        self.registry_url = registry_url
        self._auth = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        self._lock = threading.Lock()
        self.applied = 0
        self.lost = 0

    def fetch_manifest(self, repository: str, digest: str, media_type: str) -> str:
        request = urllib.request.Request(
            f"{self.registry_url}/v2/{repository}/manifests/{digest}",
            headers={"Authorization": self._auth, "Accept": media_type},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body: bytes = response.read()
        return body.decode()

    def handle(self, event: dict[str, Any], *, attempts: int = 5) -> None:
        """Apply ``event``, retrying transient failures so that a loaded machine loses none.

        A lost event is an image ECR never learns of: the action then waits for it and fails
        with ``push-failed``, long after the cause. So a failure (moto answering slowly or with
        a 5xx, the manifest fetch timing out) is tried again with a growing pause, and only
        after ``attempts`` is it logged as LOST, naming the event.
        """
        delay = 0.2
        for attempt in range(1, attempts + 1):
            try:
                self._apply(event)
                return
            except Exception as exc:
                if not transient(exc):
                    # ECR's own refusal (an IMMUTABLE re-tag, say) is the answer, not a hiccup.
                    print(f"bridge: event {event.get('id')} refused by ECR: {exc!r}",
                          file=sys.stderr, flush=True)
                    return
                if attempt == attempts:
                    print(f"bridge: event {event.get('id')} LOST after {attempts} attempts "
                          f"({event.get('action')} {event.get('target', {}).get('repository')}"
                          f"@{event.get('target', {}).get('digest')}): {exc!r}",
                          file=sys.stderr, flush=True)
                    self.lost += 1
                    return
                print(f"bridge: event {event.get('id')} attempt {attempt} failed, retrying: "
                      f"{exc!r}", file=sys.stderr, flush=True)
                time.sleep(delay)
                delay = min(5.0, delay * 2)

    def _apply(self, event: dict[str, Any]) -> None:
        target = event.get("target", {})
        media_type = str(target.get("mediaType", ""))
        repository = str(target.get("repository", ""))
        digest = str(target.get("digest", ""))
        tag = target.get("tag")
        action = event.get("action")
        # One event at a time: moto's ECR model is not written for concurrent writers.
        with self._lock:
            if action == "push" and media_type in MANIFEST_TYPES:
                self._record_push(repository, digest, media_type, tag)
            elif action == "delete" and (tag or digest):
                # Delete events carry no media type; a blob's digest names no ECR image, and
                # BatchDeleteImage reports it as a failure without changing anything.
                image_id = {"imageTag": str(tag)} if tag else {"imageDigest": digest}
                self.ecr.batch_delete_image(repositoryName=repository, imageIds=[image_id])
            else:
                return
            self.applied += 1

    def _record_push(self, repository: str, digest: str, media_type: str, tag: Any) -> None:
        manifest = self.fetch_manifest(repository, digest, media_type)
        args: dict[str, Any] = {
            "repositoryName": repository,
            "imageManifest": manifest,
            "imageManifestMediaType": media_type,
            "imageDigest": digest,
        }
        if tag:
            args["imageTag"] = str(tag)
        elif self._known(repository, digest):
            return  # an untagged re-push of a known manifest changes nothing in ECR
        try:
            self.ecr.put_image(**args)
        except self.ecr.exceptions.ImageAlreadyExistsException:
            pass  # the same manifest and tag again: ECR answers this way and keeps the image

    def _known(self, repository: str, digest: str) -> bool:
        try:
            self.ecr.describe_images(repositoryName=repository, imageIds=[{"imageDigest": digest}])
        except self.ecr.exceptions.ImageNotFoundException:
            return False
        return True


def serve_bridge(bridge: EcrBridge, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            envelope = json.loads(self.rfile.read(length) or b"{}")
            for event in envelope.get("events", []):
                bridge.handle(event)
            # Always 200: a refused event would be re-sent forever by the registry's queue.
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            print("bridge: " + format % args, file=sys.stderr, flush=True)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"{url}/v2/", timeout=1)
        except urllib.error.HTTPError as exc:
            if exc.code == 401:  # up, and asking for the ECR-style login
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("docker-registry did not answer in time")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moto-url", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument("--binary", default=shutil.which("docker-registry") or "docker-registry")
    args = parser.parse_args(argv)

    workdir: Path = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    ecr = ecr_admin(args.moto_url, args.region)
    user, password = token_credentials(ecr)
    htpasswd = workdir / "htpasswd"
    htpasswd.write_text(htpasswd_line(user, password) + "\n")

    port, bridge_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    bridge = EcrBridge(ecr=ecr, registry_url=url, auth=(user, password))
    server = serve_bridge(bridge, bridge_port)
    config = workdir / "config.yml"
    config.write_text(registry_config(
        root=workdir / "storage", port=port, htpasswd=htpasswd,
        bridge_url=f"http://127.0.0.1:{bridge_port}/events",
    ))
    log_path = workdir / "docker-registry.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([args.binary, "serve", str(config)], stdout=log, stderr=log)

    def stop(*_: object) -> None:
        # Only signal here: the main thread is inside process.wait() and finishes the shutdown.
        process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        wait_until_up(url, process)
    except RuntimeError as exc:
        print(f"{exc}; log:\n{log_path.read_text()[-2000:]}", file=sys.stderr, flush=True)
        process.kill()
        return 1
    print(json.dumps({
        "url": url, "endpoint": url, "bridge_url": f"http://127.0.0.1:{bridge_port}/events",
        "username": user, "password": password, "log": str(log_path),
    }), flush=True)
    process.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
