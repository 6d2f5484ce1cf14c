"""The actions this package runs on GitHub runners: one plain function per composite action.

``actions/factory-run.sh`` runs ``python -m action_scripts <action>``; each function below imports
only its own action's module, so a job pays the import cost of the action it runs and nothing else.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass


def oidc_login() -> int:
    from action_scripts.oidc_login import main

    return main()


def ecr_push() -> int:
    from action_scripts.ecr_push import main

    return main()


def lambda_deploy() -> int:
    from action_scripts.lambda_deploy import main

    return main()


def lambda_rollback() -> int:
    from action_scripts.lambda_rollback import main

    return main()


def terraform() -> int:
    from action_scripts.terraform import main

    return main()


def changed_apps() -> int:
    from action_scripts.changed_apps import main

    return main([])


@dataclass(frozen=True)
class Action:
    name: str
    run: Callable[[], int]
    summary: str


ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        Action("oidc-login", oidc_login, "GitHub OIDC token -> AWS role credentials, verified"),
        Action("ecr-push", ecr_push, "content-addressed image build and push to ECR, scan gate"),
        Action("lambda-deploy", lambda_deploy, "publish a Lambda version by digest, smoke, shift"),
        Action("lambda-rollback", lambda_rollback, "move a Lambda alias back to a known version"),
        Action("terraform", terraform, "plan on PR with one comment, apply the reviewed plan"),
        Action("changed-apps", changed_apps, "apps affected by a change, through shared libs"),
    )
}


def main(argv: list[str] | None = None) -> int:
    """Run one action, its inputs read from ``INPUT_*`` as the runner sets them."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in ACTIONS:
        names = ", ".join(ACTIONS)
        print(f"usage: python -m action_scripts <action>  (one of: {names})", file=sys.stderr)
        return 2
    return ACTIONS[args[0]].run()
