"""Terraform against the bench: an offline provider mirror, and the AWS provider pointed at moto.

The machine has no route to registry.terraform.io, so the hashicorp/aws provider comes from a
local filesystem mirror (``$HOOPSTAT_TF_PLUGIN_MIRROR``, else discovered the way ``.ci/run``
does). :func:`terraform_env` writes a CLI config that installs only from that mirror and turns
off the version checkpoint. :func:`write_moto_override` drops a ``*_override.tf`` file into a
root module that merges into each of its ``provider "aws"`` blocks: every service endpoint at the
moto server, fake keys, the skip_* flags, path-style S3, and ``max_retries = 2`` (an
unimplemented moto call answers 500, and the SDK's default retries would stall for minutes).

``endpoints_in_env=True`` sends the calls to moto through ``AWS_ENDPOINT_URL`` (every service,
listed or not) instead of the ``endpoints`` block: hashicorp/aws 5.x validates that block (a few
hundred attributes) for ~3 s of CPU each time a provider process is configured, twice per apply
(plan and apply), which is a third of a small apply against moto.

:class:`Workspace` runs init / apply / ``plan -detailed-exitcode`` / destroy in a copy of the
tree, so applies never write ``.terraform`` or state into the checkout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

MIRROR_ENV = "HOOPSTAT_TF_PLUGIN_MIRROR"
MIRROR_DIR_NAME = "tf-plugins"
# The provider a mirror must hold to be useful to the suite's modules.
AWS_PROVIDER_DIR = Path("registry.terraform.io") / "hashicorp" / "aws"

# Every service the suite's modules use. An endpoint left out would send that call to real AWS
# (and fail slowly without internet), so a new service in a module must be added here.
SERVICES = (
    "budgets", "cloudwatch", "ecr", "iam", "kms", "lambda", "logs", "s3", "secretsmanager",
    "sns", "sqs", "sts",
)

OVERRIDE_FILE = "zz_bench_moto_override.tf"
# The bench's moto accepts any static key; these never reach real AWS.
FAKE_ACCESS_KEY = "testing"
FAKE_SECRET_KEY = "testing"

_PROVIDER_BLOCK = re.compile(r'^provider\s+"aws"\s*\{(?P<body>.*?)^\}', re.MULTILINE | re.DOTALL)
_ALIAS = re.compile(r'^\s*alias\s*=\s*"(?P<alias>[\w-]+)"', re.MULTILINE)


class TerraformError(RuntimeError):
    """A terraform command failed; the message carries its output."""


def _holds_aws_provider(path: Path) -> bool:
    return (path / AWS_PROVIDER_DIR).is_dir()


def find_plugin_mirror(environ: dict[str, str] | None = None) -> Path | None:
    """The provider mirror: ``$HOOPSTAT_TF_PLUGIN_MIRROR`` if set, else a ``tf-plugins`` directory
    at most three levels below ``/`` (what ``find / -maxdepth 3 -name tf-plugins`` finds).

    A mirror that does not hold hashicorp/aws is ignored: init would fail on it anyway.
    """
    env = os.environ if environ is None else environ
    explicit = env.get(MIRROR_ENV, "")
    if explicit:
        path = Path(explicit)
        return path if _holds_aws_provider(path) else None
    root = Path("/")
    for pattern in (MIRROR_DIR_NAME, f"*/{MIRROR_DIR_NAME}", f"*/*/{MIRROR_DIR_NAME}"):
        for candidate in sorted(root.glob(pattern)):
            if not str(candidate).startswith("/proc/") and _holds_aws_provider(candidate):
                return candidate
    return None


def cli_config(mirror: Path) -> str:
    """A CLI config that installs registry providers only from ``mirror``, never the network."""
    return (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(mirror))}\n"
        '    include = ["registry.terraform.io/*/*"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/*/*"]\n'
        "  }\n"
        "}\n"
    )


def terraform_env(*, mirror: Path, config_dir: Path) -> dict[str, str]:
    """Variables that make terraform use the mirror and stay offline (write the CLI config)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    config = config_dir / "terraform.rc"
    config.write_text(cli_config(mirror))
    return {
        "TF_CLI_CONFIG_FILE": str(config),
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
    }


