"""changed-apps run as a workflow step through act, on a small monorepo."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from factory_bench import act

pytestmark = pytest.mark.act

WORKFLOW = """\
name: fan-out
on: push
permissions: {}
jobs:
  plan:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    permissions:
      contents: read  # Needed to read the checkout
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          fetch-depth: 0
          persist-credentials: false
      - id: changed
        uses: hoopstat-haus/hoopstat-factory/actions/changed-apps@main
        with:
          base: ${{ github.event.before }}
          event-name: ${{ github.event_name }}
      - name: Show
        env:
          MATRIX: ${{ steps.changed.outputs.matrix }}
          ANY: ${{ steps.changed.outputs.any }}
          DEPLOY: ${{ steps.changed.outputs.deploy-matrix }}
        run: echo "matrix=${MATRIX} any=${ANY} deploy=${DEPLOY}"
"""


def app_files(name: str, depends: str = "", settings: str = "") -> dict[str, str]:
    deps = f'dependencies = ["{depends}"]' if depends else "dependencies = []"
    return {
        f"apps/{name}/pyproject.toml": f'[project]\nname = "{name}"\nversion = "0"\n{deps}\n'
        + settings,
        f"apps/{name}/app.py": "print('hi')\n",
    }


DEPLOY_SETTINGS = """
[tool.hoopstat-factory.deploy]
function = "hoopstat-standings"
ecr-repository = "hoopstat-haus/prod"
tag-prefix = "standings-"
"""


def test_lib_change_fans_out_to_its_dependents(run_workflow: Any, tmp_path: Path) -> None:
    """A change to a shared lib yields a CI matrix of exactly the apps that depend on it, and a
    deploy matrix of those with deploy settings, carrying them."""
    repo = act.init_app_repo(tmp_path / "app")
    files = {
        **app_files("scores"),
        **app_files("standings", "hoopstat-shared", DEPLOY_SETTINGS),
        **app_files("player-stats", "hoopstat-shared"),
        "libs/shared/pyproject.toml": '[project]\nname = "hoopstat-shared"\nversion = "0"\n',
        "libs/shared/shared.py": "X = 1\n",
    }
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    base = act.commit_all(repo, "monorepo")
    result = run_workflow(
        WORKFLOW, repo=repo, files={"libs/shared/shared.py": "X = 2\n"}, event={"before": base}
    )
    assert result.ok, result.log[-3000:]
    found = re.search(r"matrix=(\{.*\}) any=(\w+) deploy=(\{.*\})", result.log)
    assert found, result.log[-3000:]
    assert [(e["app"], e["path"]) for e in json.loads(found.group(1))["include"]] == [
        ("player-stats", "apps/player-stats"),
        ("standings", "apps/standings"),
    ]
    assert found.group(2) == "true"
    # Only standings has deploy settings: it alone is in the deploy matrix, with them.
    assert json.loads(found.group(3))["include"] == [
        {
            "app": "standings",
            "path": "apps/standings",
            "function-name": "hoopstat-standings",
            "ecr-repository": "hoopstat-haus/prod",
            "tag-prefix": "standings-",
            "dockerfile": "apps/standings/Dockerfile",
            "context": ".",
            "platform": "linux/amd64",
            "strategy": "all-at-once",
            "alarm-names": "",
            "smoke-payload": "",
            "smoke-expect": "",
        }
    ]
