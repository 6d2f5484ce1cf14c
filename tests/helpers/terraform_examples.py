"""Applying the suite's Terraform examples against the bench's moto: what the tests share."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from factory_bench import terraform as tf
from tests.helpers import SUITE_DIR

TERRAFORM_DIR = SUITE_DIR / "terraform"


TERRAFORM_DIR = SUITE_DIR / "terraform"


@dataclass
class Applied:
    """An example applied in its own moto account, with clients acting in that account."""

    workspace: tf.Workspace
    account_id: str
    credentials: tf.Credentials
    moto_url: str
    variables: dict[str, str]

    def client(self, service: str, region: str = "us-east-1") -> Any:
        return boto3.session.Session(
            aws_access_key_id=self.credentials.access_key,
            aws_secret_access_key=self.credentials.secret_key,
            aws_session_token=self.credentials.token,
            region_name=region,
        ).client(service, endpoint_url=self.moto_url, config=Config(retries={"max_attempts": 2}))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
