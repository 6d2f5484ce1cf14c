"""App repositories for the terraform action's tests: files, state bucket, FAKE GitHub."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from factory_bench import terraform as bench_tf
from factory_bench.stack import Bench
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
    override = bench_tf.moto_override(moto_url=bench.moto_url, aliases=[None])
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


def seed_pull(bench: Bench, repo: str, number: int, *, merge_sha: str) -> None:
    request = urllib.request.Request(
        f"{bench.github_api_url}/_fake/pulls", method="POST",
        data=json.dumps({"repo": repo, "number": number, "state": "closed",
                         "merge_commit_sha": merge_sha, "head_sha": "1" * 40}).encode(),
        headers={"Authorization": f"token {bench.github_token}",
                 "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5):
        pass


def fake_github_state(bench: Bench) -> dict[str, Any]:
    with urllib.request.urlopen(f"{bench.github_api_url}/_fake/state", timeout=5) as response:
        state: dict[str, Any] = json.loads(response.read())
    return state
