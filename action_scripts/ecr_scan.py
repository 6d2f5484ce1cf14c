"""The scan gate: wait for ECR's scan of the pushed digest, show the findings, fail on a threshold.

Polling is fast at first (0.5 s, growing to 10 s) and logs the elapsed time; a repository that
does not scan on push gets one ``StartImageScan``. Both basic findings and enhanced (Inspector)
findings are read; ``findingSeverityCounts`` is authoritative for the gate when present.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from action_scripts import aws, runner
from action_scripts.errors import FactoryError

SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
THRESHOLDS = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "none")
# UNDEFINED/UNTRIAGED have no rank: they are shown but never gate.
RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
DONE = frozenset({"COMPLETE", "ACTIVE"})
NOT_SCANNABLE = frozenset({"UNSUPPORTED_IMAGE", "SCAN_ELIGIBILITY_EXPIRED", "FINDINGS_UNAVAILABLE"})


@dataclass(frozen=True)
class Finding:
    name: str
    severity: str
    package: str
    uri: str


@dataclass
class ScanResult:
    status: str
    description: str = ""
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def poll_delays(*, first: float = 0.5, factor: float = 1.5, cap: float = 10.0) -> Any:
    delay = first
    while True:
        yield delay
        delay = min(cap, delay * factor)


def _finding(raw: dict[str, Any], *, enhanced: bool) -> Finding:
    if enhanced:
        details = raw.get("packageVulnerabilityDetails", {})
        packages = details.get("vulnerablePackages") or [{}]
        return Finding(
            name=str(details.get("vulnerabilityId") or raw.get("title", "?")),
            severity=str(raw.get("severity", "UNDEFINED")),
            package=str(packages[0].get("name", "")),
            uri=str(details.get("sourceUrl", "")),
        )
    attributes = {a.get("key"): a.get("value") for a in raw.get("attributes", [])}
    return Finding(
        name=str(raw.get("name", "?")),
        severity=str(raw.get("severity", "UNDEFINED")),
        package=str(attributes.get("package_name") or ""),
        uri=str(raw.get("uri", "")),
    )


def parse_pages(pages: list[dict[str, Any]]) -> ScanResult:
    """One result from every page of DescribeImageScanFindings."""
    first = pages[0]
    status = first.get("imageScanStatus", {})
    result = ScanResult(status=str(status.get("status", "")),
                        description=str(status.get("description", "")))
    for page in pages:
        body = page.get("imageScanFindings", {})
        result.findings += [_finding(f, enhanced=False) for f in body.get("findings", [])]
        result.findings += [_finding(f, enhanced=True) for f in body.get("enhancedFindings", [])]
        for severity, count in (body.get("findingSeverityCounts") or {}).items():
            result.counts[severity] = max(result.counts.get(severity, 0), int(count))
    if not result.counts:
        for finding in result.findings:
            result.counts[finding.severity] = result.counts.get(finding.severity, 0) + 1
    return result


def blocking(counts: dict[str, int], threshold: str) -> dict[str, int]:
    """The severities at or above ``threshold`` that have findings ({} means the gate passes)."""
    if threshold == "none":
        return {}
    floor = RANK[threshold]
    return {s: n for s, n in counts.items() if n > 0 and RANK.get(s, -1) >= floor}


def _describe_all(ecr: Any, repository: str, digest: str) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        args: dict[str, Any] = {"repositoryName": repository, "imageId": {"imageDigest": digest}}
        if token:
            args["nextToken"] = token
        page: dict[str, Any] = ecr.describe_image_scan_findings(**args)
        pages.append(page)
        token = page.get("nextToken")
        if not token:
            return pages


def wait_for_scan(
    ecr: Any,
    *,
    repository: str,
    digest: str,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ScanResult:
    started = clock()
    scan_started = False
    delays = poll_delays()
    while True:
        elapsed = clock() - started
        try:
            pages = _describe_all(ecr, repository, digest)
        except Exception as exc:
            if aws.error_code(exc) != "ScanNotFoundException":
                if aws.is_transient(exc):
                    pages = []
                else:
                    raise
            else:
                pages = []
                if not scan_started:
                    scan_started = True
                    _start_scan(ecr, repository, digest)
        if pages:
            result = parse_pages(pages)
            if result.status in DONE or result.status in NOT_SCANNABLE:
                runner.info(f"Scan {result.status} after {elapsed:.1f}s")
                return result
            if result.status == "FAILED":
                raise FactoryError(
                    f"ECR could not scan {digest}: {result.description or 'no reason given'}.",
                    title="Image scan failed",
                    fix="Check the scan status in the ECR console; re-run, or set "
                    "`fail-on-severity: none` to publish without a scan result.",
                    reason="scan-failed",
                )
            state = result.status or "PENDING"
        else:
            state = "not started" if not scan_started else "PENDING"
        if elapsed >= timeout:
            raise FactoryError(
                f"The scan of {digest} was still {state} after {timeout:.0f}s.",
                title="Image scan timed out",
                fix="Raise `scan-timeout-seconds`, or re-run: the image is pushed, and a re-run "
                "of the same commit is a cache hit that only waits for the scan.",
                reason="scan-timeout",
            )
        delay = min(next(delays), max(0.0, timeout - elapsed))
        runner.info(f"Scan {state}; {elapsed:.1f}s elapsed, next check in {delay:.1f}s")
        sleep(delay)


def _start_scan(ecr: Any, repository: str, digest: str) -> None:
    """Scan images in repositories without scan-on-push (or pushed before it was turned on)."""
    try:
        ecr.start_image_scan(repositoryName=repository, imageId={"imageDigest": digest})
        runner.info("No scan found for this image; started one (StartImageScan).")
    except Exception as exc:
        if aws.error_code(exc) != "LimitExceededException":  # already scanned today: fine
            raise


def findings_markdown(result: ScanResult, *, threshold: str, limit: int = 50) -> str:
    counts = ", ".join(
        f"{s}: {result.counts[s]}" for s in (*reversed(SEVERITIES), "UNDEFINED", "UNTRIAGED")
        if result.counts.get(s)
    ) or "none"
    lines = [f"**Scan:** {result.status} · findings by severity: {counts} · gate: "
             f"`fail-on-severity: {threshold}`", ""]
    if not result.findings:
        return "\n".join(lines)
    ordered = sorted(result.findings, key=lambda f: (-RANK.get(f.severity, -1), f.name))
    lines += ["| Severity | Finding | Package |", "| --- | --- | --- |"]
    for finding in ordered[:limit]:
        name = runner.md_escape(finding.name)
        link = f"[{name}]({finding.uri})" if finding.uri.startswith("https://") else name
        lines.append(f"| {finding.severity} | {link} | {runner.md_escape(finding.package)} |")
    if len(ordered) > limit:
        lines.append(f"\n_…and {len(ordered) - limit} more (see the ECR console)._")
    return "\n".join(lines)


def gate(result: ScanResult, *, threshold: str, digest: str) -> None:
    if result.status in NOT_SCANNABLE:
        runner.warning(
            f"ECR reports {result.status} for {digest}: the scan gate could not check it.",
            title="Image not scanned",
        )
        return
    over = blocking(result.counts, threshold)
    if over:
        shown = ", ".join(f"{n} {s}" for s, n in sorted(over.items(), key=lambda i: -RANK[i[0]]))
        raise FactoryError(
            f"The image has findings at or above {threshold}: {shown}.",
            title="Vulnerabilities block this image",
            fix="Update the affected packages or base image (pinned by digest) and push again; "
            "or, with a reviewed exception, raise `fail-on-severity`. The image keeps only its "
            "`src-` tag, so no deploy picks it up by commit.",
            reason="scan-findings",
        )