def provider_aliases(root: Path) -> list[str | None]:
    """The ``provider "aws"`` configurations a root module declares (``None`` = the default)."""
    found: list[str | None] = []
    for path in sorted(root.glob("*.tf")):
        if path.name.endswith("_override.tf"):
            continue
        for block in _PROVIDER_BLOCK.finditer(path.read_text()):
            alias = _ALIAS.search(block.group("body"))
            found.append(alias.group("alias") if alias else None)
    return found


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None


FAKE_CREDENTIALS = Credentials(FAKE_ACCESS_KEY, FAKE_SECRET_KEY)


def account_credentials(*, moto_url: str, account_id: str, region: str) -> Credentials:
    """Credentials that act in ``account_id`` on the bench's moto.

    moto runs every call made with AssumeRole credentials in the role's account, whether or not
    the role exists. A test that applies account-wide resources (GitHub's OIDC provider: one per
    account and issuer) in its own account cannot collide with other tests sharing the server.
    """
    import boto3

    sts = boto3.session.Session(
        aws_access_key_id=FAKE_ACCESS_KEY, aws_secret_access_key=FAKE_SECRET_KEY,
        region_name=region,
    ).client("sts", endpoint_url=moto_url)
    found = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/bench-terraform",
        RoleSessionName="bench-terraform",
    )["Credentials"]
    return Credentials(
        str(found["AccessKeyId"]), str(found["SecretAccessKey"]), str(found["SessionToken"])
    )


def moto_override(
    *, moto_url: str, aliases: list[str | None], credentials: Credentials = FAKE_CREDENTIALS,
    endpoints_block: bool = True,
) -> str:
    """HCL merged into each listed ``provider "aws"`` block to send every call to moto.

    ``endpoints_block=False`` leaves the endpoints out: the caller then runs terraform with
    :func:`endpoint_env` (see ``Workspace.prepare(endpoints_in_env=True)``).
    """
    token_line = (
        f"  token                       = {json.dumps(credentials.token)}\n"
        if credentials.token else ""
    )
    endpoints = "\n".join(f"    {service} = {json.dumps(moto_url)}" for service in SERVICES)
    endpoints_lines = f"  endpoints {{\n{endpoints}\n  }}\n" if endpoints_block else ""
    blocks = []
    for alias in aliases:
        alias_line = f"  alias = {json.dumps(alias)}\n" if alias else ""
        blocks.append(
            'provider "aws" {\n'
            f"{alias_line}"
            f"  access_key                  = {json.dumps(credentials.access_key)}\n"
            f"  secret_key                  = {json.dumps(credentials.secret_key)}\n"
            f"{token_line}"
            "  skip_credentials_validation = true\n"
            "  skip_metadata_api_check     = true\n"
            "  skip_region_validation      = true\n"
            "  skip_requesting_account_id  = false\n"
            "  s3_use_path_style           = true\n"
            "  max_retries                 = 2\n"
            f"{endpoints_lines}"
            "}\n"
        )
    header = "# Written by bench/factory_bench/terraform.py: the bench's moto stands in for AWS.\n"
    return header + "\n".join(blocks)


def endpoint_env(moto_url: str) -> dict[str, str]:
    """Environment that sends every AWS service the provider calls to moto (the AWS SDKs'
    ``AWS_ENDPOINT_URL``; a service-specific variable would win over it, so none may be left)."""
    return {"AWS_ENDPOINT_URL": moto_url}


def write_moto_override(
    root: Path, *, moto_url: str, credentials: Credentials = FAKE_CREDENTIALS,
    endpoints_block: bool = True,
) -> Path:
    aliases = provider_aliases(root)
    if not aliases:
        raise TerraformError(
            f"{root} declares no provider \"aws\" block; an override needs one to merge into"
        )
    path = root / OVERRIDE_FILE
    path.write_text(moto_override(moto_url=moto_url, aliases=aliases, credentials=credentials,
                                  endpoints_block=endpoints_block))
    return path


