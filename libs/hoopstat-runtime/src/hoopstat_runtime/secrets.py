"""``get_secret(name)``: one way for every app to read a secret.

Built on Powertools' :class:`~aws_lambda_powertools.utilities.parameters.SecretsProvider` (TTL
cache, ``force_fetch``). Added on top, and why (docs/adr/0003-secrets-management-strategy.md):

* **Refresh on rejection** — :meth:`Secrets.call_with_secret` retries once with a freshly fetched
  value (then the ``AWSPENDING`` one) when the app reports that the credential was refused, so a
  rotation never surfaces as a failed request, however long the cache TTL.
* **Typed errors** — Powertools wraps every failure in one ``GetParameterError``; apps need to
  tell "no such secret" from "not allowed" from "Secrets Manager is down".
* **Redaction** — every value handed out is registered with :data:`redaction.REDACTOR`, so the
  library's logger masks it.
* **Local source** — ``HOOPSTAT_LOCAL_SECRETS_FILE`` serves secrets from a JSON file for local
  development, and refuses to work inside Lambda so it can never shadow the real store.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

import botocore.exceptions
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.config import Config

from hoopstat_runtime.errors import (
    ConfigurationError,
    SecretAccessDeniedError,
    SecretError,
    SecretFormatError,
    SecretNotFoundError,
    SecretRejectedError,
    SecretUnavailableError,
)
from hoopstat_runtime.redaction import REDACTOR, Redactor

T = TypeVar("T")
SecretValue = str | dict[str, Any]

LOCAL_FILE_ENV = "HOOPSTAT_LOCAL_SECRETS_FILE"
MAX_AGE_ENV = "HOOPSTAT_SECRETS_MAX_AGE"
# Five minutes bounds how long a *non-rejected* old value lives on after a rotation; rejection
# triggers an immediate refresh regardless, so a longer TTL costs no availability.
DEFAULT_MAX_AGE_SECONDS = 300
# A credential that keeps being refused must not turn every request into a Secrets Manager call.
DEFAULT_REFRESH_COOLDOWN_SECONDS = 1.0
# Between a rotation's setSecret and finishSecret the new value is only AWSPENDING; serve it for
# a short while so the app works through that window, then AWSCURRENT takes over again.
PENDING_MAX_AGE_SECONDS = 60

_NOT_FOUND = frozenset({"ResourceNotFoundException"})
_DENIED = frozenset({
    "AccessDeniedException", "AccessDenied", "DecryptionFailure", "UnrecognizedClientException",
    "InvalidSignatureException", "ExpiredTokenException", "KMSAccessDeniedException",
})
_LAMBDA_MARKERS = ("AWS_LAMBDA_FUNCTION_NAME",)

log = logging.getLogger(__name__)


def running_in_lambda() -> bool:
    if any(os.environ.get(name) for name in _LAMBDA_MARKERS):
        return True
    return os.environ.get("AWS_EXECUTION_ENV", "").startswith("AWS_Lambda")


class LocalSecretsSource:
    """Secrets from a JSON file ``{"name": "value" | {...}}``, for local development only."""

    def __init__(self, path: Path) -> None:
        if running_in_lambda():
            raise ConfigurationError(
                f"{LOCAL_FILE_ENV} is set inside Lambda; local secrets are for development only. "
                "Remove the variable from the function's configuration so secrets come from "
                "Secrets Manager."
            )
        self.path = path

    def get(self, name: str) -> str:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigurationError(f"{LOCAL_FILE_ENV} points at {self.path}, which does not exist"
                                     ) from None
        except ValueError:
            # Not the parser's message: it quotes the text around the error, i.e. secrets.
            raise ConfigurationError(f"{self.path} is not valid JSON") from None
        if not isinstance(data, dict):
            raise ConfigurationError(f"{self.path} must hold a JSON object of name → value")
        if name not in data:
            raise SecretNotFoundError(f"secret {name!r} is not in {self.path}", name=name)
        value = data[name]
        return value if isinstance(value, str) else json.dumps(value)


class Secrets:
    """A secrets reader with a TTL cache; one per process is enough (see :func:`default`)."""

    def __init__(
        self,
        *,
        max_age: int = DEFAULT_MAX_AGE_SECONDS,
        provider: SecretsProvider | None = None,
        local: LocalSecretsSource | None = None,
        redactor: Redactor = REDACTOR,
        refresh_cooldown: float = DEFAULT_REFRESH_COOLDOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_age < 0:
            raise ConfigurationError("max_age must be 0 (no cache) or more seconds")
        self.max_age = max_age
        self._provider = provider
        self._local = local
        self._redactor = redactor
        self._cooldown = refresh_cooldown
        self._clock = clock
        self._last_refresh: dict[str, float] = {}
        self._lock = threading.Lock()
        self.fetches = 0  # calls that reached the store: lets tests and metrics see the cache work

    @classmethod
    def from_env(cls) -> Secrets:
        raw_age = os.environ.get(MAX_AGE_ENV, str(DEFAULT_MAX_AGE_SECONDS))
        if not raw_age.isdigit():
            raise ConfigurationError(f"{MAX_AGE_ENV} must be a whole number of seconds")
        local_file = os.environ.get(LOCAL_FILE_ENV)
        local = LocalSecretsSource(Path(local_file)) if local_file else None
        return cls(max_age=int(raw_age), local=local)

    @property
    def provider(self) -> SecretsProvider:
        # Created on first use, so importing the app needs no region or credentials.
        with self._lock:
            if self._provider is None:
                config = Config(retries={"mode": "standard", "max_attempts": 5})
                self._provider = SecretsProvider(boto_config=config)
            return self._provider

    @overload
    def get_secret(self, name: str, *, as_json: Literal[False] = ..., refresh: bool = ...) -> str:
        ...

    @overload
    def get_secret(
        self, name: str, *, as_json: Literal[True], refresh: bool = ...
    ) -> dict[str, Any]: ...

    def get_secret(self, name: str, *, as_json: bool = False, refresh: bool = False) -> SecretValue:
        """The secret's value: cached, ``as_json`` parses an object, ``refresh`` skips the cache."""
        text = self._current(name, force=refresh)
        return _parse(name, text) if as_json else text

    def call_with_secret(
        self,
        name: str,
        use: Callable[[Any], T],
        *,
        as_json: bool = False,
        rejected: tuple[type[BaseException], ...] = (SecretRejectedError,),
    ) -> T:
        """Return ``use(secret)``; if ``use`` raises one of ``rejected``, retry with a newer value.

        The newer value is AWSCURRENT fetched again (rotation finished since it was cached), else
        AWSPENDING (rotation between setSecret and finishSecret). When neither differs from the
        refused value the original error propagates: the credential really is bad.
        """
        stale = self._current(name, force=False)
        try:
            return use(_parse(name, stale) if as_json else stale)
        except rejected as refusal:
            for candidate, stage in self._newer_values(name, stale):
                try:
                    result = use(_parse(name, candidate) if as_json else candidate)
                except rejected:
                    continue
                log.info("secret %r was refused; a newer %s value worked", name, stage)
                if stage == "AWSPENDING" and self._local is None:
                    self.provider.add_to_cache(
                        key=self.provider._build_cache_key(name=name), value=candidate,
                        max_age=min(self.max_age, PENDING_MAX_AGE_SECONDS),
                    )
                return result
            raise refusal

    def _newer_values(self, name: str, stale: str) -> Iterator[tuple[str, str]]:
        """Values that might work where ``stale`` was refused, fetched lazily, best first."""
        cached = self._current(name, force=False)
        if cached != stale:  # another thread refreshed already
            yield cached, "AWSCURRENT"
            return
        now = self._clock()
        with self._lock:
            last = self._last_refresh.get(name)
            if last is not None and now - last < self._cooldown:
                return
            self._last_refresh[name] = now
        current = self._current(name, force=True)
        if current != stale:
            yield current, "AWSCURRENT"
        if self._local is None:
            pending = self._pending(name)
            if pending is not None and pending not in (stale, current):
                yield pending, "AWSPENDING"

    def _current(self, name: str, *, force: bool) -> str:
        if self._local is not None:
            self.fetches += 1
            value = self._local.get(name)
        else:
            provider = self.provider
            # Powertools' own key builder: its cache key shape has changed between releases.
            if force or not provider.has_not_expired_in_cache(provider._build_cache_key(name=name)):
                self.fetches += 1
            try:
                # Stage named explicitly: the default version can differ mid-rotation.
                raw = provider.get(name, max_age=self.max_age, force_fetch=force,
                                   VersionStage="AWSCURRENT")
            except GetParameterError as exc:
                raise _translate(exc, name) from exc.__context__
            value = _as_text(name, raw)
        self._redactor.register(value)
        return value

    def _pending(self, name: str) -> str | None:
        self.fetches += 1
        try:
            response = self.provider.client.get_secret_value(
                SecretId=name, VersionStage="AWSPENDING"
            )
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _NOT_FOUND:
                return None  # no rotation in progress
            raise _translate_code(code, name, str(exc)) from exc
        raw = response.get("SecretString", response.get("SecretBinary"))
        if raw is None:
            return None
        value = _as_text(name, raw)
        self._redactor.register(value)
        return value


