"""moto in server mode on 127.0.0.1, with the bench's documented extensions.

Extensions (each closes a gap between moto and AWS that the suite's behaviour depends on):

* **Lambda without Docker** — set before any function exists (moto's Docker mode needs an engine).
* **STS web-identity enforcement** — moto accepts any token for AssumeRoleWithWebIdentity. Here the
  token must be signed by a key of a configured issuer (``--jwks ISSUER=JWKS_URL``), the account
  must hold an IAM OIDC provider for that issuer whose client IDs include the token's ``aud``, the
  role must exist and its trust policy must allow the token's claims
  (:mod:`factory_bench.trust`), and ``DurationSeconds`` may not exceed the role's
  ``MaxSessionDuration``. The errors are the ones AWS returns.

Run: ``python -m factory_bench.moto_server --jwks ISSUER=URL [--port N]``; it prints one
JSON line ``{"url": ...}`` once listening.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import urllib.request
from pathlib import Path
from typing import Any

from factory_bench import jwt, trust

_jwks_cache: dict[str, dict[str, Any]] = {}


def _jwks_for(issuer: str, sources: dict[str, str]) -> dict[str, Any] | None:
    url = sources.get(issuer.rstrip("/"))
    if url is None:
        return None
    if url not in _jwks_cache:
        with urllib.request.urlopen(url, timeout=5) as response:
            _jwks_cache[url] = json.loads(response.read())
    return _jwks_cache[url]


def enforce_web_identity(
    *, role_arn: str, token: str, duration: int, sources: dict[str, str]
) -> None:
    """Raise :class:`trust.Denied` wherever AWS would refuse this AssumeRoleWithWebIdentity."""
    from moto.iam.models import iam_backends

    try:
        issuer = str(jwt.unverified_claims(token).get("iss", "")).rstrip("/")
    except jwt.TokenInvalid as exc:
        raise trust.Denied("InvalidIdentityToken", f"Token is invalid: {exc}") from exc
    jwks = _jwks_for(issuer, sources)
    if jwks is None:
        raise trust.Denied("InvalidIdentityToken", f"No OpenIDConnect provider for issuer {issuer}")
    try:
        claims = jwt.verify(token, jwks)
    except jwt.TokenInvalid as exc:
        code = "ExpiredTokenException" if exc.expired else "InvalidIdentityToken"
        raise trust.Denied(code, f"Token is invalid: {exc}") from exc

    parts = role_arn.split(":")
    if len(parts) < 6 or not parts[5].startswith("role/"):
        raise trust.Denied("ValidationError", f"{role_arn} is not a role ARN")
    account, partition = parts[4], parts[1]
    iam = iam_backends[account][partition]
    host = issuer.removeprefix("https://").removeprefix("http://")
    provider_arn = f"arn:{partition}:iam::{account}:oidc-provider/{host}"
    provider = iam.open_id_providers.get(provider_arn)
    if provider is None:
        raise trust.Denied(
            "InvalidIdentityToken",
            f"No OpenIDConnect provider found in your account for {issuer}",
        )
    if str(claims.get("aud")) not in provider.client_id_list:
        raise trust.Denied("InvalidIdentityToken", "Incorrect token audience")
    role_name = parts[5].split("/")[-1]
    role = next((r for r in iam.roles.values() if r.name == role_name), None)
    if role is None:
        raise trust.Denied(
            "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"
        )
    trust.evaluate(role.assume_role_policy_document, provider_arn, host, claims)
    maximum = int(role.max_session_duration or 3600)
    if duration > maximum:
        raise trust.Denied(
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        )


def install_extensions(sources: dict[str, str]) -> None:
    """Install every extension: the ones here, then each ``moto_ext_*`` module's ``install()``."""
    _install_core(sources)
    package = Path(__file__).parent
    for path in sorted(package.glob("moto_ext_*.py")):
        module = importlib.import_module(f"factory_bench.{path.stem}")
        module.install()


def _install_core(sources: dict[str, str]) -> None:
    from moto.core import config as moto_config
    from moto.sts.exceptions import STSClientError
    from moto.sts.responses import TokenResponse

    moto_config.default_user_config["lambda"] = {"use_docker": False}
    original = TokenResponse.assume_role_with_web_identity

    def assume_role_with_web_identity(self: Any) -> Any:
        try:
            enforce_web_identity(
                role_arn=str(self._get_param("RoleArn") or ""),
                token=str(self._get_param("WebIdentityToken") or ""),
                duration=int(self._get_int_param("DurationSeconds", 3600)),
                sources=sources,
            )
        except trust.Denied as denied:
            raise STSClientError(denied.code, denied.message) from denied
        return original(self)

    TokenResponse.assume_role_with_web_identity = assume_role_with_web_identity  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--jwks",
        action="append",
        default=[],
        metavar="ISSUER=URL",
        help="trust tokens from ISSUER signed by a key at URL (repeatable)",
    )
    parser.add_argument("--images-dir", type=Path, default=None,
                        help="unpack images for the local invoke hook here (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.images_dir:
        os.environ["HOOPSTAT_BENCH_IMAGES_DIR"] = str(args.images_dir)
    sources = dict(item.split("=", 1) for item in args.jwks)
    sources = {k.rstrip("/"): v for k, v in sources.items()}
    install_extensions(sources)

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    # Read by extensions that start processes which must call back into this server.
    os.environ["HOOPSTAT_BENCH_MOTO_URL"] = f"http://127.0.0.1:{server.server_port}"
    print(json.dumps({"url": f"http://127.0.0.1:{server.server_port}"}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
