"""No document sends an adopter to a tag or ref of the suite that does not exist.

Every reference to the suite in the docs (`hoopstat-haus/hoopstat-factory/...@REF`,
`hoopstat-factory@REF` in a pip URL, `?ref=REF` in a Terraform source) must be a placeholder
(`<release-sha>`), or the release recorded in cli/factory_cli/templates/release.json.
"""

from __future__ import annotations

import json
import re
import subprocess

from tests.helpers import SUITE_DIR

REFERENCE = re.compile(
    r"hoopstat-haus/hoopstat-factory(?:/[\w./-]*)?@(?P<at>[^\s)`\"'#,]+)"
    r"|hoopstat-factory//[\w./-]+\?ref=(?P<ref>[^\s)`\"'#,]+)"
)


def doc_files() -> list[str]:
    listed = subprocess.run(["git", "-C", str(SUITE_DIR), "ls-files", "-co", "--exclude-standard",
                             "*.md", "workflow-templates/*.yml", "*.tf"],
                            capture_output=True, text=True, check=True).stdout.split()
    # terraform/examples are the module tests' inputs: their job_workflow_ref strings are claims
    # compared by IAM, never fetched; the module READMEs (checked) show adopters the pinned form.
    return [name for name in listed
            if not name.startswith(("tests/fixtures/", "bench/", "terraform/examples/"))]


def test_docs_cite_only_placeholders_or_the_recorded_release() -> None:
    """Each suite ref in a doc, template or module is a <placeholder> or the recorded release's
    SHA or version (an act --local-repository mapping `@main=DIR` is the bench's own)."""
    release = json.loads((SUITE_DIR / "cli/factory_cli/templates/release.json").read_text())
    allowed = {value for value in (release.get("sha"), release.get("version")) if value}
    found = []
    for name in doc_files():
        for match in REFERENCE.finditer((SUITE_DIR / name).read_text()):
            ref = match["at"] or match["ref"]
            if ref.startswith("<") or ref in allowed or ref.startswith("main=<"):
                continue
            found.append(f"{name}: {match.group(0)}")
    assert found == [], "refs that are not a release: " + "\n".join(found)


def test_the_recorded_release_is_part_of_this_history() -> None:
    """The release the templates pin is a commit this repository's history holds (a clone of
    main can check it out), and its version names it."""
    release = json.loads((SUITE_DIR / "cli/factory_cli/templates/release.json").read_text())
    if not release.get("sha"):
        return
    done = subprocess.run(["git", "-C", str(SUITE_DIR), "merge-base", "--is-ancestor",
                           release["sha"], "HEAD"], capture_output=True, check=False)
    assert done.returncode == 0, f"release {release} is not an ancestor of HEAD"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", release["version"])
