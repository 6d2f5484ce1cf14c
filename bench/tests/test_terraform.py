"""The bench's Terraform helpers: finding the provider mirror, the offline CLI config, and the
provider override that sends every call to moto."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factory_bench import terraform as tf


def make_mirror(root: Path) -> Path:
    (root / "registry.terraform.io" / "hashicorp" / "aws" / "5.100.0").mkdir(parents=True)
    return root


def test_mirror_from_environment(tmp_path: Path) -> None:
    """An explicit HOOPSTAT_TF_PLUGIN_MIRROR holding hashicorp/aws is used as is."""
    mirror = make_mirror(tmp_path / "mirror")
    assert tf.find_plugin_mirror({tf.MIRROR_ENV: str(mirror)}) == mirror


def test_mirror_without_the_aws_provider_is_refused(tmp_path: Path) -> None:
    """A configured directory that holds no hashicorp/aws is not a mirror (init would fail)."""
    (tmp_path / "empty").mkdir()
    assert tf.find_plugin_mirror({tf.MIRROR_ENV: str(tmp_path / "empty")}) is None


def test_cli_config_installs_only_from_the_mirror(tmp_path: Path) -> None:
    """The CLI config reads registry providers from the mirror and excludes them from direct."""
    env = tf.terraform_env(mirror=Path("/opt/tf-plugins"), config_dir=tmp_path)
    text = Path(env["TF_CLI_CONFIG_FILE"]).read_text()
    assert 'path    = "/opt/tf-plugins"' in text
    assert 'exclude = ["registry.terraform.io/*/*"]' in text
    assert env["CHECKPOINT_DISABLE"] == "1"


def test_override_covers_every_aws_provider_block(tmp_path: Path) -> None:
    """Each provider "aws" block (default and aliased) gets moto endpoints, keys and few retries."""
    (tmp_path / "main.tf").write_text(
        'provider "aws" {\n  region = "us-east-1"\n}\n\n'
        'provider "aws" {\n  alias  = "replica"\n  region = "us-west-2"\n}\n'
    )
    path = tf.write_moto_override(
        tmp_path, moto_url="http://127.0.0.1:5000",
        credentials=tf.Credentials("AKID", "SECRET", "TOKEN"),
    )
    text = path.read_text()
    assert path.name.endswith("_override.tf")
    assert text.count('provider "aws" {') == 2
    assert 'alias = "replica"' in text
    assert text.count('token                       = "TOKEN"') == 2
    assert text.count("max_retries                 = 2") == 2
    for service in tf.SERVICES:
        assert f'{service} = "http://127.0.0.1:5000"' in text
    # Only real provider blocks count: an override file is never merged into itself.
    assert tf.provider_aliases(tmp_path) == [None, "replica"]


def test_override_needs_a_provider_block(tmp_path: Path) -> None:
    """A root module without provider "aws" cannot be pointed at moto: said plainly."""
    (tmp_path / "main.tf").write_text('module "x" {\n  source = "./x"\n}\n')
    with pytest.raises(tf.TerraformError, match='declares no provider "aws"'):
        tf.write_moto_override(tmp_path, moto_url="http://127.0.0.1:5000")


def test_endpoints_can_reach_the_provider_through_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """endpoints_in_env: the override keeps keys, skips and retries but no endpoints block, and
    terraform runs with AWS_ENDPOINT_URL at moto; a host's service-specific endpoint (which
    would win over it) is dropped. The default still writes the block and sets no variable."""
    (tmp_path / "src" / "root").mkdir(parents=True)
    (tmp_path / "src" / "root" / "main.tf").write_text('provider "aws" {\n  region = "x"\n}\n')
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://elsewhere.example")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "https://s3.elsewhere.example")
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    moto = "http://127.0.0.1:5000"

    in_env = tf.Workspace.prepare(
        source_tree=tmp_path / "src", root_in_tree="root", workdir=tmp_path / "env",
        moto_url=moto, mirror=tmp_path / "mirror", endpoints_in_env=True,
    )
    text = (in_env.root / tf.OVERRIDE_FILE).read_text()
    assert "endpoints {" not in text
    assert 'access_key                  = "testing"' in text
    assert "max_retries                 = 2" in text and "s3_use_path_style" in text
    assert in_env.env["AWS_ENDPOINT_URL"] == moto
    assert not [k for k in in_env.env if k.startswith("AWS_ENDPOINT_URL_")]
    assert "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" not in in_env.env

    block = tf.Workspace.prepare(
        source_tree=tmp_path / "src", root_in_tree="root", workdir=tmp_path / "block",
        moto_url=moto, mirror=tmp_path / "mirror",
    )
    text = (block.root / tf.OVERRIDE_FILE).read_text()
    for service in tf.SERVICES:
        assert f'{service} = "{moto}"' in text
    assert "AWS_ENDPOINT_URL" not in block.env
    assert not [k for k in block.env if k.startswith("AWS_ENDPOINT_URL_")]


def test_applied_outputs_come_from_the_local_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an apply, the outputs are read from the local state file (format 4) as
    `terraform output -json` would print them; without one, terraform is asked."""
    workspace = tf.Workspace(root=tmp_path, env={})
    asked: list[str] = []

    def outputs(self: tf.Workspace) -> dict[str, object]:
        asked.append("output")
        return {"from": "terraform"}

    monkeypatch.setattr(tf.Workspace, "outputs", outputs)
    assert workspace.applied_outputs() == {"from": "terraform"}
    (tmp_path / "terraform.tfstate").write_text(json.dumps({
        "version": 4, "outputs": {"name": {"value": "hello", "type": "string"},
                                  "ids": {"value": ["a", "b"], "type": ["list", "string"]}}}))
    assert workspace.applied_outputs() == {"name": "hello", "ids": ["a", "b"]}
    assert asked == ["output"]
