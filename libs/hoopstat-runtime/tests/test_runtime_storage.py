"""DataStore against S3 on the moto server: layout, checksums, all-or-nothing writes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from hoopstat_runtime import (
    ChecksumMismatchError,
    ConfigurationError,
    DataStore,
    InvalidKeyError,
    ObjectNotFoundError,
)
from hoopstat_runtime.storage import MIN_PART_SIZE

DAY = dt.date(2024, 3, 15)


@pytest.fixture
def bucket(aws: Any, unique: str) -> str:
    name = f"data-{unique}"
    aws.admin_client("s3").create_bucket(Bucket=name)
    return name


def keys(aws: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in aws.admin_client("s3").list_objects_v2(Bucket=bucket)
            .get("Contents", [])]


def uploads(aws: Any, bucket: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = aws.admin_client("s3").list_multipart_uploads(
        Bucket=bucket).get("Uploads", [])
    return found


def test_write_then_read_processed_small(aws: Any, bucket: str) -> None:
    """A small processed write lands at the layout key with its SHA-256 and reads back verified."""
    store = DataStore(bucket=bucket, app="hello-stats")
    body = json.dumps({"player": "A. Edwards", "pts": 31}).encode()
    result = store.write_processed(dataset="player-totals", day=DAY, name="game-1.json", body=body)

    assert result.key == "processed/hello-stats/player-totals/dt=2024-03-15/game-1.json"
    assert result.parts == 1
    head = aws.admin_client("s3").head_object(Bucket=bucket, Key=result.key)
    assert head["Metadata"]["sha256"] == hashlib.sha256(body).hexdigest()
    assert head["ContentType"] == "application/json"
    read = store.read_processed(dataset="player-totals", day=DAY, name="game-1.json")
    assert read.body == body and read.verified and read.json()["pts"] == 31


def test_large_write_goes_multipart_and_reads_back(aws: Any, bucket: str) -> None:
    """A body over one part is sent as a multipart upload and reads back byte-for-byte verified."""
    store = DataStore(bucket=bucket, app="hello-stats", part_size=MIN_PART_SIZE)
    chunks = [os.urandom(1024 * 1024) for _ in range(11)]
    result = store.write_processed(dataset="season", day=DAY, name="big.bin", body=iter(chunks),
                                   content_type="application/octet-stream")
    assert result.parts == 3
    assert result.size == 11 * 1024 * 1024
    read = store.read(result.key)
    assert read.verified and read.body == b"".join(chunks)
    assert read.sha256 == result.sha256
    assert uploads(aws, bucket) == []


def test_read_raw_uses_raw_layout_and_s3_checksum(aws: Any, bucket: str) -> None:
    """read_raw finds raw/<source>/<dataset>/dt=<day>/<name> and verifies S3's own checksum."""
    s3 = aws.admin_client("s3")
    key = "raw/nba-api/box-scores/dt=2024-03-15/game-1.json"
    s3.put_object(Bucket=bucket, Key=key, Body=b'{"home": 101}', ChecksumAlgorithm="SHA256")
    read = DataStore(bucket=bucket, app="hello-stats").read_raw(
        source="nba-api", dataset="box-scores", day=DAY, name="game-1.json")
    assert read.json() == {"home": 101} and read.verified


def test_object_without_checksum_reads_unverified(aws: Any, bucket: str) -> None:
    """An object written with no checksum at all is returned, flagged as not verified."""
    s3 = aws.admin_client("s3")
    key = "raw/legacy/box-scores/dt=2024-03-15/old.json"
    s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
    read = DataStore(bucket=bucket, app="hello-stats").read(key)
    assert read.body == b"{}" and not read.verified


def test_checksum_mismatch_is_refused(aws: Any, bucket: str) -> None:
    """Bytes that do not match the stored sha256 metadata raise ChecksumMismatchError."""
    s3 = aws.admin_client("s3")
    key = "raw/nba-api/box-scores/dt=2024-03-15/tampered.json"
    s3.put_object(Bucket=bucket, Key=key, Body=b'{"home": 99}',
                  Metadata={"sha256": hashlib.sha256(b'{"home": 101}').hexdigest()})
    with pytest.raises(ChecksumMismatchError, match="does not match"):
        DataStore(bucket=bucket, app="hello-stats").read(key)


