"""Seed what the smoke event needs: the signing secret and the raw box score.

Run against the bench (or a sandbox account) before invoking the handler with smoke/event.json:
``python smoke/seed.py`` with ``AWS_ENDPOINT_URL``, ``HOOPSTAT_DATA_BUCKET`` and
``HELLO_STATS_SECRET_NAME`` set. Idempotent.
The signing key is random: nothing secret lives here.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import boto3

HERE = Path(__file__).parent
RAW_KEY = "raw/nba-api/box-scores/dt=2024-03-15/0022300061.json"


def seed() -> None:
    bucket = os.environ["HOOPSTAT_DATA_BUCKET"]
    secret_name = os.environ["HELLO_STATS_SECRET_NAME"]
    s3 = boto3.client("s3")
    sm = boto3.client("secretsmanager")
    existing = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=RAW_KEY, Body=(HERE / "box-score.json").read_bytes(),
                  ChecksumAlgorithm="SHA256", ContentType="application/json")
    try:
        sm.describe_secret(SecretId=secret_name)
    except sm.exceptions.ResourceNotFoundException:
        sm.create_secret(Name=secret_name,
                         SecretString=json.dumps({"signing_key": secrets.token_urlsafe(32)}))


if __name__ == "__main__":
    seed()
