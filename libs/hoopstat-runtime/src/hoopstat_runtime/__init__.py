"""What runs inside a Hoopstat Haus app: secrets, S3 data access, logs/metrics/traces.

Built on Powertools for AWS Lambda (Python); see docs/adr/0003-secrets-management-strategy.md
for what this adds and why.
"""

from hoopstat_runtime.errors import (
    ChecksumMismatchError,
    ConfigurationError,
    HoopstatRuntimeError,
    InvalidKeyError,
    ObjectNotFoundError,
    SecretAccessDeniedError,
    SecretError,
    SecretFormatError,
    SecretNotFoundError,
    SecretRejectedError,
    SecretUnavailableError,
    StorageError,
)
from hoopstat_runtime.observability import Observability
from hoopstat_runtime.secrets import Secrets, call_with_secret, get_secret
from hoopstat_runtime.storage import DataStore, StoredObject, WriteResult

__version__ = "0.1.0"

__all__ = [
    "ChecksumMismatchError",
    "ConfigurationError",
    "DataStore",
    "HoopstatRuntimeError",
    "InvalidKeyError",
    "ObjectNotFoundError",
    "Observability",
    "SecretAccessDeniedError",
    "SecretError",
    "SecretFormatError",
    "SecretNotFoundError",
    "SecretRejectedError",
    "SecretUnavailableError",
    "Secrets",
    "StorageError",
    "StoredObject",
    "WriteResult",
    "call_with_secret",
    "get_secret",
]
