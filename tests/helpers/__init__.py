"""Helpers shared by the suite's tests (not tests themselves): import from here, never from a
test module. The bench's own fixtures (``bench``, ``registry``, ``buildah``) come from the
``factory_bench.testing`` pytest plugin."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from factory_bench import act

SUITE_DIR = Path(__file__).resolve().parents[2]

# The ``run_workflow`` fixture's type (tests/conftest.py).
WorkflowRunner = Callable[..., act.ActResult]
