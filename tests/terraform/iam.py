"""A real IAM policy evaluator for the module tests: @cloud-copilot/iam-simulate, run by node.

moto cannot stand in here: it has no SimulatePrincipalPolicy, and its own access-control code
treats any condition operator other than StringEquals as met (so `Bool aws:SecureTransport`
or `aws:MultiFactorAuthPresent` would never decide anything). iam-simulate implements AWS's
evaluation logic (explicit deny, identity and resource policies in one account, condition
operators, IfExists, negated operators on absent keys). It is pinned in
``tests/terraform/iam_simulate/package-lock.json`` and installed by ./dev setup into
``.tools/iam-simulate`` (``$HOOPSTAT_IAM_SIMULATE_DIR`` overrides).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import SUITE_DIR

SCRIPT = Path(__file__).parent / "iam_simulate" / "evaluate.cjs"
ALLOWED = "Allowed"


def _module_dir() -> Path:
    return Path(os.environ.get("HOOPSTAT_IAM_SIMULATE_DIR", SUITE_DIR / ".tools" / "iam-simulate"))


@dataclass
class Request:
    principal: str
    action: str
    resource: str
    account: str
    context: dict[str, str | list[str]] = field(default_factory=dict)


def evaluate(
    requests: list[Request], *, identity_policies: list[dict[str, Any]] | None = None,
    resource_policy: dict[str, Any] | None = None,
) -> list[str]:
    """AWS's decision for each request: Allowed, ImplicitlyDenied or ExplicitlyDenied."""
    node = shutil.which("node")
    modules = _module_dir() / "node_modules"
    if node is None or not (modules / "@cloud-copilot" / "iam-simulate").is_dir():
        message = (
            "no IAM evaluator: needs node and `npm ci` of tests/terraform/iam_simulate into "
            f"{_module_dir()} (./dev setup does it)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    simulations = [
        {
            "request": {
                "principal": r.principal, "action": r.action,
                "resource": {"resource": r.resource, "accountId": r.account},
                # What AWS sets for a role session: the role's ARN (the evaluator does not).
                "contextVariables": {"aws:PrincipalArn": r.principal, **r.context},
            },
            "identityPolicies": [
                {"name": f"p{i}", "policy": p} for i, p in enumerate(identity_policies or [])
            ],
            **({"resourcePolicy": resource_policy} if resource_policy else {}),
        }
        for r in requests
    ]
    done = subprocess.run(
        [node, str(SCRIPT)], input=json.dumps(simulations), capture_output=True, text=True,
        check=False, env={**os.environ, "NODE_PATH": str(modules)}, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    errors = [r["explain"] for r in results if r["result"] == "Error"]
    assert not errors, errors
    return [str(r["result"]) for r in results]


def decide(requests: dict[str, Request], **policies: Any) -> dict[str, str]:
    """``evaluate`` for named requests: name -> decision."""
    names = list(requests)
    return dict(zip(names, evaluate([requests[n] for n in names], **policies), strict=True))
