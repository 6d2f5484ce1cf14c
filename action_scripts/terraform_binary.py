"""Running the terraform binary: one subprocess per command, machine-readable output when offered.

``plan``, ``apply`` and ``validate`` run with ``-json`` so their errors arrive as structured
diagnostics (a held state lock is recognised from its diagnostic, not from scraping the text),
and the human-readable messages are still echoed to the log.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from action_scripts import runner
from action_scripts.errors import FactoryError

VERSION_PATTERN = re.compile(r"\d+\.\d+(?:\.\d+)?")
VERSION_EXPECTED = "a terraform version such as `1.11` or `1.11.4`"


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    summary: str
    detail: str = ""
    address: str = ""

    def text(self) -> str:
        where = f" ({self.address})" if self.address else ""
        return f"{self.severity.capitalize()}: {self.summary}{where}" + (
            f"\n{self.detail}" if self.detail else ""
        )


@dataclass
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def error_text(self, *, limit: int = 6000) -> str:
        text = "\n\n".join(d.text() for d in self.errors) or (self.stderr or self.stdout)
        return text.strip()[-limit:]


def _diagnostic(raw: dict[str, Any]) -> Diagnostic:
    return Diagnostic(
        severity=str(raw.get("severity", "error")),
        summary=str(raw.get("summary", "")),
        detail=str(raw.get("detail", "")),
        address=str(raw.get("address", "")),
    )


class Terraform:
    """``terraform -chdir=<dir> ...`` with the automation environment set."""

    def __init__(
        self, *, directory: Path, environ: Mapping[str, str], binary: str | None = None
    ) -> None:
        found = binary or shutil.which("terraform", path=environ.get("PATH"))
        if found is None:
            raise FactoryError(
                "terraform is not installed on this runner.",
                title="terraform not found",
                fix="Add `hashicorp/setup-terraform` (pinned by SHA) before this step, with the "
                "version your configuration needs.",
                reason="terraform-unavailable",
            )
        self.binary = found
        self.directory = directory
        self.env = {
            **environ,
            # Plain, non-interactive output that does not suggest commands to type.
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": environ.get("CHECKPOINT_DISABLE", "1"),
        }

    def run(self, *args: str, json_lines: bool = False, echo: bool = True) -> Result:
        argv = [self.binary, f"-chdir={self.directory}", *args]
        started = time.monotonic()
        done = subprocess.run(
            argv, env=self.env, capture_output=True, text=True, check=False,
        )
        result = Result(tuple(args), done.returncode, done.stdout, done.stderr)
        if json_lines:
            self._read_json_lines(result, echo=echo)
        elif echo:
            runner.info((done.stdout + done.stderr).rstrip())
        runner.info(f"terraform {args[0]} exited {done.returncode} after "
                    f"{time.monotonic() - started:.1f}s")
        return result

    @staticmethod
    def _read_json_lines(result: Result, *, echo: bool) -> None:
        for line in result.stdout.splitlines():
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                if echo and line.strip():
                    runner.info(line)
                continue
            if not isinstance(message, dict):
                continue
            result.messages.append(message)
            if message.get("type") == "diagnostic" and isinstance(message.get("diagnostic"), dict):
                result.diagnostics.append(_diagnostic(message["diagnostic"]))
            if echo and message.get("@message"):
                runner.info(str(message["@message"]))
        if echo and result.stderr.strip():
            runner.info(result.stderr.rstrip())

    def validate(self) -> Result:
        """``terraform validate -json`` prints one JSON document (not JSON lines)."""
        result = self.run("validate", "-json", "-no-color", echo=False)
        try:
            document = json.loads(result.stdout or "{}")
        except json.JSONDecodeError:
            document = {}
        result.diagnostics = [_diagnostic(d) for d in document.get("diagnostics", [])]
        for diagnostic in result.diagnostics:
            runner.info(diagnostic.text())
        return result

    def version(self) -> str:
        result = self.run("version", "-json", echo=False)
        try:
            return str(json.loads(result.stdout)["terraform_version"])
        except (json.JSONDecodeError, KeyError):
            found = re.search(r"v(\d+\.\d+\.\d+)", result.stdout)
            return found.group(1) if found else ""

    def show_json(self, plan_file: Path) -> dict[str, Any]:
        result = self.run("show", "-json", "-no-color", str(plan_file), echo=False)
        if result.returncode != 0:
            raise FactoryError(
                f"terraform show -json failed: {result.error_text()}",
                title="Could not read the plan",
                fix="See the terraform error above; the plan file may be from another version.",
                reason="plan-failed",
            )
        plan: dict[str, Any] = json.loads(result.stdout)
        return plan

    def show_text(self, plan_file: Path) -> str:
        """The plan as terraform renders it for people (sensitive values already redacted)."""
        result = self.run("show", "-no-color", str(plan_file), echo=False)
        return result.stdout if result.returncode == 0 else ""


def check_version(installed: str, wanted: str) -> None:
    """``wanted`` (``1.11`` or ``1.11.4``) must name the installed version or its series."""
    if not wanted:
        return
    if installed == wanted or installed.startswith(wanted + "."):
        return
    raise FactoryError(
        f"terraform {installed or '(unknown version)'} is installed, but `terraform-version` "
        f"asks for {wanted}.",
        title="terraform version mismatch",
        fix=f"Install terraform {wanted} before this step (`hashicorp/setup-terraform` with "
        f"`terraform_version: {wanted}`), or change `terraform-version`.",
        reason="terraform-unavailable",
    )


def var_file_args(files: Sequence[str]) -> list[str]:
    return [f"-var-file={name}" for name in files]
