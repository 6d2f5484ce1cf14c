"""RS256 JSON Web Tokens for the bench's OIDC issuer and its verifier inside moto.

Only what the bench needs: sign with an RSA key, publish the public key as a JWK, verify a token
against a JWK set. Built on ``cryptography``'s primitives.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_b64(number: int) -> str:
    return b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


class SigningKey:
    def __init__(self, kid: str = "hoopstat-bench-1") -> None:
        self.kid = kid
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, str]:
        numbers = self._key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": self.kid,
            "n": _int_b64(numbers.n),
            "e": _int_b64(numbers.e),
        }

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = (
            b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + b64url(json.dumps(claims, separators=(",", ":")).encode())
        )
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(signature)


class TokenInvalid(Exception):
    """The token is malformed, unsigned by a known key, or expired (``expired`` says which)."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def verify(token: str, jwks: dict[str, Any], *, now: float | None = None) -> dict[str, Any]:
    """Verify an RS256 token against a JWK set; return its claims."""
    try:
        head_b64, body_b64, sig_b64 = token.split(".")
        header = json.loads(b64url_decode(head_b64))
        claims = json.loads(b64url_decode(body_b64))
        signature = b64url_decode(sig_b64)
    except ValueError as exc:
        raise TokenInvalid("token is not a JWS compact serialization") from exc
    if header.get("alg") != "RS256":
        raise TokenInvalid(f"unsupported alg {header.get('alg')!r}")
    keys = [k for k in jwks.get("keys", []) if k.get("kid") == header.get("kid")]
    if not keys:
        raise TokenInvalid("no key in the issuer's JWKS matches the token's kid")
    key = keys[0]
    public = rsa.RSAPublicNumbers(
        int.from_bytes(b64url_decode(key["e"]), "big"),
        int.from_bytes(b64url_decode(key["n"]), "big"),
    ).public_key()
    try:
        public.verify(
            signature, f"{head_b64}.{body_b64}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature as exc:
        raise TokenInvalid("signature does not verify") from exc
    moment = time.time() if now is None else now
    if float(claims.get("exp", 0)) < moment:
        raise TokenInvalid("token has expired", expired=True)
    if float(claims.get("nbf", 0)) > moment + 60:
        raise TokenInvalid("token is not valid yet")
    if not isinstance(claims, dict):
        raise TokenInvalid("claims are not an object")
    return claims


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims, unverified: only to find which issuer's keys to verify with."""
    try:
        claims = json.loads(b64url_decode(token.split(".")[1]))
    except (IndexError, ValueError) as exc:
        raise TokenInvalid("token is not a JWS compact serialization") from exc
    if not isinstance(claims, dict):
        raise TokenInvalid("claims are not an object")
    return claims
