"""Fixtures for the rotation function: a moto server, a rotation-enabled secret, the steps."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from factory_bench.stack import BENCH_ACCOUNT, Bench

_AMBIENT = ("ROTATION_KEY_FIELD", "ROTATION_KEY_LENGTH", "ROTATION_PROVIDER_URL",
            "ROTATION_REVOKE_PREVIOUS", "AWS_LAMBDA_FUNCTION_NAME", "HOOPSTAT_LOCAL_SECRETS_FILE")


@pytest.fixture(scope="session")
def rotation_bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    """moto in server mode as its own process (the suite's bench), shared by this session."""
    with Bench(tmp_path_factory.mktemp("rotation-bench")) as running:
        yield running


@pytest.fixture
def aws(rotation_bench: Bench, monkeypatch: pytest.MonkeyPatch) -> Bench:
    for name in _AMBIENT:
        monkeypatch.delenv(name, raising=False)
    for name, value in rotation_bench.admin_env().items():
        monkeypatch.setenv(name, value)
    return rotation_bench


@pytest.fixture(scope="session")
def rotation_function(rotation_bench: Bench) -> str:
    """A Lambda function in moto to name as the rotation function (moto runs no code in it)."""
    iam = rotation_bench.admin_client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": "lambda.amazonaws.com"}}]}
    role = iam.create_role(RoleName="secret-rotation", AssumeRolePolicyDocument=json.dumps(trust))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("index.py", "def handler(event, context):\n    return None\n")
    function = rotation_bench.admin_client("lambda").create_function(
        FunctionName="secret-rotation", Runtime="python3.12", Role=role["Role"]["Arn"],
        Handler="index.handler", Code={"ZipFile": archive.getvalue()},
    )
    assert function["FunctionArn"].split(":")[4] == BENCH_ACCOUNT
    return str(function["FunctionArn"])


Secret = dict[str, Any]


@pytest.fixture
def make_secret(aws: Bench, rotation_function: str) -> Callable[[str], Secret]:
    """Create a secret with rotation configured, as the app-secret Terraform module would."""
    sm = aws.admin_client("secretsmanager")

    def make(value: str) -> Secret:
        name = f"rotating-{uuid.uuid4().hex[:10]}"
        created = sm.create_secret(Name=name, SecretString=value)
        return {"name": name, "arn": created["ARN"]}

    return make
