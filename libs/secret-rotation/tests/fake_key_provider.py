"""A fake API-key provider (no real one offline), speaking the protocol in ``providers.py``.

It also serves ``GET /stats`` to holders of a valid key, standing in for the API an app calls.
``single_key=True`` models the strictest provider: registering a new key revokes all others.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeKeyProvider:
    def __init__(self, *keys: str, single_key: bool = False) -> None:
        self.keys = set(keys)
        self.single_key = single_key
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self.lock = threading.Lock()
        self.url = ""

    def handle(self, method: str, path: str, key: str, body: bytes) -> tuple[int, bytes]:
        with self.lock:
            valid = key in self.keys
            if not valid:
                status, payload = 401, b'{"error": "unauthorized"}'
            elif (method, path) == ("POST", "/keys"):
                new = json.loads(body)["key"]
                if new in self.keys:
                    status, payload = 409, b"{}"
                else:
                    self.keys = {new} if self.single_key else self.keys | {new}
                    status, payload = 201, b"{}"
            elif (method, path) == ("GET", "/keys/self"):
                status, payload = 200, b"{}"
            elif (method, path) == ("DELETE", "/keys/self"):
                self.keys.discard(key)
                status, payload = 204, b""
            elif (method, path) == ("GET", "/stats"):
                status, payload = 200, b'{"games": 82}'
            else:
                status, payload = 404, b"{}"
            self.requests.append((method, path, status))
            return status, payload


@contextmanager
def serving(provider: FakeKeyProvider) -> Iterator[FakeKeyProvider]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            key = self.headers.get("Authorization", "").removeprefix("Bearer ")
            status, payload = provider.handle(self.command, self.path, key, body)
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
