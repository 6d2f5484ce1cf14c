"""``factory docs``: generate README tables from metadata: each action's inputs/outputs from its
action.yml, each Terraform module's variables/outputs from its variables.tf and outputs.tf.

The tables live between ``<!-- factory-docs:inputs -->`` / ``<!-- factory-docs:outputs -->``
markers and their ``<!-- /factory-docs -->`` end marker, so they cannot drift from the metadata;
``--check`` fails when a README is stale (a test runs it). The same metadata is written to
``factory_cli/action_inputs.json``, which the installed CLI reads for ``factory <action> --help``
and to reject unknown ``-i`` inputs (an installed CLI has no action.yml to read).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

END = "<!-- /factory-docs -->"


def _cell(text: Any) -> str:
    return " ".join(str(text or "").split()).replace("|", "\\|")


def inputs_table(meta: dict[str, Any]) -> str:
    rows = ["| input | required | default | description |", "| --- | --- | --- | --- |"]
    for name, spec in (meta.get("inputs") or {}).items():
        spec = spec or {}
        default = spec.get("default", "")
        shown = f"`{_cell(default)}`" if str(default) != "" else ""
        required = "yes" if spec.get("required") else "no"
        rows.append(f"| `{name}` | {required} | {shown} | {_cell(spec.get('description'))} |")
    return "\n".join(rows)


def outputs_table(meta: dict[str, Any]) -> str:
    rows = ["| output | description |", "| --- | --- |"]
    for name, spec in (meta.get("outputs") or {}).items():
        rows.append(f"| `{name}` | {_cell((spec or {}).get('description'))} |")
    return "\n".join(rows)


def render(readme: str, meta: dict[str, Any]) -> str:
    for section, table in (("inputs", inputs_table(meta)), ("outputs", outputs_table(meta))):
        start = f"<!-- factory-docs:{section} -->"
        pattern = re.compile(re.escape(start) + r".*?" + re.escape(END), re.DOTALL)
        found = pattern.search(readme)
        if found is None:
            raise ValueError(f"README has no {start} ... {END} section")
        readme = f"{readme[: found.start()]}{start}\n{table}\n{END}{readme[found.end() :]}"
    return readme


ACTION_INPUTS = Path(__file__).resolve().parent / "action_inputs.json"


def action_inputs(root: Path) -> str:
    """Every action's description and inputs (description, required, default), as JSON text."""
    found: dict[str, Any] = {}
    for action in action_dirs(root):
        meta = yaml.safe_load((action / "action.yml").read_text())
        found[action.name] = {
            "description": " ".join(str(meta.get("description", "")).split()),
            "inputs": {
                name: {"description": " ".join(str((spec or {}).get("description", "")).split()),
                       "required": bool((spec or {}).get("required")),
                       "default": str((spec or {}).get("default", ""))}
                for name, spec in (meta.get("inputs") or {}).items()
            },
        }
    return json.dumps(found, indent=1, sort_keys=True) + "\n"


_BLOCK = re.compile(r'^(variable|output) "(?P<name>[^"]+)" \{\n(?P<body>.*?)^\}', re.M | re.S)
_ATTRIBUTE = re.compile(r"^  (?P<key>[a-z_]+)\s*=\s*(?P<value>.*)$")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')


def _balance(text: str) -> int:
    bare = _STRINGS.sub('""', text)
    return sum(bare.count(c) for c in "{[(") - sum(bare.count(c) for c in "}])")


def _attributes(body: str) -> dict[str, str]:
    """Top-level attributes of a `terraform fmt`-formatted block (nested blocks skipped)."""
    found: dict[str, str] = {}
    lines = body.splitlines()
    index = 0
    while index < len(lines):
        match = _ATTRIBUTE.match(lines[index])
        index += 1
        if match is None:
            continue
        value = [match["value"]]
        while _balance("\n".join(value)) > 0 and index < len(lines):
            value.append(lines[index].strip())
            index += 1
        found[match["key"]] = " ".join(value)
    return found


def _hcl_string(value: str) -> str:
    try:
        return str(json.loads(value))
    except ValueError:
        return value


