"""Helpers shared by the rotation tests: start a rotation in moto, run the steps, read stages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from factory_bench.stack import Bench
from hoopstat_secret_rotation import handler

Secret = dict[str, Any]


def start_rotation(aws: Bench, secret: Secret, rotation_function: str) -> str:
    """Ask Secrets Manager (moto) to rotate; return the token it staged as AWSPENDING.

    moto's no-Docker Lambda does not run our code for the four invocations it makes, so the
    tests then call the handler with each step's event themselves (:func:`run_steps`).
    """
    sm = aws.admin_client("secretsmanager")
    response = sm.rotate_secret(SecretId=secret["arn"], RotationLambdaARN=rotation_function,
                                RotationRules={"AutomaticallyAfterDays": 30})
    return str(response["VersionId"])


def step_event(secret: Secret, token: str, step: str) -> dict[str, str]:
    return {"Step": step, "SecretId": secret["arn"], "ClientRequestToken": token}


def run_steps(secret: Secret, token: str, *, steps: tuple[str, ...] = handler.STEPS,
              between: Callable[[str], None] | None = None) -> None:
    for step in steps:
        handler.lambda_handler(step_event(secret, token, step), None)
        if between:
            between(step)


def stages(aws: Bench, secret: Secret) -> dict[str, list[str]]:
    described = aws.admin_client("secretsmanager").describe_secret(SecretId=secret["arn"])
    return dict(described["VersionIdsToStages"])


def value_at(aws: Bench, secret: Secret, stage: str) -> str:
    return str(aws.admin_client("secretsmanager").get_secret_value(
        SecretId=secret["arn"], VersionStage=stage)["SecretString"])
