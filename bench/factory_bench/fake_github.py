"""FAKE of GitHub's REST API: the small subset the suite calls through PyGithub.

No real stand-in for api.github.com runs offline, so this one is a fake, and named so. It keeps
everything in memory and serves, for any ``owner/repo``:

* ``GET /repos/{o}/{r}``
* deployments: ``POST/GET /repos/{o}/{r}/deployments``, ``GET .../deployments/{id}``,
  ``POST/GET .../deployments/{id}/statuses``
* issue comments: ``GET/POST /repos/{o}/{r}/issues/{n}/comments``,
  ``GET/PATCH/DELETE /repos/{o}/{r}/issues/comments/{id}``; ``GET /repos/{o}/{r}/issues/{n}``
* pulls: ``GET /repos/{o}/{r}/pulls/{n}``, ``GET /repos/{o}/{r}/commits/{sha}`` and
  ``GET /repos/{o}/{r}/commits/{sha}/pulls``
* the OIDC subject claim template: ``GET/PUT /repos/{o}/{r}/actions/oidc/customization/sub``
* ``GET /user``: the token's account; for the workflow token (``github-actions[bot]``) it
  answers 403 "Resource not accessible by integration", as GitHub does for ``GITHUB_TOKEN``
* test control: ``POST /_fake/pulls`` (seed a pull request), ``POST /_fake/tokens`` (another
  account's token: ``{"token", "login", "type", "id"}``), ``GET /_fake/state`` (everything)

Requests must carry ``Authorization: token|bearer <token>`` of a known account. The token given
with ``--token`` (or generated) acts as ``github-actions[bot]`` (id 41898282, type Bot), the
account GitHub shows for ``GITHUB_TOKEN`` writes; comments record the author of their token.
An edit always moves a comment's ``updated_at`` at least one second past ``created_at`` (GitHub
keeps second resolution, so a real edit within the creation second could leave them equal).
Run: ``python -m factory_bench.fake_github [--port N] [--token T]``; prints
``{"url": ..., "token": ...}`` once listening.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import secrets
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

COMMENT_LIMIT = 65536  # GitHub rejects longer comment bodies with 422
ACTIONS_BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}
STAMP = "%Y-%m-%dT%H:%M:%SZ"
# The claim names GitHub accepts in a subject template (docs: "About security hardening with
# OpenID Connect", customizing the token claims).
OIDC_CLAIMS = frozenset({
    "actor", "actor_id", "base_ref", "context", "environment", "event_name", "head_ref",
    "job_workflow_ref", "job_workflow_sha", "ref", "ref_protected", "ref_type", "repo",
    "repository", "repository_id", "repository_owner", "repository_owner_id",
    "repository_visibility", "run_attempt", "runner_environment", "workflow", "workflow_ref",
    "workflow_sha", "enterprise", "enterprise_id", "check_run_id",
})


def _now() -> str:
    return datetime.now(UTC).strftime(STAMP)


def _later(stamp: str) -> str:
    """Now, but at least one second after ``stamp`` (an edit must be visible as one)."""
    now = datetime.now(UTC).replace(microsecond=0)
    floor = datetime.strptime(stamp, STAMP).replace(tzinfo=UTC) + timedelta(seconds=1)
    return max(now, floor).strftime(STAMP)


class State:
    def __init__(self, base: str) -> None:
        self.base = base
        self.ids = itertools.count(1000)
        self.lock = threading.Lock()
        self.deployments: dict[str, list[dict[str, Any]]] = {}
        self.statuses: dict[int, list[dict[str, Any]]] = {}
        self.comments: dict[str, dict[int, list[dict[str, Any]]]] = {}
        self.pulls: dict[str, dict[int, dict[str, Any]]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}  # token -> user
        self.oidc_sub: dict[str, dict[str, Any]] = {}  # repo -> subject claim template

    def repo_url(self, repo: str) -> str:
        return f"{self.base}/repos/{repo}"

    def repo(self, repo: str) -> dict[str, Any]:
        owner, name = repo.split("/")
        return {
            "id": abs(hash(repo)) % 10**8,
            "name": name,
            "full_name": repo,
            "owner": {"login": owner, "id": 1, "type": "Organization"},
            "url": self.repo_url(repo),
            "html_url": f"https://github.com/{repo}",
            "private": True,
            "default_branch": "main",
        }

    def issue(self, repo: str, number: int) -> dict[str, Any]:
        url = f"{self.repo_url(repo)}/issues/{number}"
        return {
            "id": number,
            "number": number,
            "url": url,
            "comments_url": f"{url}/comments",
            "html_url": f"https://github.com/{repo}/issues/{number}",
            "title": f"Issue {number}",
            "state": "open",
            "user": {"login": "bench-user", "id": 2},
        }

    def pull(self, repo: str, number: int) -> dict[str, Any] | None:
        seeded = self.pulls.get(repo, {}).get(number)
        if seeded is None:
            return None
        url = f"{self.repo_url(repo)}/pulls/{number}"
        return {
            "id": number,
            "number": number,
            "url": url,
            "issue_url": f"{self.repo_url(repo)}/issues/{number}",
            "html_url": f"https://github.com/{repo}/pull/{number}",
            "state": seeded["state"],
            "title": seeded.get("title", f"PR {number}"),
            "head": {"sha": seeded["head_sha"], "ref": seeded.get("head_ref", "feature")},
            "base": {"ref": seeded.get("base_ref", "main"), "sha": "0" * 40},
            "merge_commit_sha": seeded.get("merge_commit_sha"),
            "merged": seeded.get("merged", seeded["state"] == "closed"),
            "user": {"login": "bench-user", "id": 2},
        }

    def comment(self, repo: str, body: str, author: dict[str, Any]) -> dict[str, Any]:
        cid = next(self.ids)
        url = f"{self.repo_url(repo)}/issues/comments/{cid}"
        created = _now()
        return {
            "id": cid,
            "node_id": f"IC_fake{cid}",
            "url": url,
            "html_url": f"https://github.com/{repo}#issuecomment-{cid}",
            "body": body,
            "user": dict(author),
            "created_at": created,
            "updated_at": created,
        }

    def snapshot(self) -> dict[str, Any]:
        return {
            "deployments": self.deployments,
            "statuses": {str(k): v for k, v in self.statuses.items()},
            "comments": {
                r: {str(n): c for n, c in per.items()} for r, per in self.comments.items()
            },
            "pulls": {r: {str(n): p for n, p in per.items()} for r, per in self.pulls.items()},
            "oidc_sub": self.oidc_sub,
        }


REPO = r"/repos/(?P<repo>[^/]+/[^/]+)"


class FakeGitHub:
    def __init__(self, *, port: int = 0, token: str | None = None) -> None:
        self.token = token or secrets.token_urlsafe(16)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.state = State(self.url)
        self.state.accounts[self.token] = dict(ACTIONS_BOT)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _send(self, status: int, body: Any) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                parsed = json.loads(raw or b"{}")
                return parsed if isinstance(parsed, dict) else {}

            def _account(self) -> dict[str, Any] | None:
                auth = self.headers.get("Authorization", "")
                scheme, _, value = auth.partition(" ")
                if scheme.lower() not in {"token", "bearer"}:
                    return None
                return fake.state.accounts.get(value)

            def _route(self, method: str) -> None:
                path = self.path.split("?")[0].rstrip("/")
                if path == "/_fake/state" and method == "GET":
                    with fake.state.lock:
                        self._send(200, fake.state.snapshot())
                    return
                account = self._account()
                if account is None:
                    self._send(401, {"message": "Bad credentials"})
                    return
                state = fake.state
                with state.lock:
                    self._dispatch(method, path, state, account)

            def _oidc_sub(self, method: str, repo: str, state: State) -> None:
                if method == "GET":
                    self._send(200, state.oidc_sub.get(repo, {"use_default": True}))
                    return
                body = self._body()
                use_default = body.get("use_default")
                keys = body.get("include_claim_keys")
                if not isinstance(use_default, bool):
                    self._send(422, {"message": "use_default is required (boolean)"})
                    return
                if not use_default and (not isinstance(keys, list) or not keys or any(
                        not isinstance(k, str) or k not in OIDC_CLAIMS for k in keys)):
                    self._send(422, {"message": "include_claim_keys must list known claims"})
                    return
                state.oidc_sub[repo] = ({"use_default": True} if use_default else
                                        {"use_default": False, "include_claim_keys": keys})
                self._send(201, {})

            def _dispatch(
                self, method: str, path: str, state: State, account: dict[str, Any]
            ) -> None:
                if path == "/user" and method == "GET":
                    if account.get("type") == "Bot":
                        self._send(403, {
                            "message": "Resource not accessible by integration",
                            "documentation_url": "https://docs.github.com/rest/users/users"
                            "#get-the-authenticated-user", "status": "403"})
                    else:
                        self._send(200, account)
                    return
                if path == "/_fake/tokens" and method == "POST":
                    body = self._body()
                    state.accounts[str(body["token"])] = {
                        "login": str(body["login"]), "id": int(body.get("id", 5000)),
                        "type": str(body.get("type", "User"))}
                    self._send(201, state.accounts[str(body["token"])])
                    return
                oidc = re.fullmatch(REPO + r"/actions/oidc/customization/sub", path)
                if oidc and method in {"GET", "PUT"}:
                    self._oidc_sub(method, oidc["repo"], state)
                    return
                if path == "/_fake/pulls" and method == "POST":
                    body = self._body()
                    repo, number = str(body["repo"]), int(body["number"])
                    state.pulls.setdefault(repo, {})[number] = {
                        "state": body.get("state", "open"),
                        "head_sha": body.get("head_sha", "0" * 40),
                        "merge_commit_sha": body.get("merge_commit_sha"),
                        "merged": bool(body.get("merged", body.get("state") == "closed")),
                        "head_ref": body.get("head_ref", "feature"),
                        "base_ref": body.get("base_ref", "main"),
                    }
                    self._send(201, state.pull(repo, number))
                    return
                if m := re.fullmatch(REPO, path):
                    self._send(200, state.repo(m["repo"]))
                    return
                if m := re.fullmatch(REPO + r"/deployments", path):
                    repo = m["repo"]
                    if method == "POST":
                        body = self._body()
                        did = next(state.ids)
                        url = f"{state.repo_url(repo)}/deployments/{did}"
                        record = {
                            "id": did,
                            "url": url,
                            "statuses_url": f"{url}/statuses",
                            "ref": body.get("ref", "main"),
                            "sha": body.get("ref", ""),
                            "task": body.get("task", "deploy"),
                            "environment": body.get("environment", "production"),
                            "description": body.get("description"),
                            "payload": body.get("payload", {}),
                            "transient_environment": body.get("transient_environment", False),
                            "production_environment": body.get("production_environment", True),
                            "creator": {"login": "github-actions[bot]", "id": 41898282},
                            "created_at": _now(),
                            "updated_at": _now(),
                        }
                        state.deployments.setdefault(repo, []).append(record)
                        self._send(201, record)
                    else:
                        self._send(200, list(reversed(state.deployments.get(repo, []))))
                    return
                if m := re.fullmatch(REPO + r"/deployments/(?P<id>\d+)", path):
                    found = [
                        d for d in state.deployments.get(m["repo"], []) if d["id"] == int(m["id"])
                    ]
                    self._send(
                        200 if found else 404, found[0] if found else {"message": "Not Found"}
                    )
                    return
                if m := re.fullmatch(REPO + r"/deployments/(?P<id>\d+)/statuses", path):
                    did = int(m["id"])
                    if method == "POST":
                        body = self._body()
                        sid = next(state.ids)
                        status = {
                            "id": sid,
                            "url": f"{state.repo_url(m['repo'])}/deployments/{did}/statuses/{sid}",
                            "state": body.get("state"),
                            "description": body.get("description"),
                            "environment": body.get("environment"),
                            "environment_url": body.get("environment_url"),
                            "log_url": body.get("log_url"),
                            "target_url": body.get("target_url"),
                            "created_at": _now(),
                            "updated_at": _now(),
                            "creator": {"login": "github-actions[bot]", "id": 41898282},
                        }
                        state.statuses.setdefault(did, []).append(status)
                        self._send(201, status)
                    else:
                        self._send(200, list(reversed(state.statuses.get(did, []))))
                    return
                if m := re.fullmatch(REPO + r"/issues/(?P<n>\d+)", path):
                    self._send(200, state.issue(m["repo"], int(m["n"])))
                    return
                if m := re.fullmatch(REPO + r"/issues/(?P<n>\d+)/comments", path):
                    per = state.comments.setdefault(m["repo"], {}).setdefault(int(m["n"]), [])
                    if method == "POST":
                        text = str(self._body().get("body", ""))
                        if len(text) > COMMENT_LIMIT:
                            self._send(
                                422, {"message": "Body is too long (maximum is 65536 characters)"}
                            )
                            return
                        comment = state.comment(m["repo"], text, account)
                        comment["issue_url"] = f"{state.repo_url(m['repo'])}/issues/{m['n']}"
                        per.append(comment)
                        self._send(201, comment)
                    else:
                        self._send(200, per)
                    return
                if m := re.fullmatch(REPO + r"/issues/comments/(?P<id>\d+)", path):
                    cid = int(m["id"])
                    for per in state.comments.get(m["repo"], {}).values():
                        for index, comment in enumerate(per):
                            if comment["id"] != cid:
                                continue
                            if method == "PATCH":
                                text = str(self._body().get("body", ""))
                                if len(text) > COMMENT_LIMIT:
                                    self._send(422, {"message": "Body is too long"})
                                    return
                                comment["body"] = text
                                comment["updated_at"] = _later(comment["created_at"])
                            elif method == "DELETE":
                                del per[index]
                                self._send(204, None)
                                return
                            self._send(200, comment)
                            return
                    self._send(404, {"message": "Not Found"})
                    return
                if m := re.fullmatch(REPO + r"/pulls/(?P<n>\d+)", path):
                    pull = state.pull(m["repo"], int(m["n"]))
                    self._send(200 if pull else 404, pull or {"message": "Not Found"})
                    return
                if m := re.fullmatch(REPO + r"/commits/(?P<sha>[0-9a-f]{7,40})", path):
                    self._send(
                        200,
                        {
                            "sha": m["sha"],
                            "url": f"{state.repo_url(m['repo'])}/commits/{m['sha']}",
                            "commit": {"message": ""},
                        },
                    )
                    return
                if m := re.fullmatch(REPO + r"/commits/(?P<sha>[0-9a-f]{7,40})/pulls", path):
                    repo = m["repo"]
                    hits = [
                        state.pull(repo, n)
                        for n, p in state.pulls.get(repo, {}).items()
                        if m["sha"] in {p["head_sha"], p.get("merge_commit_sha")}
                    ]
                    self._send(200, [h for h in hits if h])
                    return
                self._send(
                    404, {"message": f"Not Found (fake GitHub does not serve {method} {path})"}
                )

            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

            def do_PATCH(self) -> None:
                self._route("PATCH")

            def do_DELETE(self) -> None:
                self._route("DELETE")

            def do_PUT(self) -> None:
                self._route("PUT")

        return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default=None)
    args = parser.parse_args(argv)
    fake = FakeGitHub(port=args.port, token=args.token)
    print(json.dumps({"url": fake.url, "token": fake.token}), flush=True)
    try:
        fake.server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