def _as_text(name: str, raw: object) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bytes):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise SecretFormatError(f"secret {name!r} is binary, not UTF-8 text", name=name
                                    ) from None
    raise SecretFormatError(f"secret {name!r} has no value", name=name)


def _parse(name: str, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        # ``from None``: the decoder's message quotes the document, i.e. the secret.
        raise SecretFormatError(f"secret {name!r} is not JSON", name=name) from None
    if not isinstance(value, dict):
        raise SecretFormatError(f"secret {name!r} is JSON but not an object", name=name)
    return value


def _translate(exc: GetParameterError, name: str) -> SecretError:
    cause = exc.__context__
    if isinstance(cause, botocore.exceptions.ClientError):
        code = str(cause.response.get("Error", {}).get("Code", ""))
        return _translate_code(code, name, str(cause))
    return SecretUnavailableError(f"secret {name!r} could not be read: {exc}", name=name)


def _translate_code(code: str, name: str, detail: str) -> SecretError:
    if code in _NOT_FOUND:
        return SecretNotFoundError(f"secret {name!r} not found ({detail})", name=name)
    if code in _DENIED:
        return SecretAccessDeniedError(
            f"not allowed to read secret {name!r}: give the function's role "
            f"secretsmanager:GetSecretValue on it (and kms:Decrypt on its key) ({detail})",
            name=name,
        )
    return SecretUnavailableError(f"secret {name!r} could not be read ({detail})", name=name)


_default: Secrets | None = None
_default_lock = threading.Lock()


def default() -> Secrets:
    """The process-wide :class:`Secrets`, configured from the environment on first use."""
    global _default  # noqa: PLW0603 - one cache per Lambda execution environment is the point
    with _default_lock:
        if _default is None:
            _default = Secrets.from_env()
        return _default


def reset_default() -> None:
    """Forget the process-wide instance (tests; or after changing the environment)."""
    global _default  # noqa: PLW0603
    with _default_lock:
        _default = None


@overload
def get_secret(name: str, *, as_json: Literal[False] = ...) -> str: ...


@overload
def get_secret(name: str, *, as_json: Literal[True]) -> dict[str, Any]: ...


def get_secret(name: str, *, as_json: bool = False) -> SecretValue:
    """Read a secret through the process-wide :class:`Secrets` (cached, refreshed on TTL)."""
    if as_json:
        return default().get_secret(name, as_json=True)
    return default().get_secret(name)


def call_with_secret(
    name: str,
    use: Callable[[Any], T],
    *,
    as_json: bool = False,
    rejected: tuple[type[BaseException], ...] = (SecretRejectedError,),
) -> T:
    """:meth:`Secrets.call_with_secret` on the process-wide instance."""
    return default().call_with_secret(name, use, as_json=as_json, rejected=rejected)