def module_blocks(text: str, kind: str) -> list[tuple[str, dict[str, str]]]:
    return [(m["name"], _attributes(m["body"])) for m in _BLOCK.finditer(text)
            if m.group(1) == kind]


def variables_table(text: str) -> str:
    rows = ["| variable | type | default | description |", "| --- | --- | --- | --- |"]
    for name, attrs in module_blocks(text, "variable"):
        default = f"`{_cell(attrs['default'])}`" if "default" in attrs else "**required**"
        rows.append(f"| `{name}` | `{_cell(attrs.get('type', 'any'))}` | {default} | "
                    f"{_cell(_hcl_string(attrs.get('description', '')))} |")
    return "\n".join(rows)


def module_outputs_table(text: str) -> str:
    rows = ["| output | description |", "| --- | --- |"]
    for name, attrs in module_blocks(text, "output"):
        rows.append(f"| `{name}` | {_cell(_hcl_string(attrs.get('description', '')))} |")
    return "\n".join(rows)


def render_module(readme: str, module: Path) -> str:
    """The module README with its variables/outputs tables from variables.tf and outputs.tf."""
    tables = {
        "variables": variables_table((module / "variables.tf").read_text()),
        "outputs": module_outputs_table((module / "outputs.tf").read_text()),
    }
    for section, table in tables.items():
        start = f"<!-- factory-docs:{section} -->"
        if start not in readme:
            heading = "Inputs" if section == "variables" else "Outputs"
            readme = (f"{readme.rstrip()}\n\n## {heading}\n\n"
                      f"Generated from {section if section == 'outputs' else 'variables'}.tf by "
                      f"`factory docs`.\n\n{start}\n{END}\n")
        pattern = re.compile(re.escape(start) + r".*?" + re.escape(END), re.DOTALL)
        found = pattern.search(readme)
        if found is None:
            raise ValueError(f"README has no {start} ... {END} section")
        readme = f"{readme[: found.start()]}{start}\n{table}\n{END}{readme[found.end() :]}"
    return readme


def module_dirs(root: Path) -> list[Path]:
    return sorted(p.parent for p in (root / "terraform" / "modules").glob("*/variables.tf"))


def action_dirs(root: Path) -> list[Path]:
    return sorted(p.parent for p in (root / "actions").glob("*/action.yml"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="factory docs", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if any README is stale")
    parser.add_argument(
        "--suite-root", type=Path, default=Path(), help="the suite checkout (default: .)"
    )
    args = parser.parse_args(argv)
    if not (args.suite_root / "actions").is_dir():
        print(f"factory docs: {args.suite_root}/actions not found; run it in the suite checkout "
              "or pass --suite-root", file=sys.stderr)
        return 2
    stale = []
    for action in action_dirs(args.suite_root):
        meta = yaml.safe_load((action / "action.yml").read_text())
        readme_path = action / "README.md"
        current = readme_path.read_text() if readme_path.exists() else ""
        try:
            wanted = render(current, meta)
        except ValueError as exc:
            print(f"{readme_path}: {exc}", file=sys.stderr)
            stale.append(readme_path)
            continue
        if wanted != current:
            stale.append(readme_path)
            if not args.check:
                readme_path.write_text(wanted)
    for module in module_dirs(args.suite_root):
        readme_path = module / "README.md"
        current = readme_path.read_text() if readme_path.exists() else f"# {module.name}\n"
        wanted = render_module(current, module)
        if wanted != current:
            stale.append(readme_path)
            if not args.check:
                readme_path.write_text(wanted)
    wanted_inputs = action_inputs(args.suite_root)
    target = args.suite_root / "cli" / "factory_cli" / "action_inputs.json"
    if not target.exists() or target.read_text() != wanted_inputs:
        stale.append(target)
        if not args.check:
            target.write_text(wanted_inputs)
    if args.check and stale:
        print("stale (run `factory docs`): " + ", ".join(map(str, stale)), file=sys.stderr)
        return 1
    return 1 if args.check and stale else 0