@dataclass
class Workspace:
    """A root module copied out of the checkout, ready to run against the bench's moto."""

    root: Path
    env: dict[str, str]
    terraform: str = "terraform"
    log: list[str] = field(default_factory=list)
    # (subcommand, seconds) of every terraform command run, in order: where an apply's time went.
    seconds: list[tuple[str, float]] = field(default_factory=list)

    @classmethod
    def prepare(
        cls,
        *,
        source_tree: Path,
        root_in_tree: str,
        workdir: Path,
        moto_url: str,
        mirror: Path,
        credentials: Credentials = FAKE_CREDENTIALS,
        terraform: str = "terraform",
        endpoints_in_env: bool = False,
    ) -> Workspace:
        """Copy ``source_tree`` (so relative module sources resolve) and point it at moto.

        ``endpoints_in_env``: moto's URL reaches the provider as ``AWS_ENDPOINT_URL`` rather than
        an ``endpoints`` block (same calls to the same server, ~3 s less per provider configure).
        """
        copy = workdir / source_tree.name
        shutil.copytree(
            source_tree, copy,
            ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", ".terraform.lock.hcl"),
        )
        root = copy / root_in_tree
        write_moto_override(root, moto_url=moto_url, credentials=credentials,
                            endpoints_block=not endpoints_in_env)
        env = {
            **os.environ,
            **terraform_env(mirror=mirror, config_dir=workdir / "cli"),
            "TF_DATA_DIR": str(workdir / "tf-data"),
            # The provider also reads these; keep real credentials on the host out of it.
            "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        for leaked in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL",
                       "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
            env.pop(leaked, None)
        for name in [name for name in env if name.startswith("AWS_ENDPOINT_URL_")]:
            env.pop(name)  # a host's service-specific endpoint would win over moto's
        if endpoints_in_env:
            env.update(endpoint_env(moto_url))
        return cls(root=root, env=env, terraform=terraform)

    def run(self, *args: str, ok_codes: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        done = subprocess.run(
            [self.terraform, f"-chdir={self.root}", *args],
            env=self.env, capture_output=True, text=True, check=False,
        )
        self.seconds.append((args[0] if args else "", time.monotonic() - started))
        self.log.append(f"$ terraform {' '.join(args)}\n{done.stdout}{done.stderr}")
        if done.returncode not in ok_codes:
            raise TerraformError(
                f"terraform {' '.join(args)} exited {done.returncode}:\n"
                f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            )
        return done

    def init(self) -> None:
        self.run("init", "-backend=false", "-no-color")

    def _var_args(self, variables: dict[str, str] | None) -> list[str]:
        return [f"-var={name}={value}" for name, value in (variables or {}).items()]

    def apply(self, *, variables: dict[str, str] | None = None) -> None:
        self.run("apply", "-auto-approve", "-no-color", *self._var_args(variables))

    def plan_changes(self, *, variables: dict[str, str] | None = None) -> str | None:
        """``None`` when a fresh plan shows no changes; otherwise the plan's text."""
        done = self.run(
            "plan", "-detailed-exitcode", "-no-color", "-input=false",
            *self._var_args(variables), ok_codes=(0, 2),
        )
        return None if done.returncode == 0 else done.stdout

    def destroy(self, *, variables: dict[str, str] | None = None) -> None:
        self.run("destroy", "-auto-approve", "-no-color", *self._var_args(variables))

    def outputs(self) -> dict[str, object]:
        done = self.run("output", "-json")
        raw: dict[str, dict[str, object]] = json.loads(done.stdout or "{}")
        return {name: item.get("value") for name, item in raw.items()}

    def applied_outputs(self) -> dict[str, object]:
        """The root module's outputs as the last apply wrote them to the local state (what
        ``terraform output -json`` prints), without another terraform process (~0.6-1 s: each
        command re-hashes the 700 MB provider against the lock file). Falls back to
        :meth:`outputs` when there is no local state file in format 4."""
        state = self.root / "terraform.tfstate"
        if state.is_file():
            raw = json.loads(state.read_text())
            if raw.get("version") == 4:
                found: dict[str, dict[str, object]] = raw.get("outputs") or {}
                return {name: item.get("value") for name, item in found.items()}
        return self.outputs()

    def state_addresses(self) -> list[str]:
        done = self.run("state", "list", ok_codes=(0, 1))
        return [line for line in done.stdout.splitlines() if line.strip()]
