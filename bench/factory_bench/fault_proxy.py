"""A FAULT INJECTOR: an HTTP proxy in front of the bench's moto server that fails chosen calls.

AWS throttles and has 5xx blips; moto never does. Put this proxy's URL in ``AWS_ENDPOINT_URL`` and
it forwards every request to moto, except those matching a rule, which get the error AWS would
send instead (or a dropped connection) — so tests can show retries make deploys converge, and that
hard failures leave things safe.

Calls are matched by AWS service and **operation name** (``UpdateFunctionCode``, ``DescribeImages``,
``DescribeAlarms``), worked out the way AWS does: the SigV4 credential scope names the service;
the operation comes from ``X-Amz-Target`` (JSON protocol), ``Action=`` (query protocol) or the
method and URI template of botocore's service model (REST protocols). Errors are rendered in each
protocol's own format so botocore parses the code as it would from AWS.

Control API (JSON):

* ``POST /_fault/rules`` ``{"rules": [{"service": "lambda", "operation": "UpdateFunctionCode",
  "status": 429, "code": "TooManyRequestsException", "times": 2, "skip": 0, "kind": "error"}]}``
  — append rules; ``times`` (default 1, ``-1`` for ever) matching calls fail after ``skip``
  matching calls passed; ``kind`` ``drop`` closes the connection without a reply (the call never
  reaches moto); ``lose-reply`` forwards the call, so it takes effect, then closes the connection
  without the reply (a reply lost on the way back: the SDK retries a call that already landed).
* ``POST /_fault/reset`` — forget rules and the log.
* ``GET /_fault/log`` — ``{"injected": [...], "passed": [...]}`` as ``service:Operation`` items.

Run: ``python -m factory_bench.fault_proxy --upstream URL [--port N]``; prints one JSON
line ``{"url": ...}`` once listening. Tests may also use :class:`FaultProxy` in a thread.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import sys
import threading
import urllib.parse
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

# Services the suite calls, by the name in their SigV4 credential scope.
SERVICES = ("lambda", "ecr", "cloudwatch", "sts", "iam", "logs", "s3", "secretsmanager",
            "dynamodb", "sns", "budgets")
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/(?P<service>[^/]+)/aws4_request")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
               "proxy-authorization", "proxy-authenticate", "host", "content-length"}


@dataclass
class Rule:
    service: str
    operation: str
    status: int = 503
    code: str = ""
    times: int = 1
    skip: int = 0
    kind: str = "error"
    seen: int = 0

    def take(self) -> bool:
        """Count one matching call; True when this one is to fail."""
        self.seen += 1
        if self.seen <= self.skip:
            return False
        return self.times < 0 or self.seen - self.skip <= self.times


@dataclass
class _Model:
    protocol: str
    rest: list[tuple[str, re.Pattern[str], int, str]] = field(default_factory=list)


@cache
def _models() -> dict[str, tuple[str, _Model]]:
    """scope name -> (botocore service name, protocol and REST routes)."""
    import botocore.session

    session = botocore.session.get_session()
    found: dict[str, tuple[str, _Model]] = {}
    for name in SERVICES:
        model = session.get_service_model(name)
        routes = []
        for op_name in model.operation_names:
            http = model.operation_model(op_name).http
            uri = str(http.get("requestUri", "/")).split("?")[0]
            literal = len(re.sub(r"\{[^}]+\}", "", uri))
            pattern = re.sub(r"\\\{[^}]+\\\+\\\}", ".+", re.escape(uri))
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
            routes.append((str(http.get("method", "POST")), re.compile(pattern + "/?"), literal,
                           op_name))
        scope = str(model.metadata.get("signingName") or model.metadata.get("endpointPrefix"))
        found[scope] = (name, _Model(str(model.protocol), routes))
    return found


def identify(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[str, str,
                                                                                    str]:
    """(service, operation, protocol) of one request; empty strings when unknown."""
    match = _SCOPE.search(headers.get("authorization", ""))
    if match is None:
        return "", "", ""
    entry = _models().get(match["service"])
    if entry is None:
        return match["service"], "", ""
    service, model = entry
    # The protocol is the one this request speaks (botocore picks from the model's list).
    target = headers.get("x-amz-target", "")
    if target:
        return service, target.split(".")[-1], "json"
    if headers.get("smithy-protocol") == "rpc-v2-cbor" or "/operation/" in path:
        # POST /service/<ServiceShape>/operation/<Operation>
        operation = urllib.parse.urlsplit(path).path.rsplit("/operation/", 1)[-1]
        return service, operation, "smithy-rpc-v2-cbor"
    params = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    params.update(urllib.parse.parse_qs(urllib.parse.urlsplit(path).query))
    if model.protocol == "query" or "Action" in params:
        return service, (params.get("Action") or [""])[0], "query"
    bare = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
    best = ("", -1)
    for route_method, pattern, literal, op_name in model.rest:
        if route_method == method and pattern.fullmatch(bare) and literal > best[1]:
            best = (op_name, literal)
    return service, best[0], model.protocol


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    if len(data) < 24:
        return bytes([0x60 | len(data)]) + data
    if len(data) < 256:
        return bytes([0x78, len(data)]) + data
    return bytes([0x79]) + len(data).to_bytes(2, "big") + data


def cbor_error(code: str, message: str) -> bytes:
    """A CBOR map {"__type": code, "message": message} (RFC 8949, definite lengths)."""
    return (bytes([0xA2]) + _cbor_text("__type") + _cbor_text(code)
            + _cbor_text("message") + _cbor_text(message))


def render_error(protocol: str, status: int, code: str) -> tuple[dict[str, str], bytes]:
    message = "Rate exceeded" if status in {400, 429} else "Service unavailable (injected fault)"
    if protocol == "smithy-rpc-v2-cbor":
        return ({"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"},
                cbor_error(code, message))
    if protocol == "rest-json":
        return ({"Content-Type": "application/json", "x-amzn-ErrorType": code},
                json.dumps({"Type": "Service", "message": message}).encode())
    if protocol == "json":
        return ({"Content-Type": "application/x-amz-json-1.1"},
                json.dumps({"__type": code, "message": message}).encode())
    if protocol == "query":
        xml = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}</Code>"
               f"<Message>{escape(message)}</Message></Error>"
               "<RequestId>fault-proxy</RequestId></ErrorResponse>")
        return {"Content-Type": "text/xml"}, xml.encode()
    xml = f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    return {"Content-Type": "application/xml"}, xml.encode()


def default_code(service: str, status: int) -> str:
    if status in {400, 429}:
        return {"lambda": "TooManyRequestsException", "cloudwatch": "Throttling",
                "sts": "Throttling"}.get(service, "ThrottlingException")
    return {"lambda": "ServiceException", "ecr": "ServerException"}.get(service, "InternalFailure")


class FaultProxy:
    """The fault injector; ``start()`` serves in a daemon thread, ``stop()`` shuts it down."""

    def __init__(self, upstream: str, *, port: int = 0) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.lock = threading.Lock()
        self.rules: list[Rule] = []
        self.injected: list[str] = []
        self.passed: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread: threading.Thread | None = None

    def add(self, **rule: Any) -> None:
        with self.lock:
            self.rules.append(Rule(**rule))

    def reset(self) -> None:
        with self.lock:
            self.rules.clear()
            self.injected.clear()
            self.passed.clear()

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def decide(self, service: str, operation: str) -> Rule | None:
        with self.lock:
            for rule in self.rules:
                if rule.service == service and rule.operation == operation and rule.take():
                    self.injected.append(f"{service}:{operation}")
                    return rule
            self.passed.append(f"{service}:{operation}")
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks: list[bytes] = []
                    while True:
                        size = int(self.rfile.readline().strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _control(self, method: str, body: bytes) -> None:
                if self.path == "/_fault/rules" and method == "POST":
                    for rule in json.loads(body or b"{}").get("rules", []):
                        proxy.add(**rule)
                    self._reply(201, {"Content-Type": "application/json"}, b"{}")
                elif self.path == "/_fault/reset" and method == "POST":
                    proxy.reset()
                    self._reply(200, {"Content-Type": "application/json"}, b"{}")
                elif self.path == "/_fault/log":
                    with proxy.lock:
                        log = {"injected": list(proxy.injected), "passed": list(proxy.passed)}
                    self._reply(200, {"Content-Type": "application/json"},
                                json.dumps(log).encode())
                else:
                    self._reply(404, {"Content-Type": "application/json"}, b"{}")

            def _handle(self, method: str) -> None:
                body = self._read_body()
                if self.path.startswith("/_fault/"):
                    self._control(method, body)
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                service, operation, protocol = identify(method, self.path, headers, body)
                rule = proxy.decide(service, operation) if operation else None
                if rule is not None and rule.kind in {"drop", "lose-reply"}:
                    if rule.kind == "lose-reply":
                        self._forward(method, body, deliver=False)
                    self.close_connection = True
                    self.connection.close()
                    return
                if rule is not None:
                    code = rule.code or default_code(service, rule.status)
                    extra, payload = render_error(protocol, rule.status, code)
                    self._reply(rule.status, extra, payload)
                    return
                self._forward(method, body)

            def _forward(self, method: str, body: bytes, *, deliver: bool = True) -> None:
                upstream = http.client.HTTPConnection(*proxy.upstream, timeout=120)
                try:
                    headers = {k: v for k, v in self.headers.items()
                               if k.lower() not in _HOP_BY_HOP}
                    headers["Content-Length"] = str(len(body))
                    upstream.request(method, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    payload = response.read()
                    if not deliver:
                        return
                    # send_response() writes its own Server and Date headers.
                    passed = {k: v for k, v in response.getheaders()
                              if k.lower() not in _HOP_BY_HOP | {"server", "date"}}
                    self._reply(response.status, passed, payload)
                finally:
                    upstream.close()

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PUT(self) -> None:
                self._handle("PUT")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

            def do_PATCH(self) -> None:
                self._handle("PATCH")

            def do_HEAD(self) -> None:
                self._handle("HEAD")

        return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="the moto server's URL")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    proxy = FaultProxy(args.upstream, port=args.port)
    print(json.dumps({"url": proxy.url}), flush=True)
    try:
        proxy.server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
