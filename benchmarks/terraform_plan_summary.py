"""Benchmark: summarize a generated 5,000-resource plan JSON (as ``terraform show -json`` writes).

Generates a plan of N resources (creates, updates, replaces, deletes, with nested and sensitive
attributes and prior state), writes it to a temp file, then times what the terraform action does
with it: parse, summarize, normalize + hash, fingerprints, and render the PR comment within
GitHub's limit. Prints wall time per stage and peak Python memory (tracemalloc) and the
process's max RSS.

Run: ``.venv/bin/python benchmarks/terraform_plan_summary.py [--resources 5000]``
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from action_scripts import terraform_comment as tc
from action_scripts import terraform_plan as tfplan

T = TypeVar("T")
ACTIONS = (["create"], ["update"], ["delete", "create"], ["delete"], ["no-op"])


def attributes(index: int, version: str) -> dict[str, Any]:
    return {
        "bucket": f"hoopstat-data-{index:05d}",
        "arn": f"arn:aws:s3:::hoopstat-data-{index:05d}",
        "tags": {"app": "hoopstat", "owner": "data", "version": version},
        "lifecycle_rule": [{"id": "expire", "enabled": True, "expiration": [{"days": 30}]}],
        "policy": json.dumps({"Statement": [{
            "Effect": "Deny", "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": False}},
        }]}),
        "password": f"secret-{index}",
    }


def generate(count: int) -> dict[str, Any]:
    changes = []
    for index in range(count):
        actions = ACTIONS[index % len(ACTIONS)]
        before = None if actions == ["create"] else attributes(index, "v1")
        after = None if actions == ["delete"] else attributes(index, "v2")
        changes.append({
            "address": f'module.app{index % 20}.aws_s3_bucket.data["{index:05d}"]',
            "mode": "managed", "type": "aws_s3_bucket", "name": "data",
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {
                "actions": actions, "before": before, "after": after,
                "after_unknown": {"arn": True} if actions == ["create"] else {},
                "before_sensitive": {"password": True}, "after_sensitive": {"password": True},
                **({"replace_paths": [["bucket"]]} if "delete" in actions and after else {}),
            },
        })
    return {
        "format_version": "1.2", "terraform_version": "1.11.4", "timestamp": "2026-01-01T00:00:00Z",
        "resource_changes": changes, "output_changes": {},
        "prior_state": {"values": {"root_module": {"resources": [
            {"address": c["address"], "values": c["change"]["before"]} for c in changes]}}},
        "configuration": {}, "applyable": True, "complete": True, "errored": False,
    }


def timed(label: str, call: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = call()
    print(f"{label:<34} {time.perf_counter() - started:8.3f} s")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=5000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.json"
        path.write_text(json.dumps(generate(args.resources)))
        size = path.stat().st_size
        print(f"plan: {args.resources} resources, {size / 1e6:.1f} MB of JSON")
        tracemalloc.start()
        started = time.perf_counter()
        plan = timed("parse JSON", lambda: json.loads(path.read_text()))
        summary = timed("summarize", lambda: tfplan.summarize(plan))
        normal = timed("normalize", lambda: tfplan.normalize(plan))
        digest = timed("hash", lambda: tfplan.plan_hash(normal))
        prints = timed("fingerprints", lambda: tfplan.fingerprints(normal))
        text = "\n".join(f"  # {c.address} will be {c.kind}d" for c in summary.changes)
        body = timed("render comment", lambda: tc.render(
            directory="infra", summary=summary, plan_hash=digest, plan_text=text,
            fingerprints=prints).body)
        total = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert "secret-" not in json.dumps(normal)  # sensitive values never reach the hash input
    assert tc._length(body) <= tc.COMMENT_LIMIT
    print(f"{'total':<34} {total:8.3f} s")
    print(f"{summary.headline()} hash {digest[:23]}…; comment {len(body)} chars")
    print(f"peak Python memory (tracemalloc)   {peak / 2**20:8.1f} MiB")
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"max RSS of the process             {rss_kib / 1024:8.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
