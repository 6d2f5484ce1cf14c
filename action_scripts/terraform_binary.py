"""Running the terraform binary: one subprocess per command, machine-readable output when offered.

``plan``, ``apply`` and ``validate`` run with ``-json`` so their errors arrive as structured
diagnostics (a held state lock is recognised from its diagnostic, not from scraping the text),
and the human-readable messages are still echoed to the log.

Terraform runs the repository's code (on a pull request: the PR's code), so it gets an
allow-listed environment (:func:`terraform_environment`): what terraform and the AWS provider
read, never ``INPUT_*`` (the action's inputs, a GitHub token among them), ``GITHUB_*`` or
``ACTIONS_*`` (the runner's tokens). What it prints is scrubbed of secrets before it is echoed.
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
from action_scripts.terraform_scrub import known_secrets, scrub

VERSION_PATTERN = re.compile(r"\d+\.\d+(?:\.\d+)?")
VERSION_EXPECTED = "a terraform version such as `1.11` or `1.11.4`"

# What terraform and the AWS provider read; everything else stays with the action.
ENV_NAMES = frozenset({
    "PATH", "HOME", "TMPDIR", "TEMP", "TMP", "LANG", "LANGUAGE", "TZ", "USER", "LOGNAME",
    "CHECKPOINT_DISABLE", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy",
    "https_proxy", "no_proxy", "all_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR",
})
ENV_PREFIXES = ("TF_", "AWS_", "LC_")


def terraform_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The allow-listed environment terraform runs with (plus the automation settings)."""
    kept = {k: v for k, v in environ.items() if k in ENV_NAMES or k.startswith(ENV_PREFIXES)}
    return {
        **kept,
        # Plain, non-interactive output that does not suggest commands to type.
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": environ.get("CHECKPOINT_DISABLE", "1"),
    }


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
        self.env = terraform_environment(environ)
        self.secrets = known_secrets(environ)

    def scrub(self, text: str) -> str:
        """``text`` without the secrets this process knows or that look like secrets."""
        return scrub(text, self.secrets)

    def run(self, *args: str, json_lines: bool = False, echo: bool = True,
            raw: bool = False) -> Result:
        """Run one command; its output is scrubbed of secrets unless ``raw`` (never echoed)."""
        argv = [self.binary, f"-chdir={self.directory}", *args]
        started = time.monotonic()
        done = subprocess.run(
            argv, env=self.env, capture_output=True, text=True, check=False,
        )
        clean = (lambda text: text) if raw else self.scrub
        result = Result(tuple(args), done.returncode, clean(done.stdout), clean(done.stderr))
        if json_lines:
            self._read_json_lines(result, echo=echo)
        elif echo:
            runner.info((result.stdout + result.stderr).rstrip())
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
        # Raw: the plan hash must see every value (a scrubbed one would hide a change).
        result = self.run("show", "-json", "-no-color", str(plan_file), echo=False, raw=True)
        if result.returncode != 0:
            raise FactoryError(
                f"terraform show -json failed: {self.scrub(result.error_text())}",
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
