"""The committed locks in requirements/: every entry pinned and hashed, and each lock satisfies
its .in file (so a hand edit of one without the other is caught without the network)."""

from __future__ import annotations

import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers import SUITE_DIR

REQUIREMENTS = SUITE_DIR / "requirements"
LOCKS = ("runtime", "uv", "dev", "checkov")
ENTRY = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)(?P<rest>[^\n]*)\n"
                   r"(?P<hashes>(?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)*)", re.M)


def pins(name: str) -> dict[str, tuple[str, int]]:
    text = (REQUIREMENTS / f"{name}.txt").read_text()
    found = {canonicalize_name(m["name"]): (m["version"], m["hashes"].count("--hash="))
             for m in ENTRY.finditer(text)}
    top_level = [line for line in text.splitlines() if line and not line[0].isspace()
                 and not line.startswith("#")]
    assert len(top_level) == len(found), "an entry is not of the form name==version + hashes"
    return found


def direct(name: str) -> list[Requirement]:
    lines = (REQUIREMENTS / f"{name}.in").read_text().splitlines()
    return [Requirement(line.split("#")[0].strip()) for line in lines
            if line.strip() and not line.startswith(("#", "-e", "-r", "-c"))]


@pytest.mark.parametrize("name", LOCKS)
def test_every_locked_package_is_pinned_with_hashes(name: str) -> None:
    """Each lock names exact versions, each with at least one sha256, and no editable or URL."""
    found = pins(name)
    assert found
    assert all(count >= 1 for _, count in found.values()), found
    assert "-e " not in (REQUIREMENTS / f"{name}.txt").read_text()


@pytest.mark.parametrize("name", LOCKS)
def test_lock_satisfies_its_input(name: str) -> None:
    """Every direct requirement of the .in file is in the lock at a version it allows."""
    found = pins(name)
    for requirement in direct(name):
        key = canonicalize_name(requirement.name)
        assert key in found, f"{requirement} missing from {name}.txt: run requirements/lock.sh"
        version = found[key][0]
        assert requirement.specifier.contains(version, prereleases=True), (requirement, version)


def test_runtime_input_is_the_runtimes_dependencies() -> None:
    """requirements/runtime.in lists exactly the runtime's pyproject dependencies."""
    project = tomllib.loads((SUITE_DIR / "pyproject.toml").read_text())["project"]
    assert sorted(map(str, direct("runtime"))) == sorted(
        str(Requirement(r)) for r in project["dependencies"]
    )


def test_runtime_lock_is_binary_installable() -> None:
    """The runtime lock is universal: several hashes for the compiled packages (one per
    platform and Python), so one lock serves every runner."""
    found = pins("runtime")
    assert found["cffi"][1] > 10 and found["cryptography"][1] > 10
