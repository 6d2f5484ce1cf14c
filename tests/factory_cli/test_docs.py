"""The action READMEs' tables are generated from action.yml and cannot drift."""

from __future__ import annotations

import pytest

from factory_cli import docs
from tests.helpers import SUITE_DIR


def test_readme_tables_match_action_metadata() -> None:
    """`factory docs --check` passes: every README's inputs/outputs tables are current."""
    assert docs.action_dirs(SUITE_DIR), "no actions found"
    assert docs.main(["--check", "--suite-root", str(SUITE_DIR)]) == 0


def test_render_replaces_only_marked_sections() -> None:
    """Rendering fills the marked sections from metadata and keeps the prose around them."""
    readme = (
        "intro\n<!-- factory-docs:inputs -->\nold\n<!-- /factory-docs -->\nmiddle\n"
        "<!-- factory-docs:outputs -->\n<!-- /factory-docs -->\nend\n"
    )
    meta = {
        "inputs": {"x": {"description": "The x | y.", "required": True, "default": "1"}},
        "outputs": {"o": {"description": "Out."}},
    }
    out = docs.render(readme, meta)
    assert "| `x` | yes | `1` | The x \\| y. |" in out
    assert "| `o` | Out. |" in out
    assert out.startswith("intro\n") and "middle" in out and out.endswith("end\n")
    assert "old" not in out


def test_render_requires_markers() -> None:
    """A README without the markers is reported rather than silently left stale."""
    with pytest.raises(ValueError, match="factory-docs:inputs"):
        docs.render("no markers", {"inputs": {}})