def test_missing_object_is_typed(aws: Any, bucket: str) -> None:
    """Reading an absent key raises ObjectNotFoundError naming the s3:// URL."""
    with pytest.raises(ObjectNotFoundError, match=f"s3://{bucket}/raw/"):
        DataStore(bucket=bucket, app="hello-stats").read_raw(
            source="nba-api", dataset="box-scores", day=DAY, name="absent.json")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"dataset": "Player_Totals", "day": DAY, "name": "x.json"}, "dataset"),
     ({"dataset": "totals", "day": DAY, "name": "../escape.json"}, "object name"),
     ({"dataset": "totals", "day": DAY, "name": "a/b.json"}, "object name"),
     ({"dataset": "totals", "day": dt.datetime(2024, 3, 15, 12), "name": "x.json"}, "datetime")],
)
def test_bad_key_parts_refused_before_any_call(
    aws: Any, bucket: str, kwargs: dict[str, Any], match: str
) -> None:
    """Key segments outside the layout raise InvalidKeyError and nothing is written."""
    store = DataStore(bucket=bucket, app="hello-stats")
    with pytest.raises(InvalidKeyError, match=match):
        store.write_processed(body=b"{}", **kwargs)
    assert keys(aws, bucket) == []


def test_configuration_errors(monkeypatch: pytest.MonkeyPatch, aws: Any) -> None:
    """from_env without a bucket, or with a bad app name, fails with a clear message."""
    monkeypatch.delenv("HOOPSTAT_DATA_BUCKET", raising=False)
    monkeypatch.setenv("HOOPSTAT_APP", "hello-stats")
    with pytest.raises(ConfigurationError, match="HOOPSTAT_DATA_BUCKET"):
        DataStore.from_env()
    monkeypatch.setenv("HOOPSTAT_DATA_BUCKET", "b-1")
    monkeypatch.setenv("HOOPSTAT_APP", "Hello Stats")
    with pytest.raises(InvalidKeyError, match="app"):
        DataStore.from_env()


def test_exception_while_producing_writes_nothing(aws: Any, bucket: str) -> None:
    """An error inside the writer block leaves no object and no upload behind."""
    store = DataStore(bucket=bucket, app="hello-stats")
    with pytest.raises(ValueError, match="bad row"), \
            store.processed_writer(dataset="totals", day=DAY, name="x.json") as out:
        out.write(b'{"rows": [')
        raise ValueError("bad row")
    assert keys(aws, bucket) == [] and uploads(aws, bucket) == []


def test_failure_mid_multipart_aborts_and_keeps_old_object(aws: Any, bucket: str) -> None:
    """An error between parts aborts the upload; the previous object at the key is untouched."""
    store = DataStore(bucket=bucket, app="hello-stats", part_size=MIN_PART_SIZE)
    old = store.write_processed(dataset="totals", day=DAY, name="x.bin", body=b"version-1")

    def fail_second_part(**kwargs: Any) -> None:
        if kwargs["params"]["PartNumber"] == 2:
            raise ConnectionError("network dropped")

    store.client.meta.events.register("before-parameter-build.s3.UploadPart", fail_second_part)
    with pytest.raises(ConnectionError):
        store.write_processed(dataset="totals", day=DAY, name="x.bin",
                              body=b"v2" * (6 * 1024 * 1024))
    assert store.read(old.key).body == b"version-1"
    assert uploads(aws, bucket) == []


CRASHING_WRITER = textwrap.dedent("""
    import datetime as dt, os, sys
    from hoopstat_runtime import DataStore
    from hoopstat_runtime.storage import MIN_PART_SIZE

    store = DataStore(bucket=sys.argv[1], app="hello-stats", part_size=MIN_PART_SIZE)
    # Die the hard way (no finally, no abort) right after the first part reached S3.
    store.client.meta.events.register("after-call.s3.UploadPart", lambda **_: os._exit(70))
    store.write_processed(dataset="totals", day=dt.date(2024, 3, 15), name="x.bin",
                          body=b"v2" * (6 * 1024 * 1024))
""")


def test_crash_mid_write_leaves_no_partial_object(aws: Any, bucket: str) -> None:
    """A process killed mid-upload leaves the old object intact and no partial one visible."""
    store = DataStore(bucket=bucket, app="hello-stats")
    old = store.write_processed(dataset="totals", day=DAY, name="x.bin", body=b"version-1")

    child = subprocess.run([sys.executable, "-c", CRASHING_WRITER, bucket], env=os.environ.copy(),
                           capture_output=True, text=True, timeout=120, check=False)
    assert child.returncode == 70, child.stderr

    pending = uploads(aws, bucket)
    assert [u["Key"] for u in pending] == [old.key]  # the crash really was mid-upload
    read = store.read(old.key)
    assert read.body == b"version-1" and read.verified
    assert keys(aws, bucket) == [old.key]


def test_crash_mid_write_of_new_key_leaves_nothing(aws: Any, bucket: str) -> None:
    """A process killed mid-upload of a new key leaves no object at that key at all."""
    child = subprocess.run([sys.executable, "-c", CRASHING_WRITER, bucket], env=os.environ.copy(),
                           capture_output=True, text=True, timeout=120, check=False)
    assert child.returncode == 70, child.stderr
    assert len(uploads(aws, bucket)) == 1
    assert keys(aws, bucket) == []
    with pytest.raises(ObjectNotFoundError):
        DataStore(bucket=bucket, app="hello-stats").read_processed(
            dataset="totals", day=DAY, name="x.bin")
