"""Strict inputs (issue 16.5): ASCII-only names and paths that stay inside the workspace.

Each bad input must fail with an ``::error`` naming it before anything is called: the actions
run with ``AWS_ENDPOINT_URL`` on the bench's fault proxy, whose log shows no call reached AWS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from action_scripts import changed_apps, ecr_push, lambda_deploy, oidc_login, runner, terraform
from factory_bench.fault_proxy import FaultProxy
from factory_bench.stack import Bench
from tests.helpers.lambda_app import seed_app

ARABIC_INDIC_ACCOUNT = "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662"


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory outside the workspace holding what an attacker would like read."""
    where = tmp_path_factory.mktemp("outside")
    (where / "payload.json").write_text('{"stolen": true}')
    (where / "Dockerfile").write_text("FROM scratch\n")
    (where / "x.tfvars").write_text('name = "x"\n')
    return where


def _refused(run: Any, proxy: FaultProxy, name: str) -> None:
    assert run.code == 1, run.stdout
    assert run.reason == "invalid-input", run.stdout
    assert f"::error title=Invalid input {name}::" in run.stdout, run.stdout
    assert proxy.passed == [] and proxy.injected == []  # nothing reached AWS


@pytest.mark.parametrize(("name", "value"), [
    ("role-to-assume", f"arn:aws:iam::{ARABIC_INDIC_ACCOUNT}:role/deploy"),
    ("aws-region", "eu-west-\u0661"),
])
def test_non_ascii_digits_are_refused_before_any_call(
    run_action: Any, proxy: FaultProxy, name: str, value: str
) -> None:
    """Arabic-Indic digits in a role ARN or region are refused by oidc-login before any call."""
    inputs = {"role-to-assume": "arn:aws:iam::123456789012:role/deploy",
              "aws-region": "us-east-1", name: value}
    run = run_action(oidc_login.login, inputs, env={"AWS_ENDPOINT_URL": proxy.url})
    _refused(run, proxy, name)


def test_patterns_refuse_non_ascii_even_without_the_flag() -> None:
    """Inputs.matching refuses non-ASCII values whatever pattern a module passes, and integers
    accept ASCII digits only."""
    import re

    inputs = runner.Inputs({"INPUT_NAME": "abc\u0661", "INPUT_COUNT": "\u0661\u0662"})
    inputs.matching("name", re.compile(r"\w+"), expected="a name")
    assert inputs.integer("count", default=3, minimum=0, maximum=99) == 3
    assert [p.name for p in inputs.problems] == ["name", "count"]


def test_smoke_payload_file_outside_workspace_is_refused(
    run_action: Any, bench: Bench, proxy: FaultProxy, outside: Path, tmp_path: Path
) -> None:
    """smoke-payload naming a file outside the workspace (via `..`, absolute or a symlink) is
    refused naming the input; no deploy starts."""
    app = seed_app(bench)
    (tmp_path / "link.json").symlink_to(outside / "payload.json")
    relative = Path("..") / outside.relative_to(tmp_path.parent) / "payload.json"
    for value in (str(relative), str(outside / "payload.json"), "link.json"):
        run = run_action(lambda_deploy.run, {
            "function-name": app.function, "image-uri": app.uri(1), "smoke-payload": value,
        }, env={"AWS_ENDPOINT_URL": proxy.url})
        _refused(run, proxy, "smoke-payload")
        assert "outside the workspace" in run.stdout
    assert app.versions() == ["1"]


@pytest.mark.parametrize("which", ["context", "dockerfile"])
def test_ecr_push_paths_outside_workspace_are_refused(
    run_action: Any, proxy: FaultProxy, outside: Path, which: str
) -> None:
    """ecr-push refuses a context via `..` and an absolute dockerfile outside the workspace."""
    value = str(Path("..") / ".." / outside.name) if which == "context" else str(
        outside / "Dockerfile")
    if which == "context":
        value = str(outside)  # absolute: resolves outside as well
    run = run_action(lambda environ: ecr_push.run(), {"repository": "apps/api", which: value},
                     env={"AWS_ENDPOINT_URL": proxy.url})
    _refused(run, proxy, which)


def test_ecr_push_context_through_dotdot_is_refused(
    run_action: Any, proxy: FaultProxy, tmp_path: Path
) -> None:
    """`context: ../x` leaving the workspace is refused naming `context`."""
    (tmp_path.parent / "sibling").mkdir(exist_ok=True)
    run = run_action(lambda environ: ecr_push.run(), {"repository": "apps/api",
                                                      "context": "../sibling"},
                     env={"AWS_ENDPOINT_URL": proxy.url})
    _refused(run, proxy, "context")


@pytest.mark.parametrize("name", ["var-file", "backend-config", "working-directory"])
def test_terraform_paths_outside_workspace_are_refused(
    run_action: Any, proxy: FaultProxy, outside: Path, tmp_path: Path, name: str
) -> None:
    """terraform refuses var-file/backend-config escaping through `..` and a working-directory
    that is a symlink out of the workspace, before terraform or AWS is called."""
    (tmp_path / "infra").mkdir()
    (tmp_path / "out").symlink_to(outside)
    escape = "../" * (len(Path("infra").parts) + 1) + f"{outside.name}/x.tfvars"
    inputs = {"command": "plan", "working-directory": "infra"}
    if name == "working-directory":
        inputs[name] = "out"
    else:
        (tmp_path.parent / outside.name).mkdir(exist_ok=True)
        (tmp_path.parent / outside.name / "x.tfvars").write_text('name = "x"\n')
        inputs[name] = escape
    run = run_action(terraform.run, inputs, env={"AWS_ENDPOINT_URL": proxy.url})
    _refused(run, proxy, name)


def test_changed_apps_repo_outside_workspace_is_refused(
    run_action: Any, proxy: FaultProxy, outside: Path
) -> None:
    """changed-apps refuses a `repo` outside the workspace before running git."""
    run = run_action(lambda environ: changed_apps.read_options([], environ),
                     {"repo": str(outside)}, env={"AWS_ENDPOINT_URL": proxy.url})
    _refused(run, proxy, "repo")
