"""GitHub's OIDC token: requesting it from the runner, and reading its claims for diagnostics."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from action_scripts.errors import FactoryError

GITHUB_ISSUER_HOST = "token.actions.githubusercontent.com"

PERMISSIONS_FIX = """Grant the job permission to request an OIDC token:

```yaml
permissions:
  id-token: write   # Needed to request the OIDC token that oidc-login exchanges for AWS credentials
  contents: read    # Needed to check out the repository
```

A reusable workflow also needs the grant in the **caller's** job. Pull requests from **forks** never
get an OIDC token (GitHub withholds `id-token: write` from them): run AWS steps only on `push`, or
on `pull_request_target` with care, never on fork PR code."""


class TokenRequestError(Exception):
    """The runner's token endpoint refused or failed; ``transient`` says whether to retry."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def token_request_settings(environ: dict[str, str]) -> tuple[str, str]:
    url = environ.get("ACTIONS_ID_TOKEN_REQUEST_URL", "")
    token = environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")
    if not url or not token:
        raise FactoryError(
            "The runner offers no OIDC token to this job: ACTIONS_ID_TOKEN_REQUEST_URL is not set.",
            title="OIDC token unavailable (missing id-token: write)",
            fix=PERMISSIONS_FIX,
            reason="id-token-unavailable",
        )
    return url, token


def request_token(url: str, request_token: str, audience: str, *, timeout: float = 10) -> str:
    """Fetch an ID token the way the runner's toolkit does: GET url&audience=..., bearer auth."""
    joiner = "&" if "?" in url else "?"
    full = f"{url}{joiner}audience={urllib.parse.quote(audience, safe='')}"
    if not full.startswith(("https://", "http://")):
        raise TokenRequestError(f"token URL is not http(s): {url[:40]}", transient=False)
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        full,
        headers={"Authorization": f"bearer {request_token}", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise TokenRequestError(
            f"token endpoint answered HTTP {exc.code}", transient=exc.code >= 500 or exc.code == 429
        ) from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise TokenRequestError(f"token endpoint unreachable: {exc}", transient=True) from exc
    except json.JSONDecodeError as exc:
        raise TokenRequestError("token endpoint sent no JSON", transient=True) from exc
    value = body.get("value") if isinstance(body, dict) else None
    if not isinstance(value, str) or value.count(".") != 2:
        raise TokenRequestError("token endpoint sent no token in 'value'", transient=False)
    return value


def decode_claims(token: str) -> dict[str, Any]:
    """The token's payload, unverified: for showing the user, never for deciding anything."""
    try:
        payload = token.split(".")[1]
        padded = payload + "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


SHOWN_CLAIMS = (
    "sub",
    "aud",
    "iss",
    "repository",
    "ref",
    "environment",
    "event_name",
    "job_workflow_ref",
    "workflow_ref",
)


def claims_table(claims: dict[str, Any]) -> str:
    rows = ["| claim | value |", "| --- | --- |"]
    for key in SHOWN_CLAIMS:
        if key in claims:
            value = str(claims[key]).replace("|", "\\|")
            rows.append(f"| `{key}` | `{value}` |")
    return "\n".join(rows)


def trust_condition(claims: dict[str, Any], *, audience: str) -> dict[str, Any]:
    """The trust-policy condition that would accept exactly this token."""
    host = str(claims.get("iss", f"https://{GITHUB_ISSUER_HOST}")).removeprefix("https://")
    host = host.removeprefix("http://").rstrip("/")
    return {
        "StringEquals": {f"{host}:aud": audience},
        "StringLike": {
            f"{host}:sub": str(claims.get("sub", "repo:OWNER/REPO:ref:refs/heads/main"))
        },
    }


def sub_hints(claims: dict[str, Any]) -> list[str]:
    """Common reasons a trust policy's ``sub`` pattern misses a token."""
    hints: list[str] = []
    sub = str(claims.get("sub", ""))
    repo = str(claims.get("repository", "OWNER/REPO"))
    if claims.get("environment"):
        hints.append(
            f"This job runs in environment `{claims['environment']}`, so `sub` is "
            f"`repo:{repo}:environment:{claims['environment']}`, not the `ref:` form: a trust "
            "policy pinned to `ref:refs/heads/main` will not match it."
        )
    if sub.endswith(":pull_request"):
        hints.append("Pull-request runs carry `sub` = `repo:OWNER/REPO:pull_request`.")
    if claims.get("job_workflow_ref") and claims.get("workflow_ref") != claims.get(
        "job_workflow_ref"
    ):
        hints.append(
            "The job runs in a reusable workflow; `sub` still names the **caller's** repository. "
            "Pin `job_workflow_ref` in the trust policy if only that workflow may deploy."
        )
    return hints
