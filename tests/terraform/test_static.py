"""Static checks of the Terraform modules: formatting, validation of every example, checkov with
zero failures and a reason on every skip, and variable validations that refuse bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from factory_bench import terraform as tf
from factory_bench.stack import Bench
from factory_bench.testing import need_tool
from tests.helpers import SUITE_DIR
from tests.helpers.terraform_examples import TERRAFORM_DIR

MODULES = sorted(p.name for p in (TERRAFORM_DIR / "modules").iterdir() if p.is_dir())
EXAMPLES = sorted(p.name for p in (TERRAFORM_DIR / "examples").iterdir() if p.is_dir())
SKIP = re.compile(r"#\s*checkov:skip=(?P<check>[A-Z0-9_]+)(?::(?P<reason>.*))?")


def test_every_module_has_the_standard_files_and_an_example() -> None:
    """Each module has main/variables/outputs/versions/README and an example of the same name."""
    for module in MODULES:
        files = {p.name for p in (TERRAFORM_DIR / "modules" / module).iterdir()}
        standard = {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"}
        assert standard <= files, module
        assert module in EXAMPLES, f"{module} has no example in terraform/examples/"


def test_every_variable_and_output_is_described() -> None:
    """Every variable is typed and described, and every output described, modules and examples."""
    blocks = re.compile(r'^(variable|output) "(?P<name>[^"]+)" \{(?P<body>.*?)^\}', re.M | re.S)
    for path in TERRAFORM_DIR.rglob("*.tf"):
        for block in blocks.finditer(path.read_text()):
            where = f"{path.relative_to(TERRAFORM_DIR)}: {block.group(1)} {block.group('name')}"
            assert re.search(r"^\s+description\s*=", block.group("body"), re.M), where
            if block.group(1) == "variable":
                assert re.search(r"^\s+type\s*=", block.group("body"), re.M), where


def test_terraform_fmt(terraform_bin: str) -> None:
    """All Terraform files are formatted as `terraform fmt` writes them."""
    done = subprocess.run(
        [terraform_bin, "fmt", "-check", "-recursive", "-diff", str(TERRAFORM_DIR)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_validates(
    example: str, terraform_bin: str, plugin_mirror: Path, tmp_path: Path
) -> None:
    """The example (and the modules it calls) passes `terraform validate` with the real provider."""
    workspace = tf.Workspace.prepare(
        source_tree=TERRAFORM_DIR, root_in_tree=f"examples/{example}", workdir=tmp_path,
        moto_url="http://127.0.0.1:9", mirror=plugin_mirror, terraform=terraform_bin,
        endpoints_in_env=True,
    )
    workspace.init()
    done = workspace.run("validate", "-json", ok_codes=(0, 1))
    result = json.loads(done.stdout)
    assert result["valid"], json.dumps(result["diagnostics"], indent=2)


def test_checkov_passes_every_module() -> None:
    """checkov finds no failed check in any module (skips are counted and must carry reasons)."""
    # ./dev installs checkov in a venv of its own (.tools) so its pinned boto3 stays out of ours.
    checkov = need_tool(
        "checkov", install_hint="./dev setup installs it into .tools/",
        path=str(SUITE_DIR / ".tools" / "bin" / "checkov"),
    )
    done = subprocess.run(
        [checkov, "-d", str(TERRAFORM_DIR / "modules"), "--framework", "terraform", "--quiet",
         "--compact", "--skip-download", "-o", "json"],
        capture_output=True, text=True, check=False,
        env={"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "HOME": "/tmp"},
    )
    report = json.loads(done.stdout)
    reports = report if isinstance(report, list) else [report]
    summary = reports[0]["summary"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})"
        for r in reports for c in r["results"]["failed_checks"]
    ]
    assert failed == [], "\n".join(failed)
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] > 30


def test_every_checkov_skip_has_a_reason() -> None:
    """Each `#checkov:skip=` in the modules names a check and gives a reason of some substance."""
    skips = []
    for path in (TERRAFORM_DIR / "modules").rglob("*.tf"):
        for match in SKIP.finditer(path.read_text()):
            skips.append(match)
            reason = (match.group("reason") or "").strip()
            assert len(reason.split()) >= 6, f"{path}: {match.group(0)} has no real reason"
    assert skips, "expected the documented skips (VPC, access logs, ...) to be found"


@pytest.mark.parametrize(
    ("example", "variables", "message"),
    [
        ("github-oidc", {"repository": "hoopstat-haus/*"}, "without wildcards"),
        ("cost", {"tags": '{Project="hoopstat-haus",Environment="example",App="x",ManagedBy="t"}'},
         "must set Project, Environment, Owner, App and ManagedBy"),
        ("cost", {"tags": '{Project="h",Environment="prod",Owner="o",App="x",ManagedBy="t"}'},
         "Environment must be one of"),
        ("ecr-repository", {"name": "Hoopstat/Upper"}, "lower-case letters and digits"),
        ("data-bucket", {"bucket_name": "hoopstat-" + "x" * 50},
         "room is left for the '-backup' suffix"),
    ],
)
def test_bad_variables_are_refused_before_any_change(
    example: str, variables: dict[str, str], message: str, bench: Bench,
    terraform_bin: str, plugin_mirror: Path, tmp_path: Path,
) -> None:
    """A bad variable fails the plan with the variable's own message, and nothing is created."""
    workspace = tf.Workspace.prepare(
        source_tree=TERRAFORM_DIR, root_in_tree=f"examples/{example}", workdir=tmp_path,
        moto_url=bench.moto_url, mirror=plugin_mirror, terraform=terraform_bin,
        endpoints_in_env=True,
    )
    workspace.init()
    with pytest.raises(tf.TerraformError) as refused:
        workspace.apply(variables=variables)
    text = " ".join(str(refused.value).split())
    assert "Invalid value for variable" in text
    assert message in text
    assert workspace.state_addresses() == []
