"""Where data lives in S3 (docs/adr/0003-secrets-management-strategy.md, "S3 layout").

One data bucket per environment (name from ``HOOPSTAT_DATA_BUCKET``, set by Terraform), two
top-level prefixes::

    raw/<source>/<dataset>/dt=<YYYY-MM-DD>/<name>         as fetched; written once by ingesters
    processed/<app>/<dataset>/dt=<YYYY-MM-DD>/<name>      derived; each app writes only its own

Prefixes (not buckets) per layer keep IAM simple: an app's role gets ``s3:GetObject`` on
``raw/*`` and ``s3:PutObject`` on ``processed/<app>/*``. ``dt=`` is Hive-style so Athena or Glue
can partition by date without a crawler guessing.
"""

from __future__ import annotations

import datetime as dt
import re

from hoopstat_runtime.errors import InvalidKeyError

RAW = "raw"
PROCESSED = "processed"

_SEGMENT = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def segment(value: str, *, what: str) -> str:
    if not _SEGMENT.fullmatch(value):
        raise InvalidKeyError(
            f"{what} {value!r} must be 1-64 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
    return value


def object_name(value: str) -> str:
    if not _NAME.fullmatch(value) or ".." in value:
        raise InvalidKeyError(
            f"object name {value!r} must be 1-200 letters, digits, '.', '_' or '-' "
            "(no '/', no '..'), starting with a letter or digit"
        )
    return value


def partition(day: dt.date) -> str:
    if isinstance(day, dt.datetime):  # a datetime is a date too; its time would be dropped silently
        raise InvalidKeyError("partition must be a datetime.date, not a datetime")
    return f"dt={day.isoformat()}"


def raw_key(*, source: str, dataset: str, day: dt.date, name: str) -> str:
    return "/".join((RAW, segment(source, what="source"), segment(dataset, what="dataset"),
                     partition(day), object_name(name)))


def processed_key(*, app: str, dataset: str, day: dt.date, name: str) -> str:
    return "/".join((PROCESSED, segment(app, what="app"), segment(dataset, what="dataset"),
                     partition(day), object_name(name)))
