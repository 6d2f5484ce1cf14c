"""The few error types an app needs to tell apart; messages never contain a secret's value."""

from __future__ import annotations


class HoopstatRuntimeError(Exception):
    """Base of every error this library raises."""


class ConfigurationError(HoopstatRuntimeError):
    """The app's environment is wrong (missing bucket, local secrets enabled inside Lambda…)."""


class SecretError(HoopstatRuntimeError):
    """A secret could not be provided; ``name`` says which."""

    def __init__(self, message: str, *, name: str) -> None:
        super().__init__(message)
        self.name = name


class SecretNotFoundError(SecretError):
    """No such secret (or no value at the requested stage)."""


class SecretAccessDeniedError(SecretError):
    """The app's role may not read or decrypt the secret."""


class SecretFormatError(SecretError):
    """The secret's value is not in the expected shape (for example not a JSON object)."""


class SecretUnavailableError(SecretError):
    """Secrets Manager could not answer (throttled or down after the SDK's own retries)."""


class SecretRejectedError(HoopstatRuntimeError):
    """Raised by app code when the party the secret is for refuses it (HTTP 401/403, bad login).

    :func:`hoopstat_runtime.secrets.Secrets.call_with_secret` catches it, fetches the secret
    again and retries once: that is how a rotated credential is picked up with no failed request.
    """


class StorageError(HoopstatRuntimeError):
    """An S3 read or write failed."""


class ObjectNotFoundError(StorageError):
    """No object at the requested key."""


class ChecksumMismatchError(StorageError):
    """The bytes read do not match the checksum stored with the object."""


class InvalidKeyError(HoopstatRuntimeError, ValueError):
    """A key segment does not follow the S3 layout (docs/adr/0003, "S3 layout")."""
