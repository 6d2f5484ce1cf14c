"""The scan gate's logic on hand-made finding sets, and its polling (against a FAKE ECR client)."""

from __future__ import annotations

from typing import Any

import botocore.exceptions
import pytest

from action_scripts import ecr_scan
from action_scripts.errors import FactoryError


def page(status: str = "COMPLETE", findings: list[dict[str, Any]] | None = None,
         enhanced: list[dict[str, Any]] | None = None, counts: dict[str, int] | None = None,
         token: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"findings": findings or [], "enhancedFindings": enhanced or []}
    if counts is not None:
        body["findingSeverityCounts"] = counts
    result: dict[str, Any] = {"imageScanStatus": {"status": status}, "imageScanFindings": body}
    if token:
        result["nextToken"] = token
    return result


@pytest.mark.parametrize(
    ("counts", "threshold", "blocked"),
    [
        ({"HIGH": 1}, "CRITICAL", {}),
        ({"HIGH": 1}, "HIGH", {"HIGH": 1}),
        ({"HIGH": 1, "CRITICAL": 2}, "HIGH", {"HIGH": 1, "CRITICAL": 2}),
        ({"LOW": 3}, "MEDIUM", {}),
        ({"INFORMATIONAL": 1}, "INFORMATIONAL", {"INFORMATIONAL": 1}),
        ({"CRITICAL": 5}, "none", {}),
        ({"UNDEFINED": 4, "UNTRIAGED": 1}, "INFORMATIONAL", {}),  # unranked never gate
        ({"CRITICAL": 0}, "LOW", {}),
    ],
)
def test_blocking_severities(counts: dict[str, int], threshold: str,
                             blocked: dict[str, int]) -> None:
    """A finding blocks when its severity ranks at or above the threshold; `none` never blocks."""
    assert ecr_scan.blocking(counts, threshold) == blocked


def test_basic_and_enhanced_findings_are_read_across_pages() -> None:
    """Findings from every page, basic and Inspector (enhanced) shapes alike, are collected."""
    pages = [
        page(findings=[{"name": "CVE-1", "severity": "HIGH", "uri": "https://x/1",
                        "attributes": [{"key": "package_name", "value": "zlib"}]}],
             token="t"),
        page(enhanced=[{"severity": "CRITICAL", "title": "t",
                        "packageVulnerabilityDetails": {
                            "vulnerabilityId": "CVE-2", "sourceUrl": "https://x/2",
                            "vulnerablePackages": [{"name": "openssl"}]}}]),
    ]
    result = ecr_scan.parse_pages(pages)
    assert [(f.name, f.severity, f.package) for f in result.findings] == [
        ("CVE-1", "HIGH", "zlib"), ("CVE-2", "CRITICAL", "openssl")]
    assert result.counts == {"HIGH": 1, "CRITICAL": 1}  # counted when ECR gave no counts


def test_severity_counts_from_ecr_are_authoritative() -> None:
    """findingSeverityCounts wins over the (possibly truncated) list of findings."""
    result = ecr_scan.parse_pages([page(counts={"CRITICAL": 7}, findings=[])])
    with pytest.raises(FactoryError) as caught:
        ecr_scan.gate(result, threshold="HIGH", digest="sha256:x")
    assert caught.value.reason == "scan-findings" and "7 CRITICAL" in caught.value.message


def test_unsupported_image_warns_and_passes(capsys: pytest.CaptureFixture[str]) -> None:
    """An image ECR cannot scan (e.g. FROM scratch) passes the gate with a warning."""
    ecr_scan.gate(ecr_scan.ScanResult(status="UNSUPPORTED_IMAGE"), threshold="LOW",
                  digest="sha256:x")
    assert "::warning title=Image not scanned::" in capsys.readouterr().out


def test_findings_table_orders_by_severity_and_escapes() -> None:
    """The summary table lists worst first and escapes Markdown in finding names."""
    result = ecr_scan.parse_pages([page(findings=[
        {"name": "low|one", "severity": "LOW"},
        {"name": "CVE-9", "severity": "CRITICAL", "uri": "https://x/9"},
    ])])
    text = ecr_scan.findings_markdown(result, threshold="HIGH")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[1].startswith("| CRITICAL | [CVE-9](https://x/9)")
    assert "low\\|one" in rows[2]
    assert "CRITICAL: 1, LOW: 1" in text


def client_error(code: str) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": 400}},
        "DescribeImageScanFindings")


class FakeScanningEcr:
    """A FAKE ECR client: replays scripted DescribeImageScanFindings answers (moto's stick)."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.started = 0

    def describe_image_scan_findings(self, **_: Any) -> dict[str, Any]:
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        result: dict[str, Any] = answer
        return result

    def start_image_scan(self, **_: Any) -> dict[str, Any]:
        self.started += 1
        return {}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_polls_fast_then_slower_until_complete(capsys: pytest.CaptureFixture[str]) -> None:
    """Scan not found → one StartImageScan; IN_PROGRESS polls with growing delays until COMPLETE."""
    ecr = FakeScanningEcr([client_error("ScanNotFoundException"), page("IN_PROGRESS"),
                           page("IN_PROGRESS"), page("IN_PROGRESS"), page("COMPLETE")])
    clock = Clock()
    result = ecr_scan.wait_for_scan(ecr, repository="r", digest="sha256:x", timeout=60,
                                    sleep=clock.sleep, clock=clock)
    assert result.status == "COMPLETE"
    assert ecr.started == 1
    assert clock.sleeps[0] == 0.5 and clock.sleeps == sorted(clock.sleeps)
    assert "elapsed" in capsys.readouterr().out


def test_wait_times_out_with_the_state_named() -> None:
    """A scan stuck IN_PROGRESS fails scan-timeout at the timeout, never sleeping past it."""
    clock = Clock()
    with pytest.raises(FactoryError) as caught:
        ecr_scan.wait_for_scan(FakeScanningEcr([page("IN_PROGRESS")]), repository="r",
                               digest="sha256:x", timeout=30, sleep=clock.sleep, clock=clock)
    assert caught.value.reason == "scan-timeout" and "IN_PROGRESS" in caught.value.message
    assert 30 <= clock.now <= 30.001


def test_failed_scan_is_its_own_reason() -> None:
    """A FAILED scan stops the wait at once with scan-failed."""
    clock = Clock()
    with pytest.raises(FactoryError) as caught:
        ecr_scan.wait_for_scan(FakeScanningEcr([page("FAILED")]), repository="r",
                               digest="sha256:x", timeout=30, sleep=clock.sleep, clock=clock)
    assert caught.value.reason == "scan-failed" and clock.sleeps == []


def test_other_errors_are_not_swallowed() -> None:
    """AccessDenied from DescribeImageScanFindings propagates instead of being polled."""
    clock = Clock()
    with pytest.raises(botocore.exceptions.ClientError):
        ecr_scan.wait_for_scan(FakeScanningEcr([client_error("AccessDeniedException")]),
                               repository="r", digest="sha256:x", timeout=30,
                               sleep=clock.sleep, clock=clock)
