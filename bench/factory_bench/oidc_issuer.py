"""A local stand-in for GitHub's OIDC issuer and the runner's token endpoint.

It mints RS256 tokens with GitHub's claim set (``iss`` is GitHub's real issuer URL, so trust
policies written for production work unchanged on the bench) and serves them the way the runner
does: ``GET <ACTIONS_ID_TOKEN_REQUEST_URL>&audience=X`` with ``Authorization: bearer <request
token>`` answers ``{"value": "<jwt>"}``.

The run context (repository, ref, event, environment...) travels in the request URL's ``ctx``
parameter, set per workflow run by the bench, since one issuer serves many runs. A context with
``sub_claim_keys`` (the repository's OIDC subject template, GitHub's ``include_claim_keys``) gets
a customized ``sub``; without it, GitHub's default template ``["repo", "context"]`` applies.

A context with ``gate`` (a file path) stands in for a deployment protection rule on the job's
environment: GitHub starts such a job, and so issues its token, only once the rule passes. The
token request waits (at most ``gate_seconds``, default 8, under the client's 10 s timeout) for the
file: ``open`` issues the token; any other text, or no file in time, answers 503 with the file's
text (or "still waiting") as the message, which the login action retries as transient. The local
run uses it to apply its Terraform while the first merge's CI job runs.

Run: ``python -m factory_bench.oidc_issuer [--port N]``; it prints one JSON line with its
URLs once listening.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from factory_bench.jwt import SigningKey, b64url, b64url_decode

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


DEFAULT_SUB_CLAIM_KEYS = ("repo", "context")


def _context_part(ref: str, event: str, environment: Any) -> str:
    # GitHub's `context`: the environment if the job has one, `pull_request` for a pull request
    # without one, else the ref.
    if environment:
        return f"environment:{environment}"
    if event in {"pull_request", "pull_request_target"}:
        return "pull_request"
    return f"ref:{ref}"


def subject(
    claims: dict[str, Any],
    keys: list[str] | tuple[str, ...],
    context: str,
    *,
    immutable: bool = False,
) -> str:
    """``sub`` for a subject template, as GitHub builds it: each key as ``key:value``, joined by
    ``:`` in the template's order; ``repo`` is ``repo:<owner>/<name>`` and ``context`` is the bare
    context (``environment:<name>``, ``pull_request`` or ``ref:<ref>``). For example
    ``["repo", "context", "job_workflow_ref"]`` gives
    ``repo:o/r:environment:prod:job_workflow_ref:o/w/.github/workflows/d.yml@refs/heads/main``.
    ``immutable`` (ctx ``immutable_subjects``) gives ``repo`` GitHub's immutable form
    ``repo:<owner>@<owner-id>/<name>@<repository-id>``."""
    parts: list[str] = []
    for key in keys:
        if key == "context":
            parts.append(context)
        elif key == "repo" and immutable:
            # GitHub's immutable subject format: `<owner>@<owner-id>/<name>@<repository-id>`.
            owner, name = str(claims["repository"]).split("/", maxsplit=1)
            parts.append(
                f"repo:{owner}@{claims['repository_owner_id']}/{name}@{claims['repository_id']}"
            )
        elif key == "repo":
            parts.append(f"repo:{claims['repository']}")
        elif key in claims and key != "sub":
            parts.append(f"{key}:{claims[key]}")
        else:
            raise ValueError(f"subject template key {key!r} is not a claim of this token")
    return ":".join(parts)


def github_claims(ctx: dict[str, Any], audience: str, *, now: int | None = None) -> dict[str, Any]:
    """The claims GitHub puts in a job's token, derived from the run context like GitHub does."""
    issued = int(time.time()) if now is None else now
    repository = str(ctx.get("repository", "hoopstat-haus/demo-app"))
    owner = repository.split("/", maxsplit=1)[0]
    ref = str(ctx.get("ref", "refs/heads/main"))
    event = str(ctx.get("event_name", "push"))
    environment = ctx.get("environment")
    workflow_path = str(ctx.get("workflow_path", ".github/workflows/deploy.yml"))
    workflow_ref = f"{repository}/{workflow_path}@{ref}"
    claims: dict[str, Any] = {
        "jti": secrets.token_hex(16),
        "sub": "",
        "aud": audience,
        "ref": ref,
        "sha": str(ctx.get("sha", "0" * 40)),
        "repository": repository,
        "repository_id": str(ctx.get("repository_id", "100000001")),
        "repository_owner": owner,
        "repository_owner_id": str(ctx.get("repository_owner_id", "100000000")),
        "repository_visibility": "private",
        "run_id": str(ctx.get("run_id", "1")),
        "run_number": str(ctx.get("run_number", "1")),
        "run_attempt": str(ctx.get("run_attempt", "1")),
        "actor": str(ctx.get("actor", "bench-user")),
        "workflow": str(ctx.get("workflow", "deploy")),
        "event_name": event,
        "ref_type": "tag" if ref.startswith("refs/tags/") else "branch",
        "workflow_ref": workflow_ref,
        "job_workflow_ref": str(ctx.get("job_workflow_ref", workflow_ref)),
        "runner_environment": "github-hosted",
        "iss": GITHUB_ISSUER,
        "nbf": issued - 5,
        "iat": issued,
        "exp": issued + int(ctx.get("ttl", 300)),
    }
    if environment:
        claims["environment"] = str(environment)
    keys = ctx.get("sub_claim_keys") or DEFAULT_SUB_CLAIM_KEYS
    claims["sub"] = subject(
        claims,
        [str(k) for k in keys],
        _context_part(ref, event, environment),
        immutable=bool(ctx.get("immutable_subjects", False)),
    )
    return claims


