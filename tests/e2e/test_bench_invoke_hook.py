"""The local invoke hook: Invoke of a bench-registry image runs the app's real handler."""

from __future__ import annotations

import json

import pytest

from factory_bench.moto_ext_lambda_bench_invoke import bench_image
from factory_bench.stack import Bench
from factory_bench.testing import BenchRegistry
from tests.helpers import SUITE_DIR
from tests.helpers.ecr import run_push, unique

HELLO_STATS = SUITE_DIR / "examples" / "hello-stats"


@pytest.mark.parametrize(
    "uri,expected",
    [
        ("127.0.0.1:5000/app@sha256:" + "a" * 64, ("127.0.0.1:5000", "app", "sha256:" + "a" * 64)),
        (
            "localhost:5000/team/app@sha256:" + "b" * 64,
            ("localhost:5000", "team/app", "sha256:" + "b" * 64),
        ),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:" + "a" * 64, None),
        ("127.0.0.1:5000/app:latest", None),
    ],
)
def test_only_digest_pinned_loopback_images_are_run(uri: str, expected: object) -> None:
    """The hook takes only digest-pinned images in a loopback registry; others keep moto's echo."""
    assert bench_image(uri) == expected


@pytest.fixture(scope="module")
def hello_stats_image(
    bench: Bench,
    registry: BenchRegistry,
    buildah: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    """hello-stats built from its bench Dockerfile and pushed by the ecr-push code path."""
    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("hello-stats-push")
    capsys = _NullCapture()
    try:
        run = run_push(
            mp,
            capsys,
            tmp,
            bench=bench,
            registry_url=registry.url,
            workspace=HELLO_STATS,
            inputs={
                "repository": unique("hello-stats"),
                "context": str(HELLO_STATS),
                "dockerfile": str(HELLO_STATS / "Dockerfile.bench"),
                "create-repository": "true",
                "fail-on-severity": "none",
            },
        )
    finally:
        mp.undo()
    assert run.code == 0, run.log
    return run.outputs["image-uri"]


class _NullCapture:
    """Stands in for pytest's capsys in a module-scoped fixture (output is not inspected)."""

    def readouterr(self) -> object:
        return type("Captured", (), {"out": "", "err": ""})()


def make_function(bench: Bench, image_uri: str, env: dict[str, str]) -> str:
    name = unique("hello-stats-fn")
    role = bench.lambda_execution_role(name)
    bench.admin_client("lambda").create_function(
        FunctionName=name,
        PackageType="Image",
        Code={"ImageUri": image_uri},
        Role=role,
        Timeout=30,
        Environment={"Variables": env},
    )
    return name


def test_invoke_runs_the_real_handler_against_moto(bench: Bench, hello_stats_image: str) -> None:
    """The handler reads a secret and a raw S3 object from moto and writes the processed result."""
    bucket, secret = unique("hoopstat-data"), unique("hello-stats/signing")
    s3, sm = bench.admin_client("s3"), bench.admin_client("secretsmanager")
    s3.create_bucket(Bucket=bucket)
    box = (HELLO_STATS / "smoke" / "box-score.json").read_bytes()
    s3.put_object(
        Bucket=bucket, Key="raw/nba-api/box-scores/dt=2024-03-15/0022300061.json", Body=box
    )
    sm.create_secret(Name=secret, SecretString=json.dumps({"signing_key": "k" * 32}))
    name = make_function(
        bench,
        hello_stats_image,
        {
            "HOOPSTAT_DATA_BUCKET": bucket,
            "HELLO_STATS_SECRET_NAME": secret,
            "POWERTOOLS_SERVICE_NAME": "hello-stats",
        },
    )
    event = (HELLO_STATS / "smoke" / "event.json").read_bytes()
    reply = bench.admin_client("lambda").invoke(FunctionName=name, Payload=event)
    payload = json.loads(reply["Payload"].read())
    assert "FunctionError" not in reply, payload
    assert payload != json.loads(event)  # not moto's echo
    written = s3.list_objects_v2(Bucket=bucket, Prefix="processed/")["Contents"]
    assert len(written) == 1
    logs = bench.admin_client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")
    messages = [e["message"] for e in logs["events"]]
    assert any(m.startswith("START RequestId:") for m in messages)
    assert not any("k" * 32 in m for m in messages)  # the secret never reaches the logs


def test_handler_exception_is_a_function_error(bench: Bench, hello_stats_image: str) -> None:
    """A handler that raises answers FunctionError Unhandled with Lambda's error shape."""
    name = make_function(
        bench,
        hello_stats_image,
        {
            "HOOPSTAT_DATA_BUCKET": unique("missing-bucket"),
            "HELLO_STATS_SECRET_NAME": unique("missing-secret"),
        },
    )
    reply = bench.admin_client("lambda").invoke(
        FunctionName=name, Payload=(HELLO_STATS / "smoke" / "event.json").read_bytes()
    )
    assert reply.get("FunctionError") == "Unhandled"
    error = json.loads(reply["Payload"].read())
    assert set(error) == {"errorMessage", "errorType", "stackTrace"}
