"""Read raw and write processed objects under the S3 layout, with checksums and atomic writes.

A write never leaves a half-written object at its key: the body is first spooled (memory, then
a temporary file) while its SHA-256 is computed, and only then sent — as one ``PutObject`` when it
fits in a part, else as a multipart upload, which S3 makes visible only on
``CompleteMultipartUpload``. A crash while spooling sends nothing; a crash mid-upload leaves an
incomplete upload that no reader can see (the bucket's lifecycle rule aborts it after a day); an
exception mid-upload aborts it at once. Each request carries ``ChecksumSHA256`` so S3 rejects
corrupted bytes, and the whole object's SHA-256 is stored as metadata ``sha256`` so readers can
check what they got even for multipart objects, whose S3 checksum is a checksum of checksums.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import boto3
import botocore.exceptions
from botocore.config import Config

from hoopstat_runtime import layout
from hoopstat_runtime.errors import (
    ChecksumMismatchError,
    ConfigurationError,
    ObjectNotFoundError,
    StorageError,
)

BUCKET_ENV = "HOOPSTAT_DATA_BUCKET"
APP_ENV = "HOOPSTAT_APP"
SHA256_METADATA = "sha256"
MIN_PART_SIZE = 5 * 1024 * 1024  # S3's floor for every part but the last
DEFAULT_PART_SIZE = 8 * 1024 * 1024
MAX_PARTS = 10_000


@dataclass(frozen=True)
class StoredObject:
    key: str
    body: bytes
    sha256: str
    verified: bool  # False only when the object carries no checksum to compare against
    version_id: str | None = None
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass(frozen=True)
class WriteResult:
    bucket: str
    key: str
    sha256: str
    size: int
    parts: int
    version_id: str | None = None


class Writer:
    """File-like sink handed out by :meth:`DataStore.processed_writer`; hashes as it spools."""

    def __init__(self, *, part_size: int) -> None:
        self._spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=part_size)  # noqa: SIM115
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._spool.write(data)
        self._hash.update(data)
        self.size += len(data)
        return len(data)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def rewind(self) -> IO[bytes]:
        self._spool.seek(0)
        return self._spool

    def close(self) -> None:
        self._spool.close()


class DataStore:
    """One app's view of the data bucket: read ``raw/``, read and write ``processed/<app>/``."""

    def __init__(
        self, *, bucket: str, app: str, client: Any = None, part_size: int = DEFAULT_PART_SIZE
    ) -> None:
        if not bucket:
            raise ConfigurationError(f"no data bucket: set {BUCKET_ENV}")
        if part_size < MIN_PART_SIZE:
            raise ConfigurationError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3 limit)")
        self.bucket = bucket
        self.app = layout.segment(app, what="app")
        self.part_size = part_size
        self._client = client

    @classmethod
    def from_env(cls, *, part_size: int = DEFAULT_PART_SIZE) -> DataStore:
        bucket = os.environ.get(BUCKET_ENV, "")
        app = os.environ.get(APP_ENV) or os.environ.get("POWERTOOLS_SERVICE_NAME", "")
        if not app:
            raise ConfigurationError(f"no app name: set {APP_ENV} (or POWERTOOLS_SERVICE_NAME)")
        return cls(bucket=bucket, app=app, part_size=part_size)

    @property
    def client(self) -> Any:
        if self._client is None:
            config = Config(retries={"mode": "standard", "max_attempts": 5})
            self._client = boto3.session.Session().client("s3", config=config)
        return self._client

    # -- reads -----------------------------------------------------------------------------

    def read_raw(self, *, source: str, dataset: str, day: dt.date, name: str) -> StoredObject:
        return self.read(layout.raw_key(source=source, dataset=dataset, day=day, name=name))

    def read_processed(
        self, *, dataset: str, day: dt.date, name: str, app: str | None = None
    ) -> StoredObject:
        key = layout.processed_key(app=app or self.app, dataset=dataset, day=day, name=name)
        return self.read(key)

    def read(self, key: str) -> StoredObject:
        """Get ``key`` and check its bytes against the stored SHA-256 (metadata, else S3's)."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
            body: bytes = response["Body"].read()
        except botocore.exceptions.ClientError as exc:
            raise _storage_error(exc, bucket=self.bucket, key=key, action="read") from exc
        except botocore.exceptions.FlexibleChecksumError as exc:
            raise ChecksumMismatchError(
                f"s3://{self.bucket}/{key}: {exc}; the object is corrupt or was changed mid-read"
            ) from exc
        digest = hashlib.sha256(body)
        metadata: dict[str, str] = response.get("Metadata", {})
        expected = metadata.get(SHA256_METADATA)
        verified = False
        if expected is not None:
            if digest.hexdigest() != expected:
                raise ChecksumMismatchError(
                    f"s3://{self.bucket}/{key}: SHA-256 {digest.hexdigest()} does not match "
                    f"the stored {expected}"
                )
            verified = True
        else:
            s3_sum = response.get("ChecksumSHA256")
            if s3_sum and "-" not in s3_sum:  # "-N" marks a multipart checksum of checksums
                if base64.b64encode(digest.digest()).decode() != s3_sum:
                    raise ChecksumMismatchError(
                        f"s3://{self.bucket}/{key}: bytes do not match S3's ChecksumSHA256"
                    )
                verified = True
        return StoredObject(
            key=key, body=body, sha256=digest.hexdigest(), verified=verified,
            version_id=response.get("VersionId"), content_type=response.get("ContentType"),
            metadata=metadata,
        )

    # -- writes ----------------------------------------------------------------------------

    def write_processed(
        self,
        *,
        dataset: str,
        day: dt.date,
        name: str,
        body: bytes | Iterable[bytes],
        content_type: str = "application/json",
    ) -> WriteResult:
        with self.processed_writer(
            dataset=dataset, day=day, name=name, content_type=content_type
        ) as out:
            for chunk in [body] if isinstance(body, bytes) else body:
                out.write(chunk)
        return out.result

    @contextlib.contextmanager
    def processed_writer(
        self, *, dataset: str, day: dt.date, name: str, content_type: str = "application/json"
    ) -> Iterator[_PendingWrite]:
        """Yield a file-like writer; the object appears at its key only if the block succeeds."""
        key = layout.processed_key(app=self.app, dataset=dataset, day=day, name=name)
        writer = Writer(part_size=self.part_size)
        pending = _PendingWrite(writer)
        try:
            yield pending
            # Reached only when the block finished: an exception above skips the upload entirely.
            pending.commit(self._upload(key=key, writer=writer, content_type=content_type))
        finally:
            writer.close()

    def _upload(self, *, key: str, writer: Writer, content_type: str) -> WriteResult:
        if writer.size > self.part_size * MAX_PARTS:
            raise StorageError(f"{writer.size} bytes needs over {MAX_PARTS} parts; raise part_size")
        metadata = {SHA256_METADATA: writer.sha256}
        source = writer.rewind()
        try:
            if writer.size <= self.part_size:
                data = source.read()
                response = self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=data, ContentType=content_type,
                    Metadata=metadata, ChecksumSHA256=_b64sha256(data),
                )
                parts = 1
            else:
                response, parts = self._multipart(key, source, content_type, metadata)
        except botocore.exceptions.ClientError as exc:
            raise _storage_error(exc, bucket=self.bucket, key=key, action="write") from exc
        return WriteResult(
            bucket=self.bucket, key=key, sha256=writer.sha256, size=writer.size, parts=parts,
            version_id=response.get("VersionId"),
        )

    def _multipart(
        self, key: str, source: IO[bytes], content_type: str, metadata: dict[str, str]
    ) -> tuple[dict[str, Any], int]:
        upload = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType=content_type, Metadata=metadata,
            ChecksumAlgorithm="SHA256",
        )
        upload_id = upload["UploadId"]
        done: list[dict[str, Any]] = []
        try:
            while chunk := source.read(self.part_size):
                number = len(done) + 1
                part = self.client.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                    Body=chunk, ChecksumSHA256=_b64sha256(chunk),
                )
                done.append({"PartNumber": number, "ETag": part["ETag"],
                             "ChecksumSHA256": part.get("ChecksumSHA256", _b64sha256(chunk))})
            response: dict[str, Any] = self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id,
                MultipartUpload={"Parts": done},
            )
        except BaseException:
            # Free the uploaded parts now; if this process dies first, the lifecycle rule will.
            with contextlib.suppress(Exception):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise
        return response, len(done)


class _PendingWrite:
    def __init__(self, writer: Writer) -> None:
        self._writer = writer
        self._result: WriteResult | None = None

    def write(self, data: bytes) -> int:
        return self._writer.write(data)

    def commit(self, result: WriteResult) -> None:
        self._result = result

    @property
    def committed(self) -> bool:
        return self._result is not None

    @property
    def result(self) -> WriteResult:
        """What was written; only after the ``with`` block has finished."""
        if self._result is None:
            raise StorageError("the write has not completed (read .result after the with block)")
        return self._result


def _b64sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _storage_error(
    exc: botocore.exceptions.ClientError, *, bucket: str, key: str, action: str
) -> StorageError:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    where = f"s3://{bucket}/{key}"
    if code in {"NoSuchKey", "404", "NotFound"}:
        return ObjectNotFoundError(f"{where} does not exist")
    if code in {"AccessDenied", "403"}:
        verb = "s3:GetObject" if action == "read" else "s3:PutObject"
        return StorageError(f"not allowed to {action} {where}: the role needs {verb} ({code})")
    return StorageError(f"could not {action} {where}: {exc}")
