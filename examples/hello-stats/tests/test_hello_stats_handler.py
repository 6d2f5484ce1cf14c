"""hello-stats' real handler, run as Lambda would run it.

Against S3 and Secrets Manager in moto.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hello_stats_bench import APP_DIR, Deployed

PROCESSED_KEY = "processed/hello-stats/team-totals/dt=2024-03-15/0022300061.json"


def json_lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_smoke_event_writes_signed_totals_and_logs_json_without_the_secret(
        deployed: Deployed) -> None:
    """The smoke event reads the secret and raw box score and writes signed team totals; every
    stdout line is JSON, logs carry the request id, and the signing key appears nowhere (one
    invocation: each costs a fresh interpreter)."""
    run = deployed.invoke(INVOKE_REQUEST_ID="req-smoke-1")
    assert run.returncode == 0, run.stdout + run.stderr
    lines = json_lines(run.stdout)
    response = lines[-1]["response"]
    assert response == {"statusCode": 200, "key": PROCESSED_KEY, "teams": 2,
                        "sha256": response["sha256"]}

    s3 = deployed.client("s3")
    stored = s3.get_object(Bucket=deployed.bucket, Key=PROCESSED_KEY)
    body = stored["Body"].read()
    assert stored["Metadata"]["sha256"] == hashlib.sha256(body).hexdigest() == response["sha256"]
    document = json.loads(body)
    assert document["data"]["teams"]["MIN"] == {"pts": 53, "reb": 18, "ast": 8, "players": 2}
    assert document["data"]["teams"]["DEN"]["pts"] == 47

    key = json.loads(deployed.client("secretsmanager").get_secret_value(
        SecretId=deployed.secret_name)["SecretString"])["signing_key"]
    canonical = json.dumps(document["data"], sort_keys=True, separators=(",", ":")).encode()
    assert document["hmac_sha256"] == hmac.new(key.encode(), canonical, hashlib.sha256).hexdigest()

    logs = [line for line in lines if "level" in line]
    assert [line["message"] for line in logs] == ["wrote team totals"]
    assert logs[0]["function_request_id"] == "req-smoke-1"
    assert logs[0]["correlation_id"] == "req-smoke-1"
    emf = [line for line in lines if "_aws" in line and "GamesProcessed" in line]
    assert len(emf) == 1 and emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Hoopstat"
    assert key not in run.stdout and key not in run.stderr


def test_missing_raw_object_fails_and_writes_nothing(deployed: Deployed, tmp_path: Path) -> None:
    """An event for a game with no raw data fails the invocation and writes no processed object."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"game_id": "0000000000", "date": "2024-03-15"}))
    run = deployed.invoke(event, INVOKE_REQUEST_ID="req-missing-1")
    assert run.returncode == 1
    lines = json_lines(run.stdout)
    assert lines[-1]["error"] == "ObjectNotFoundError"
    crash_log = next(line for line in lines if line.get("message") == "unhandled error")
    assert crash_log["function_request_id"] == "req-missing-1"
    listed = deployed.client("s3").list_objects_v2(Bucket=deployed.bucket, Prefix="processed/")
    assert listed.get("KeyCount", 0) == 0


def test_bad_event_is_a_400_without_aws_calls(deployed: Deployed, tmp_path: Path) -> None:
    """A malformed event gets a 400 naming the field, before any AWS call."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"game_id": "../../etc", "date": "2024-03-15"}))
    run = deployed.invoke(event, AWS_ENDPOINT_URL="http://127.0.0.1:9")
    assert run.returncode == 0, run.stderr
    assert json_lines(run.stdout)[-1]["response"] == {
        "statusCode": 400, "error": "game_id must be 1-40 letters, digits or '-'"}


def test_local_secrets_file_refused_inside_lambda(deployed: Deployed, tmp_path: Path) -> None:
    """With AWS_LAMBDA_FUNCTION_NAME set, a local secrets file makes the invocation fail loudly."""
    local = tmp_path / "secrets.json"
    local.write_text(json.dumps({deployed.secret_name: {"signing_key": "local-dev-key-123"}}))
    run = deployed.invoke(HOOPSTAT_LOCAL_SECRETS_FILE=str(local))
    assert run.returncode == 1
    assert json_lines(run.stdout)[-1]["error"] == "ConfigurationError"


def test_bench_dockerfile_builds_offline(tmp_path: Path) -> None:
    """Dockerfile.bench builds with buildah and no network, with the Lambda image's CMD and
    the label naming the Python the bench runs the handler on."""
    buildah = shutil.which("buildah")
    if buildah is None:
        pytest.skip("buildah is not installed (apt-get install buildah)")
    env = {**os.environ, "STORAGE_DRIVER": "vfs", "BUILDAH_ISOLATION": "chroot"}
    store = ["--root", str(tmp_path / "root"), "--runroot", str(tmp_path / "runroot")]
    built = subprocess.run(
        [buildah, *store, "build", "--network", "none", "-f", "Dockerfile.bench",
         "-t", "hello-stats:bench", "."],
        cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    inspected = subprocess.run(
        [buildah, *store, "inspect", "--type", "image", "hello-stats:bench"],
        env=env, capture_output=True, text=True, timeout=60, check=True)
    config = json.loads(inspected.stdout)["OCIv1"]["config"]
    assert config["Cmd"] == ["app.handler.handler"]
    assert config["Labels"]["dev.hoopstat.bench-only"] == "true"
    # The bench runs the handler on the Python this label names (the rehearsal refuses one
    # that differs from Dockerfile's base image).
    assert re.fullmatch(r"3\.\d+", config["Labels"]["dev.hoopstat.bench-python"])
