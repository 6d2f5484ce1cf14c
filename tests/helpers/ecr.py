"""Helpers for running ecr-push in-process against the bench (moto + registry + buildah)."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from action_scripts import ecr_push
from factory_bench.stack import Bench


@dataclass
class PushRun:
    code: int
    outputs: dict[str, str]
    log: str
    summary: str
    # The bench registry's log tail when the push failed: why an image never reached ECR.
    bench_log: str = ""


def read_outputs(path: Path) -> dict[str, str]:
    """Parse a $GITHUB_OUTPUT file written with heredoc delimiters."""
    outputs: dict[str, str] = {}
    text = path.read_text() if path.exists() else ""
    for match in re.finditer(r"^([\w-]+)<<(\S+)\n(.*?)\n\2$", text, re.M | re.S):
        outputs[match.group(1)] = match.group(3)
    return outputs


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def git_sha() -> str:
    return secrets.token_hex(20)


def run_push(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    *,
    bench: Bench,
    registry_url: str,
    workspace: Path,
    registry_log: Any = None,
    inputs: dict[str, str],
    sha: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> PushRun:
    """Run ecr-push's main() with INPUT_* set as the composite action would set them."""
    run_dir = tmp_path / secrets.token_hex(3)
    run_dir.mkdir()
    env = {
        **bench.admin_env(),
        "GITHUB_OUTPUT": str(run_dir / "output"),
        "GITHUB_STEP_SUMMARY": str(run_dir / "summary"),
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_SHA": sha or git_sha(),
        "GITHUB_REPOSITORY": "hoopstat-haus/demo-app",
        "GITHUB_SERVER_URL": "https://github.com",
        "RUNNER_TEMP": str(run_dir),
        "HOOPSTAT_FACTORY_REGISTRY_ENDPOINT": registry_url,
        **(extra_env or {}),
    }
    for key in list(__import__("os").environ):
        if key.startswith("INPUT_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    defaults = {"builder": "buildah"}
    for name, value in {**defaults, **inputs}.items():
        monkeypatch.setenv("INPUT_" + name.upper().replace("-", "_"), value)
    capsys.readouterr()
    code = ecr_push.main()
    log = capsys.readouterr().out
    summary_path = run_dir / "summary"
    return PushRun(code, read_outputs(run_dir / "output"), log,
                   summary_path.read_text() if summary_path.exists() else "",
                   registry_log() if code and registry_log else "")


def skopeo_inspect(reference: str, *, username: str, password: str, raw: bool = False) -> Any:
    argv = ["skopeo", "inspect", "--tls-verify=false", "--creds", f"{username}:{password}"]
    if raw:
        argv.append("--raw")
    done = subprocess.run([*argv, f"docker://{reference}"], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)
