"""lambda-deploy through the bench's fault injector: throttling and 5xx on the calls it makes.

Throttles and transient 5xx must be retried until the deploy converges; failures that outlast the
retries must leave the alias on the previous version.
"""

from __future__ import annotations

from typing import Any

from action_scripts import lambda_deploy
from factory_bench.fault_proxy import FaultProxy
from factory_bench.stack import Bench
from tests.helpers.lambda_app import make_alarm, seed_app


def test_deploy_converges_through_throttling_and_5xx(
    run_action: Any, bench: Bench, proxy: FaultProxy
) -> None:
    """Throttles and 5xx on every kind of call the deploy makes are retried; the deploy lands."""
    app = seed_app(bench)
    alarm = make_alarm(app)
    faults = [
        ("lambda", "GetFunctionConfiguration", 429, 2), ("lambda", "GetAlias", 500, 1),
        ("ecr", "DescribeImages", 500, 2), ("cloudwatch", "DescribeAlarms", 400, 2),
        ("lambda", "UpdateFunctionCode", 429, 3), ("lambda", "PublishVersion", 503, 2),
        ("lambda", "Invoke", 429, 2), ("lambda", "UpdateAlias", 502, 2),
    ]
    for service, operation, status, times in faults:
        proxy.add(service=service, operation=operation, status=status, times=times)
    run = run_action(lambda_deploy.run, {
        "function-name": app.function, "image-uri": app.uri(1), "strategy": "canary-10-1",
        "alarm-names": alarm, "smoke-payload": '{"ok": true}', "smoke-expect": "ok",
    }, env={"AWS_ENDPOINT_URL": proxy.url})
    assert run.code == 0, run.stdout
    for service, operation, _, times in faults:
        assert proxy.injected.count(f"{service}:{operation}") == times, (operation, proxy.injected)
    assert app.alias()["FunctionVersion"] == "2"
    assert app.versions() == ["1", "2"]  # retried publishes did not publish twice


def test_update_failing_past_retries_leaves_alias(
    run_action: Any, bench: Bench, proxy: FaultProxy
) -> None:
    """UpdateFunctionCode failing on every attempt fails the deploy with nothing changed."""
    app = seed_app(bench)
    proxy.add(service="lambda", operation="UpdateFunctionCode", status=503, times=-1)
    run = run_action(lambda_deploy.run, {"function-name": app.function, "image-uri": app.uri(1)},
                     env={"AWS_ENDPOINT_URL": proxy.url})
    assert run.code == 1 and run.reason == "aws-error"
    assert proxy.injected.count("lambda:UpdateFunctionCode") > 1  # it was retried first
    assert app.alias()["FunctionVersion"] == "1"
    assert app.versions() == ["1"]


def test_final_alias_move_failing_rolls_back(
    run_action: Any, bench: Bench, proxy: FaultProxy
) -> None:
    """If the last alias move fails past its retries mid-canary, the alias goes back to previous."""
    app = seed_app(bench)
    alarm = make_alarm(app)
    # The canary step's UpdateAlias passes; the final move fails on all 6 attempts; the rollback
    # (the 8th UpdateAlias) passes.
    proxy.add(service="lambda", operation="UpdateAlias", status=503, times=6, skip=1)
    run = run_action(lambda_deploy.run, {
        "function-name": app.function, "image-uri": app.uri(1), "strategy": "canary-10-1",
        "alarm-names": alarm,
    }, env={"AWS_ENDPOINT_URL": proxy.url})
    assert run.code == 1, run.stdout
    assert "Traffic shift failed: rolled back" in run.summary
    assert run.outputs["rolled-back"] == "true"
    alias = app.alias()
    assert alias["FunctionVersion"] == "1"
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")


def test_alarm_check_failing_mid_canary_rolls_back(
    run_action: Any, bench: Bench, proxy: FaultProxy
) -> None:
    """If the alarms cannot be read during the canary, traffic is not left split: it rolls back."""
    app = seed_app(bench)
    alarm = make_alarm(app)
    # Preflight's DescribeAlarms passes; every watch poll after it fails.
    proxy.add(service="cloudwatch", operation="DescribeAlarms", status=500, times=-1, skip=1)
    run = run_action(lambda_deploy.run, {
        "function-name": app.function, "image-uri": app.uri(1), "strategy": "canary-10-1",
        "alarm-names": alarm,
    }, env={"AWS_ENDPOINT_URL": proxy.url})
    assert run.code == 1
    assert run.outputs["rolled-back"] == "true"
    assert app.alias()["FunctionVersion"] == "1"
