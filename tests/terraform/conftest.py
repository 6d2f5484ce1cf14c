"""Fixtures for applying the suite's Terraform examples against the bench's moto."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from factory_bench import terraform as tf
from factory_bench.stack import Bench
from factory_bench.testing import need_tool
from tests.helpers.terraform_examples import TERRAFORM_DIR, Applied


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    return need_tool("terraform", install_hint="terraform >= 1.6 from releases.hashicorp.com")


@pytest.fixture(scope="session")
def plugin_mirror() -> Path:
    """The offline provider mirror; skip (fail under CI) when there is none."""
    mirror = tf.find_plugin_mirror()
    if mirror is None:
        message = (
            f"no Terraform provider mirror holding hashicorp/aws: set {tf.MIRROR_ENV} or put one "
            "at /opt/tf-plugins (terraform providers mirror /opt/tf-plugins)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; .ci/run should have provided it")
        pytest.skip(message)
    return mirror






def fresh_account() -> str:
    # Each example gets its own account: account-wide resources (GitHub's OIDC provider) cannot
    # collide with other tests on the shared moto server.
    return str(210_000_000_000 + uuid.uuid4().int % 1_000_000_000)




@pytest.fixture
def apply_example(
    bench: Bench, tmp_path: Path, terraform_bin: str, plugin_mirror: Path
) -> Iterator[Callable[[str, dict[str, str]], Applied]]:
    """Apply ``terraform/examples/<name>`` in a fresh account; destroy whatever is left after."""
    applied: list[Applied] = []

    def apply(example: str, variables: dict[str, str]) -> Applied:
        account = fresh_account()
        credentials = tf.account_credentials(
            moto_url=bench.moto_url, account_id=account, region=bench.region
        )
        workspace = tf.Workspace.prepare(
            source_tree=TERRAFORM_DIR, root_in_tree=f"examples/{example}",
            workdir=tmp_path / example, moto_url=bench.moto_url, mirror=plugin_mirror,
            credentials=credentials, terraform=terraform_bin,
            # moto's URL as AWS_ENDPOINT_URL: every service (SQS, the dead-letter queue's, too),
            # and ~3 s less per provider configure than an endpoints block.
            endpoints_in_env=True,
        )
        workspace.init()
        result = Applied(workspace, account, credentials, bench.moto_url, variables)
        applied.append(result)
        workspace.apply(variables=variables)
        return result

    yield apply
    for result in applied:
        # A test that failed before its own destroy must not leave resources for the next run.
        if result.workspace.state_addresses():
            result.workspace.destroy(variables=result.variables)
