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


def test_module_readme_tables_list_every_variable_and_output() -> None:
    """Each Terraform module README's generated tables name exactly the module's variables and
    outputs, marking those without a default as required."""
    import re

    for module in docs.module_dirs(SUITE_DIR):
        readme = (module / "README.md").read_text()
        variables = re.findall(r'^variable "([^"]+)"', (module / "variables.tf").read_text(), re.M)
        outputs = re.findall(r'^output "([^"]+)"', (module / "outputs.tf").read_text(), re.M)
        table = readme.split("<!-- factory-docs:variables -->")[1].split("<!-- /factory-docs")[0]
        assert re.findall(r"^\| `([^`]+)` \|", table, re.M) == variables, module.name
        out_table = readme.split("<!-- factory-docs:outputs -->")[1].split("<!-- /factory-docs")[0]
        assert re.findall(r"^\| `([^`]+)` \|", out_table, re.M) == outputs, module.name
    oidc = (SUITE_DIR / "terraform/modules/github-oidc/README.md").read_text()
    assert "| `role_name` | `string` | **required** |" in oidc


def test_variables_table_reads_multiline_types_and_defaults() -> None:
    """A multi-line object type and default are read whole, and a string description unquoted."""
    text = (
        'variable "x" {\n  description = "The \\"x\\" [thing]."\n  type = object({\n'
        '    a = string\n  })\n  default = {\n    a = "b"\n  }\n\n  validation {\n'
        '    condition = true\n    error_message = "no"\n  }\n}\n'
    )
    table = docs.variables_table(text)
    assert '| `x` | `object({ a = string })` | `{ a = "b" }` | The "x" [thing]. |' in table
