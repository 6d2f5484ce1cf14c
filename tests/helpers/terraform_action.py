"""App repositories for the terraform action's tests: files, state bucket, FAKE GitHub."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from factory_bench import terraform as bench_tf
from factory_bench.stack import Bench
from factory_bench.testing import need_tool
from tests.helpers import SUITE_DIR

FIXTURE = SUITE_DIR / "tests" / "fixtures" / "terraform" / "basic"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def backend_config(*, bucket: str, key: str, moto_url: str) -> str:
    """An S3 backend on moto with terraform's native lockfile locking."""
    return (
        f'bucket                      = "{bucket}"\n'
        f'key                         = "{key}"\n'
        'region                      = "us-east-1"\n'
        "use_lockfile                = true\n"
        "use_path_style              = true\n"
        "skip_credentials_validation = true\n"
        "skip_requesting_account_id  = true\n"
        "skip_metadata_api_check     = true\n"
        f'endpoints = {{ s3 = "{moto_url}", sts = "{moto_url}" }}\n'
    )


def tfvars(*, name: str, setting: str = "v1", keep_data_bucket: bool = True) -> str:
    return (f'name             = "{name}"\nsetting          = "{setting}"\n'
            f"keep_data_bucket = {'true' if keep_data_bucket else 'false'}\n")


def app_files(bench: Bench, *, name: str, state_bucket: str, directory: str = "infra",
              setting: str = "v1", keep_data_bucket: bool = True) -> dict[str, str]:
    """The app repo's Terraform files: the fixture, the bench's moto override, backend, vars."""
    files = {f"{directory}/{p.name}": p.read_text() for p in FIXTURE.glob("*.tf")}
    # The steps' AWS_ENDPOINT_URL (bench.aws_env) sends every call to moto: no endpoints block.
    override = bench_tf.moto_override(moto_url=bench.moto_url, aliases=[None],
                                      endpoints_block=False)
    files[f"{directory}/{bench_tf.OVERRIDE_FILE}"] = format_hcl(override)
    files[f"{directory}/backend.s3.tfbackend"] = backend_config(
        bucket=state_bucket, key=f"{name}/terraform.tfstate", moto_url=bench.moto_url)
    files[f"{directory}/app.tfvars"] = tfvars(name=name, setting=setting,
                                              keep_data_bucket=keep_data_bucket)
    return files


def format_hcl(text: str) -> str:
    """The bench's override is generated unaligned; the action's `fmt -check` would refuse it."""
    done = subprocess.run(["terraform", "fmt", "-"], input=text, capture_output=True, text=True,
                          check=True)
    return done.stdout


def write_files(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def terraform_env(tmp: Path) -> dict[str, str]:
    mirror = bench_tf.find_plugin_mirror()
    if mirror is None:
        pytest.skip("no terraform provider mirror holding hashicorp/aws "
                    "(set HOOPSTAT_TF_PLUGIN_MIRROR)")
    return bench_tf.terraform_env(mirror=mirror, config_dir=tmp / "tf-cli")


def apply_directly(bench: Bench, tmp: Path, files: dict[str, str], *,
                   directory: str = "infra") -> None:
    """Apply the app's configuration with plain terraform (test setup, not the action)."""
    root = tmp / "direct-apply"
    shutil.rmtree(root, ignore_errors=True)
    write_files(root, files)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp), **bench.admin_env(),
           **terraform_env(tmp), "TF_DATA_DIR": str(tmp / "direct-apply-data")}
    for args in (["init", "-backend-config=backend.s3.tfbackend"],
                 ["apply", "-auto-approve", "-var-file=app.tfvars"]):
        subprocess.run(["terraform", f"-chdir={root / directory}", *args, "-input=false",
                        "-no-color"], env=env, check=True, capture_output=True, text=True)


def state_bucket(bench: Bench) -> str:
    name = unique("tfstate")
    bench.admin_client("s3").create_bucket(Bucket=name)
    return name


def fake_api(bench: Bench, method: str, path: str, body: dict[str, Any] | None = None, *,
             token: str | None = None) -> Any:
    """One call to the FAKE GitHub API (as the workflow bot unless ``token`` says otherwise)."""
    request = urllib.request.Request(
        f"{bench.github_api_url}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"token {token or bench.github_token}",
                 "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def seed_pull(bench: Bench, repo: str, number: int, *, merge_sha: str,
              head_sha: str = "1" * 40, merged: bool = True) -> None:
    fake_api(bench, "POST", "/_fake/pulls", {
        "repo": repo, "number": number, "state": "closed" if merged else "open",
        "merged": merged, "merge_commit_sha": merge_sha, "head_sha": head_sha})


