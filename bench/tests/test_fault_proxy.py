"""Tests for the bench's fault injector (a proxy in front of moto that fails chosen calls)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from factory_bench.fault_proxy import FaultProxy, identify
from factory_bench.stack import Bench


@pytest.fixture
def proxy(bench: Bench) -> Iterator[FaultProxy]:
    running = FaultProxy(bench.moto_url).start()
    yield running
    running.stop()


def client(proxy: FaultProxy, service: str, *, attempts: int = 5) -> Any:
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1",
    ).client(service, endpoint_url=proxy.url,
             config=Config(retries={"mode": "standard", "total_max_attempts": attempts}))


def test_throttled_calls_are_retried_to_success(proxy: FaultProxy) -> None:
    """Two injected 429s on ListFunctions are retried by botocore; the third attempt passes."""
    proxy.add(service="lambda", operation="ListFunctions", status=429, times=2)
    reply = client(proxy, "lambda").list_functions()
    assert reply["ResponseMetadata"]["RetryAttempts"] == 2
    assert proxy.injected == ["lambda:ListFunctions"] * 2
    assert proxy.passed == ["lambda:ListFunctions"]


@pytest.mark.parametrize(("service", "call", "status", "code"), [
    ("lambda", lambda c: c.get_function(FunctionName="x"), 429, "TooManyRequestsException"),
    ("ecr", lambda c: c.describe_repositories(), 500, "ServerException"),
    ("cloudwatch", lambda c: c.describe_alarms(), 400, "Throttling"),
    ("sts", lambda c: c.get_caller_identity(), 503, "InternalFailure"),
])
def test_errors_parse_as_aws_errors_in_each_protocol(
    proxy: FaultProxy, service: str, call: Any, status: int, code: str
) -> None:
    """Injected errors come back in the protocol's own format, so botocore reads the code."""
    operation = {"lambda": "GetFunction", "ecr": "DescribeRepositories",
                 "cloudwatch": "DescribeAlarms", "sts": "GetCallerIdentity"}[service]
    proxy.add(service=service, operation=operation, status=status, times=-1)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(client(proxy, service, attempts=1))
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_skip_lets_the_first_calls_through(proxy: FaultProxy) -> None:
    """``skip`` passes the first matching calls and fails the next ones."""
    proxy.add(service="lambda", operation="ListFunctions", status=503, times=1, skip=1)
    lam = client(proxy, "lambda", attempts=1)
    lam.list_functions()
    with pytest.raises(botocore.exceptions.ClientError):
        lam.list_functions()
    lam.list_functions()
    assert proxy.injected == ["lambda:ListFunctions"]


def test_dropped_connection_is_retried(proxy: FaultProxy) -> None:
    """A dropped connection is a transient failure that botocore retries."""
    proxy.add(service="lambda", operation="ListFunctions", kind="drop", times=1)
    reply = client(proxy, "lambda").list_functions()
    assert reply["ResponseMetadata"]["RetryAttempts"] == 1


def test_other_calls_pass_through_untouched(proxy: FaultProxy, bench: Bench) -> None:
    """Calls no rule matches reach moto and return its answer."""
    proxy.add(service="lambda", operation="UpdateFunctionCode", status=503, times=-1)
    name = f"fp-{id(proxy)}"
    bench.admin_client("ecr").create_repository(repositoryName=name)
    names = [r["repositoryName"] for r in client(proxy, "ecr").describe_repositories()[
        "repositories"]]
    assert name in names
    assert proxy.injected == []


@pytest.mark.parametrize(("method", "path", "headers", "body", "expected"), [
    ("PUT", "/2015-03-31/functions/my-fn/code", {}, b"", ("lambda", "UpdateFunctionCode")),
    ("GET", "/2015-03-31/functions/my-fn/configuration?Qualifier=3", {}, b"",
     ("lambda", "GetFunctionConfiguration")),
    ("GET", "/2015-03-31/functions/my-fn", {}, b"", ("lambda", "GetFunction")),
    ("PUT", "/2015-03-31/functions/my-fn/aliases/live", {}, b"", ("lambda", "UpdateAlias")),
    ("POST", "/2015-03-31/functions/my-fn/invocations", {}, b"", ("lambda", "Invoke")),
    ("POST", "/", {"x-amz-target": "AmazonEC2ContainerRegistry_V20150921.DescribeImages"}, b"",
     ("ecr", "DescribeImages")),
    ("POST", "/", {}, b"Action=DescribeAlarms&Version=2010-08-01",
     ("cloudwatch", "DescribeAlarms")),
    ("POST", "/service/GraniteServiceVersion20100801/operation/DescribeAlarms",
     {"smithy-protocol": "rpc-v2-cbor"}, b"", ("cloudwatch", "DescribeAlarms")),
])
def test_operations_are_identified_like_aws(
    method: str, path: str, headers: dict[str, str], body: bytes, expected: tuple[str, str]
) -> None:
    """The operation name is derived from the SigV4 scope, target, action or URI template."""
    scope = {"lambda": "lambda", "ecr": "ecr", "cloudwatch": "monitoring"}[expected[0]]
    auth = {"authorization": f"AWS4-HMAC-SHA256 Credential=AK/20250101/us-east-1/{scope}/"
                             "aws4_request, SignedHeaders=host, Signature=x"}
    service, operation, _ = identify(method, path, {**auth, **headers}, body)
    assert (service, operation) == expected


def test_runs_as_its_own_process(bench: Bench) -> None:
    """``python -m factory_bench.fault_proxy`` prints its URL and serves the control API."""
    process = subprocess.Popen(
        [sys.executable, "-m", "factory_bench.fault_proxy", "--upstream", bench.moto_url],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        url = json.loads(process.stdout.readline())["url"]
        rules = json.dumps({"rules": [{"service": "lambda", "operation": "ListFunctions",
                                       "status": 429}]}).encode()
        request = urllib.request.Request(f"{url}/_fault/rules", data=rules, method="POST")
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert reply.status == 201
        lam = boto3.client("lambda", endpoint_url=url, region_name="us-east-1",
                           aws_access_key_id="t", aws_secret_access_key="t")
        lam.list_functions()
        with urllib.request.urlopen(f"{url}/_fault/log", timeout=10) as reply:
            log = json.loads(reply.read())
        assert log == {"injected": ["lambda:ListFunctions"], "passed": ["lambda:ListFunctions"]}
    finally:
        process.terminate()
        process.wait(timeout=10)