GATE_OPEN = "open"
GATE_SECONDS = 8.0


GATE_SUFFIX = ".gate"


def wait_for_gate(path: str, seconds: float) -> str:
    """``open`` once the gate file says so; its other text (why it will not open, at most 400
    characters), or a still-waiting message after ``seconds``. Only a ``*.gate`` file is read:
    the path comes from the token URL, which every step of an act run can see, so the issuer
    must not echo any other file."""
    if not path.endswith(GATE_SUFFIX):
        return f"refused gate {path[:80]!r}: a gate is a file named *{GATE_SUFFIX}"
    deadline = time.monotonic() + seconds
    while True:
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read(400).strip() or "gate file is empty"
        except FileNotFoundError:
            if time.monotonic() >= deadline:
                return f"still waiting for the environment's protection rule (gate {path})"
            time.sleep(0.05)


def encode_ctx(ctx: dict[str, Any]) -> str:
    return b64url(json.dumps(ctx, sort_keys=True).encode())


class Issuer:
    def __init__(self, *, port: int = 0, request_token: str | None = None) -> None:
        self.key = SigningKey()
        self.request_token = request_token or secrets.token_urlsafe(24)
        self._failures: dict[str, int] = {}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.jwk()]}

    def _should_fail(self, ctx_text: str, ctx: dict[str, Any]) -> bool:
        # ctx {"fail_first": N}: the first N requests for this context answer 503, so the
        # action's retry of transient token-endpoint failures can be tested end to end.
        budget = int(ctx.get("fail_first", 0))
        with self._lock:
            seen = self._failures.get(ctx_text, 0)
            self._failures[ctx_text] = seen + 1
        return seen < budget

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                parsed = urllib.parse.urlparse(self.path)
                query = urllib.parse.parse_qs(parsed.query)
                if parsed.path == "/.well-known/openid-configuration":
                    self._json(
                        200,
                        {
                            "issuer": GITHUB_ISSUER,
                            "jwks_uri": f"{issuer.url}/.well-known/jwks",
                            "id_token_signing_alg_values_supported": ["RS256"],
                            "subject_types_supported": ["public", "pairwise"],
                        },
                    )
                elif parsed.path == "/.well-known/jwks":
                    self._json(200, issuer.jwks())
                elif parsed.path == "/_apis/token":
                    auth = self.headers.get("Authorization", "")
                    if auth.lower() != f"bearer {issuer.request_token}".lower():
                        self._json(401, {"message": "bad request token"})
                        return
                    ctx_text = query.get("ctx", [""])[0]
                    try:
                        ctx = json.loads(b64url_decode(ctx_text)) if ctx_text else {}
                    except ValueError:
                        self._json(400, {"message": "ctx is not base64url JSON"})
                        return
                    if issuer._should_fail(ctx_text, ctx):
                        self._json(503, {"message": "injected transient failure"})
                        return
                    if ctx.get("gate"):
                        state = wait_for_gate(str(ctx["gate"]),
                                              float(ctx.get("gate_seconds", GATE_SECONDS)))
                        if state != GATE_OPEN:
                            self._json(503, {"message": state})
                            return
                    owner = str(ctx.get("repository", "hoopstat-haus/x")).split("/")[0]
                    # GitHub's default audience is the owner's URL when none is asked for.
                    audience = query.get("audience", [f"https://github.com/{owner}"])[0]
                    try:
                        claims = github_claims(ctx, audience)
                    except ValueError as exc:
                        self._json(400, {"message": str(exc)})
                        return
                    token = issuer.key.sign(claims)
                    self._json(200, {"count": len(token), "value": token})
                else:
                    self._json(404, {"message": "not found"})

        return Handler

    def token_request_url(self, ctx: dict[str, Any]) -> str:
        return f"{self.url}/_apis/token?api-version=2.0&ctx={encode_ctx(ctx)}"

    def serve_forever(self) -> None:
        self.server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--request-token", default=None)
    args = parser.parse_args(argv)
    issuer = Issuer(port=args.port, request_token=args.request_token)
    ready = {
        "url": issuer.url,
        "jwks_url": f"{issuer.url}/.well-known/jwks",
        "request_token": issuer.request_token,
    }
    print(json.dumps(ready), flush=True)
    try:
        issuer.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