def fake_account(bench: Bench, login: str, *, kind: str = "Bot", user_id: int = 29139614) -> str:
    """A token of another account on the FAKE GitHub API (e.g. ``renovate[bot]``, a person)."""
    token = f"fake-{uuid.uuid4().hex}"
    fake_api(bench, "POST", "/_fake/tokens",
             {"token": token, "login": login, "type": kind, "id": user_id})
    return token


def parse_outputs(text: str) -> dict[str, str]:
    outputs: dict[str, str] = {}
    for match in re.finditer(r"^([\w-]+)<<(\S+)\n(.*?)\n\2$", text, re.MULTILINE | re.DOTALL):
        outputs[match.group(1)] = match.group(3)
    return outputs


@dataclass
class ActionRun:
    returncode: int
    log: str
    outputs: dict[str, str]
    summary: str


class ActionRunner:
    """Runs the action as a subprocess in one app workspace, as a runner step would."""

    def __init__(self, bench: Bench, tmp: Path, *, repository: str = "hoopstat-haus/tf-app"):
        need_tool("terraform", install_hint="terraform 1.11 from the HashiCorp apt repo")
        self.bench = bench
        self.tmp = tmp
        self.workspace = tmp / "workspace"
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.repository = repository
        self.tf_env = terraform_env(tmp)
        self.runs = 0

    def run(self, inputs: dict[str, str], *, event_name: str = "push",
            event: dict[str, Any] | None = None, sha: str = "f" * 40,
            extra_env: dict[str, str] | None = None, aws: bool = True) -> ActionRun:
        self.runs += 1
        step = self.tmp / f"step-{self.runs}"
        step.mkdir()
        (step / "event.json").write_text(json.dumps(event or {}))
        env = {
            "PATH": os.environ["PATH"], "HOME": str(step),
            **(self.bench.admin_env() if aws else {}), **self.tf_env,
            "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_REPOSITORY": self.repository, "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(step / "event.json"), "GITHUB_SHA": sha,
            "GITHUB_RUN_ID": str(self.runs), "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_API_URL": self.bench.github_api_url,
            "GITHUB_OUTPUT": str(step / "output"), "GITHUB_STEP_SUMMARY": str(step / "summary"),
            "RUNNER_TEMP": str(step / "runner-temp"),
            **{"INPUT_" + k.upper().replace("-", "_"): v for k, v in inputs.items()},
            **(extra_env or {}),
        }
        (step / "runner-temp").mkdir()
        done = subprocess.run([sys.executable, "-m", "action_scripts.terraform"], cwd=SUITE_DIR,
                              env=env, capture_output=True, text=True, timeout=300, check=False)
        output = step / "output"
        summary = step / "summary"
        return ActionRun(
            returncode=done.returncode, log=done.stdout + done.stderr,
            outputs=parse_outputs(output.read_text()) if output.exists() else {},
            summary=summary.read_text() if summary.exists() else "",
        )


def fake_github_state(bench: Bench) -> dict[str, Any]:
    with urllib.request.urlopen(f"{bench.github_api_url}/_fake/state", timeout=5) as response:
        state: dict[str, Any] = json.loads(response.read())
    return state


def pr_event(number: int, head: str = "e" * 40) -> dict[str, Any]:
    return {"pull_request": {"number": number, "head": {"sha": head}}}


def review(action: ActionRunner, inputs: dict[str, str], *, number: int,
           head: str = "e" * 40) -> str:
    """The PR flow as the reusable workflow runs it: plan (no token, AWS), then comment (token,
    no AWS), then the PR merged; returns the merge commit's SHA."""
    plan_inputs = {k: v for k, v in inputs.items() if k != "github-token"}
    planned = action.run({**plan_inputs, "command": "plan"}, event_name="pull_request",
                         event=pr_event(number, head))
    assert planned.returncode == 0, planned.log
    posted = action.run({"command": "comment", "working-directory": inputs["working-directory"],
                         "github-token": action.bench.github_token,
                         "plan-comment": planned.outputs["plan-comment"]},
                        event_name="pull_request", event=pr_event(number, head), aws=False)
    assert posted.returncode == 0, posted.log
    merge_sha = uuid.uuid4().hex + uuid.uuid4().hex[:8]
    seed_pull(action.bench, action.repository, number, merge_sha=merge_sha, head_sha=head)
    return merge_sha
