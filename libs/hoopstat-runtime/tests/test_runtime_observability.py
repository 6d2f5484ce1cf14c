"""Observability: JSON logs with request and correlation ids, EMF metrics, X-Ray segments."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import textwrap
from typing import Any

import jsonschema
import pytest
from aws_lambda_powertools.metrics import MetricUnit

from hoopstat_runtime import Observability, get_secret
from hoopstat_runtime.observability import correlation_id

# The Embedded Metric Format specification's structure, as a JSON schema (AWS docs: CloudWatch
# "Specification: Embedded metric format").
EMF_UNITS = [
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
    "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
    "Terabits/Second", "Count/Second", "None",
]
EMF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["_aws"],
    "properties": {"_aws": {
        "type": "object",
        "required": ["Timestamp", "CloudWatchMetrics"],
        "properties": {
            "Timestamp": {"type": "integer", "minimum": 0},
            "CloudWatchMetrics": {"type": "array", "minItems": 1, "items": {
                "type": "object",
                "required": ["Namespace", "Dimensions", "Metrics"],
                "properties": {
                    "Namespace": {"type": "string", "minLength": 1, "maxLength": 1024},
                    "Dimensions": {"type": "array", "items": {
                        "type": "array", "maxItems": 30,
                        "items": {"type": "string", "minLength": 1, "maxLength": 250}}},
                    "Metrics": {"type": "array", "maxItems": 100, "items": {
                        "type": "object", "required": ["Name"],
                        "properties": {
                            "Name": {"type": "string", "minLength": 1, "maxLength": 1024},
                            "Unit": {"enum": EMF_UNITS},
                            "StorageResolution": {"enum": [1, 60]}}}}}}},
        }}},
}


def parse_emf(line: str) -> dict[str, Any]:
    """Validate one stdout line as an EMF document, including the spec's cross-references."""
    doc: dict[str, Any] = json.loads(line)
    jsonschema.validate(doc, EMF_SCHEMA)
    for directive in doc["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            for dimension in dimension_set:
                assert isinstance(doc[dimension], str), f"dimension {dimension} not a string"
        for metric in directive["Metrics"]:
            value = doc[metric["Name"]]
            values = value if isinstance(value, list) else [value]
            assert values and len(values) <= 100
            assert all(isinstance(v, int | float) for v in values), metric["Name"]
    return doc


def test_correlation_id_sources() -> None:
    """The correlation id comes from the header, else the event field, else the request id."""

    class Ctx:
        aws_request_id = "req-1"

    assert correlation_id({"headers": {"X-Correlation-Id": "hdr-1"}}, Ctx()) == "hdr-1"
    assert correlation_id({"correlation_id": "evt-1"}, Ctx()) == "evt-1"
    assert correlation_id({"headers": None}, Ctx()) == "req-1"
    assert correlation_id([], object()) is None


def test_logs_are_json_with_request_and_correlation_id(
    lambda_context: Any, unique: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every log line of an invocation is one JSON object carrying request id and correlation id."""
    stream = io.StringIO()
    obs = Observability(service=f"logs-{unique}", stream=stream)

    @obs.handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        obs.logger.info("processing game", extra={"game_id": event["game_id"]})
        obs.logger.warning("slow upstream")
        return {"ok": True}

    assert handler({"game_id": "g-1", "headers": {"x-correlation-id": "corr-7"}},
                   lambda_context) == {"ok": True}
    assert handler({"game_id": "g-2"}, lambda_context) == {"ok": True}
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["processing game", "slow upstream"] * 2
    for line in lines:
        assert line["function_request_id"] == lambda_context.aws_request_id
        assert line["service"] == f"logs-{unique}"
    assert [line["correlation_id"] for line in lines] == [
        "corr-7", "corr-7", lambda_context.aws_request_id, lambda_context.aws_request_id]
    assert lines[0]["game_id"] == "g-1"


def test_emf_output_parses_as_emf(
    lambda_context: Any, unique: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Metrics added in a handler are flushed to stdout as valid Embedded Metric Format."""
    obs = Observability(service=f"emf-{unique}", stream=io.StringIO(), namespace="HoopstatTest")

    @obs.handler
    def handler(event: dict[str, Any], context: Any) -> None:
        obs.metrics.add_metric(name="GamesProcessed", unit=MetricUnit.Count, value=3)
        obs.metrics.add_metric(name="ProcessingTime", unit=MetricUnit.Milliseconds, value=12.5)

    handler({"correlation_id": "corr-emf"}, lambda_context)
    out = capsys.readouterr().out
    docs = [parse_emf(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    app_docs = [d for d in docs if "GamesProcessed" in d]
    assert len(app_docs) == 1
    doc = app_docs[0]
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "HoopstatTest"
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "GamesProcessed": "Count", "ProcessingTime": "Milliseconds"}
    assert doc["service"] == f"emf-{unique}" and ["service"] in directive["Dimensions"]
    assert doc["GamesProcessed"] in (3, [3.0], 3.0)
    assert doc["correlation_id"] == "corr-emf"  # metadata: searchable, not a dimension


def test_unhandled_error_logged_once_redacted_then_raised(
    aws: Any, lambda_context: Any, unique: str
) -> None:
    """A handler crash is logged as JSON with the request id, secrets masked, and re-raised."""
    aws.admin_client("secretsmanager").create_secret(
        Name=f"crash-{unique}", SecretString="crash-secret-value-42")
    stream = io.StringIO()
    obs = Observability(service=f"crash-{unique}", stream=stream)

    @obs.handler
    def handler(event: dict[str, Any], context: Any) -> None:
        key = get_secret(f"crash-{unique}")
        raise PermissionError(f"upstream refused key {key}")

    with pytest.raises(PermissionError):
        handler({}, lambda_context)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 1
    assert lines[0]["message"] == "unhandled error"
    assert lines[0]["function_request_id"] == lambda_context.aws_request_id
    assert lines[0]["exception_name"] == "PermissionError"
    assert "crash-secret-value-42" not in stream.getvalue()


TRACED_APP = textwrap.dedent("""
    from dataclasses import dataclass
    from hoopstat_runtime import Observability

    obs = Observability(service="trace-demo")

    @dataclass
    class Context:
        function_name: str = "trace-demo"
        memory_limit_in_mb: int = 128
        aws_request_id: str = "req-trace-1"
        invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:trace-demo"

    @obs.tracer.capture_method
    def load_box_score():
        return 42

    @obs.handler
    def handler(event, context):
        obs.logger.info("traced")
        return {"points": load_box_score()}

    print(handler({"correlation_id": "corr-trace"}, Context()))
""")


def test_tracer_sends_xray_segments(tmp_path: Any) -> None:
    """In a Lambda-like environment the handler and methods are sent as X-Ray subsegments."""
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # fake X-Ray daemon: UDP listener
    daemon.bind(("127.0.0.1", 0))
    daemon.settimeout(10)
    trace_id = "1-5759e988-bd862e3fe1be46a994272793"
    env = {
        **os.environ,
        "AWS_LAMBDA_FUNCTION_NAME": "trace-demo", "LAMBDA_TASK_ROOT": str(tmp_path),
        "_X_AMZN_TRACE_ID": f"Root={trace_id};Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
    }
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    child = subprocess.run([sys.executable, "-c", TRACED_APP], env=env, capture_output=True,
                           text=True, timeout=60, check=False)
    assert child.returncode == 0, child.stderr
    segments = []
    with daemon:
        for _ in range(2):
            header, body = daemon.recvfrom(65535)[0].decode().split("\n", 1)
            assert json.loads(header) == {"format": "json", "version": 1}
            segments.append(json.loads(body))
    by_name = {s["name"]: s for s in segments}
    handler = by_name["## handler"]
    assert handler["trace_id"] == trace_id and handler["parent_id"] == "53995c3f42cd8ad8"
    assert handler["annotations"]["correlation_id"] == "corr-trace"
    assert by_name["## __main__.load_box_score"]["parent_id"] == handler["id"]
    log_line = json.loads(child.stdout.splitlines()[0])
    assert log_line["message"] == "traced" and log_line["xray_trace_id"] == trace_id
