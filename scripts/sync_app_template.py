#!/usr/bin/env python3
"""Rewrite `factory init --new-app`'s template app from examples/hello-stats (after editing it).

    .venv/bin/python scripts/sync_app_template.py

tests/factory_cli/test_init_repo.py fails while the two differ.
"""

from __future__ import annotations

from pathlib import Path

from factory_cli import init_repo

if __name__ == "__main__":
    init_repo.sync_app_template(Path(__file__).resolve().parents[1] / "examples" / "hello-stats")
