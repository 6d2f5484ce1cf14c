"""The local invoke hook: Invoke of a bench-registry image runs the app's real handler."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from factory_bench.local_run import COPY_IGNORE
from factory_bench.moto_ext_lambda_bench_invoke import (
    ImageSetupError,
    bench_image,
    image_dependencies,
    image_python,
    prune,
)
from factory_bench.stack import Bench
from factory_bench.testing import BenchRegistry
from tests.helpers import SUITE_DIR
from tests.helpers.ecr import run_push, unique

HELLO_STATS = SUITE_DIR / "examples" / "hello-stats"


@pytest.mark.parametrize(
    "uri,expected",
    [
        ("127.0.0.1:5000/app@sha256:" + "a" * 64, ("127.0.0.1:5000", "app", "sha256:" + "a" * 64)),
        (
            "localhost:5000/team/app@sha256:" + "b" * 64,
            ("localhost:5000", "team/app", "sha256:" + "b" * 64),
        ),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:" + "a" * 64, None),
        ("127.0.0.1:5000/app:latest", None),
    ],
)
def test_only_digest_pinned_loopback_images_are_run(uri: str, expected: object) -> None:
    """The hook takes only digest-pinned images in a loopback registry; others keep moto's echo."""
    assert bench_image(uri) == expected


def push_image(bench: Bench, registry: BenchRegistry, context: Path, tmp: Path) -> str:
    """Build ``context``'s Dockerfile.bench and push it by the ecr-push code path: its image URI."""
    tmp.mkdir(parents=True, exist_ok=True)
    mp = pytest.MonkeyPatch()
    try:
        run = run_push(
            mp,
            _NullCapture(),
            tmp,
            bench=bench,
            registry_url=registry.url,
            workspace=context,
            inputs={
                "repository": unique(context.name),
                "context": str(context),
                "dockerfile": str(context / "Dockerfile.bench"),
                "create-repository": "true",
                "fail-on-severity": "none",
            },
        )
    finally:
        mp.undo()
    assert run.code == 0, run.log
    return run.outputs["image-uri"]


@pytest.fixture(scope="module")
def hello_stats_image(
    bench: Bench,
    registry: BenchRegistry,
    buildah: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    """hello-stats built from its bench Dockerfile and pushed by the ecr-push code path, with
    its runtime library vendored (the example links it; `factory init` copies it)."""
    tmp = tmp_path_factory.mktemp("hello-stats-push")
    context = tmp / "hello-stats"
    shutil.copytree(HELLO_STATS, context, symlinks=False,
                    ignore=shutil.ignore_patterns(*COPY_IGNORE))
    return push_image(bench, registry, context, tmp / "push")


class _NullCapture:
    """Stands in for pytest's capsys in a module-scoped fixture (output is not inspected)."""

    def readouterr(self) -> Any:
        return type("Captured", (), {"out": "", "err": ""})()


def make_function(bench: Bench, image_uri: str, env: dict[str, str]) -> str:
    name = unique("hello-stats-fn")
    role = bench.lambda_execution_role(name)
    bench.admin_client("lambda").create_function(
        FunctionName=name,
        PackageType="Image",
        Code={"ImageUri": image_uri},
        Role=role,
        Timeout=30,
        Environment={"Variables": env},
    )
    return name


def test_invoke_runs_the_real_handler_against_moto(bench: Bench, hello_stats_image: str) -> None:
    """The handler reads a secret and a raw S3 object from moto and writes the processed result."""
    bucket, secret = unique("hoopstat-data"), unique("hello-stats/signing")
    s3, sm = bench.admin_client("s3"), bench.admin_client("secretsmanager")
    s3.create_bucket(Bucket=bucket)
    box = (HELLO_STATS / "smoke" / "box-score.json").read_bytes()
    s3.put_object(
        Bucket=bucket, Key="raw/nba-api/box-scores/dt=2024-03-15/0022300061.json", Body=box
    )
    sm.create_secret(Name=secret, SecretString=json.dumps({"signing_key": "k" * 32}))
    name = make_function(
        bench,
        hello_stats_image,
        {
            "HOOPSTAT_DATA_BUCKET": bucket,
            "HELLO_STATS_SECRET_NAME": secret,
            "POWERTOOLS_SERVICE_NAME": "hello-stats",
        },
    )
    event = (HELLO_STATS / "smoke" / "event.json").read_bytes()
    reply = bench.admin_client("lambda").invoke(FunctionName=name, Payload=event)
    payload = json.loads(reply["Payload"].read())
    assert "FunctionError" not in reply, payload
    assert payload != json.loads(event)  # not moto's echo
    written = s3.list_objects_v2(Bucket=bucket, Prefix="processed/")["Contents"]
    assert len(written) == 1
    logs = bench.admin_client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")
    messages = [e["message"] for e in logs["events"]]
    assert any(m.startswith("START RequestId:") for m in messages)
    assert not any("k" * 32 in m for m in messages)  # the secret never reaches the logs


def test_handler_exception_is_a_function_error(bench: Bench, hello_stats_image: str) -> None:
    """A handler that raises answers FunctionError Unhandled with Lambda's error shape."""
    name = make_function(
        bench,
        hello_stats_image,
        {
            "HOOPSTAT_DATA_BUCKET": unique("missing-bucket"),
            "HELLO_STATS_SECRET_NAME": unique("missing-secret"),
        },
    )
    reply = bench.admin_client("lambda").invoke(
        FunctionName=name, Payload=(HELLO_STATS / "smoke" / "event.json").read_bytes()
    )
    assert reply.get("FunctionError") == "Unhandled"
    error = json.loads(reply["Payload"].read())
    assert set(error) == {"errorMessage", "errorType", "stackTrace"}


# -- the image's Python and requirements, not the bench's --------------------------------------

PROBE_HANDLER = """import importlib.util, sys
import tinylib

def handler(event, context):
    seen = [m for m in ("factory_bench", "moto", "boto3", "action_scripts", "hoopstat_runtime")
            if importlib.util.find_spec(m)]
    return {"python": list(sys.version_info[:2]), "tinylib": tinylib.VALUE, "suite": seen}
"""


def tiny_wheel(directory: Path, value: str) -> str:
    """A pure-Python wheel ``tinylib`` (built here: no package index, no build backend)."""
    files = {
        "tinylib/__init__.py": f"VALUE = {value!r}\n",
        "tinylib-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tinylib\nVersion: 1.0\n",
        "tinylib-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\n"
                                       "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    def digest(text: str) -> str:
        raw = hashlib.sha256(text.encode()).digest()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    record = [f"{name},sha256={digest(text)},{len(text.encode())}" for name, text in files.items()]
    files["tinylib-1.0.dist-info/RECORD"] = "\n".join([*record, "tinylib-1.0.dist-info/RECORD,,"])
    name = "tinylib-1.0-py3-none-any.whl"
    directory.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(directory / name, "w") as wheel:
        for path, text in files.items():
            # A fixed date: the same wheel bytes every run, so the hook's install is reused.
            wheel.writestr(zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0)), text)
    return name


def probe_app(root: Path, *, labels: str, requirement: str) -> Path:
    """An app whose bench image carries ``labels`` and a requirements file naming
    ``requirement`` (relative to /tmp/build, beside libs/)."""
    root.mkdir(parents=True)
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "handler.py").write_text(PROBE_HANDLER)
    (root / "requirements.txt").write_text(f"{requirement}\n")
    tiny_wheel(root / "libs", "from-the-image")
    (root / "Dockerfile.bench").write_text(
        "FROM scratch\n"
        f"LABEL dev.hoopstat.bench-only=\"true\" {labels}\n"
        "ENV LAMBDA_TASK_ROOT=/var/task\n"
        "COPY requirements.txt /tmp/build/\n"
        "COPY libs/ /tmp/build/libs/\n"
        "COPY app/ /var/task/app/\n"
        'CMD ["app.handler.handler"]\n')
    return root


def invoke(bench: Bench, image_uri: str) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """(reply, payload, log lines) of one invoke of a new function on ``image_uri``."""
    name = make_function(bench, image_uri, {})
    reply = bench.admin_client("lambda").invoke(FunctionName=name, Payload=b"{}")
    payload = json.loads(reply["Payload"].read())
    logs = bench.admin_client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")
    return reply, payload, [e["message"] for e in logs["events"]]


REQUIRE_WHEEL = "./libs/tinylib-1.0-py3-none-any.whl"
IMAGE_LABELS = ('dev.hoopstat.bench-python="3.12" '
                'dev.hoopstat.bench-requirements="/tmp/build/requirements.txt"')


def test_handler_runs_on_the_image_python_with_only_the_image_requirements(
        bench: Bench, registry: BenchRegistry, buildah: str, tmp_path: Path) -> None:
    """The handler runs on the Python the image names (3.12, not the bench's 3.11) with the
    image's requirements installed, and can import none of the bench's packages (moto, boto3,
    the suite's own)."""
    app = probe_app(tmp_path / "probe-app", labels=IMAGE_LABELS, requirement=REQUIRE_WHEEL)
    reply, payload, _ = invoke(bench, push_image(bench, registry, app, tmp_path / "push"))
    assert "FunctionError" not in reply, payload
    assert payload == {"python": [3, 12], "tinylib": "from-the-image", "suite": []}


def test_a_requirement_that_cannot_install_fails_the_invoke_naming_the_file(
        bench: Bench, registry: BenchRegistry, buildah: str, tmp_path: Path) -> None:
    """A requirements file naming a lib the image lacks fails the invoke (as it would fail the
    real image's build), with the file and pip's reason, and the handler never runs."""
    app = probe_app(tmp_path / "broken-app", labels=IMAGE_LABELS,
                    requirement="./libs/hoopstat-missing")
    reply, payload, logs = invoke(bench, push_image(bench, registry, app, tmp_path / "push"))
    assert reply.get("FunctionError") == "Unhandled"
    assert payload["errorType"] == "Runtime.BenchImageSetup"
    assert "/tmp/build/requirements.txt" in payload["errorMessage"]
    assert "hoopstat-missing" in payload["errorMessage"]
    assert any("could not be installed" in line for line in logs)


def test_an_image_naming_no_python_runs_on_the_bench_and_its_log_says_so(
        bench: Bench, registry: BenchRegistry, buildah: str, tmp_path: Path) -> None:
    """Without the bench-python label the handler runs on the bench's own Python and packages,
    and the function's log says so instead of passing for the image."""
    app = probe_app(tmp_path / "legacy-app", labels="", requirement=REQUIRE_WHEEL)
    (app / "app" / "handler.py").write_text(PROBE_HANDLER.replace("import tinylib\n", "")
                                            .replace('tinylib.VALUE', '"absent"'))
    reply, payload, logs = invoke(bench, push_image(bench, registry, app, tmp_path / "push"))
    assert "FunctionError" not in reply, payload
    assert payload["python"] == [3, 11] and "moto" in payload["suite"]
    assert any("has no dev.hoopstat.bench-python label" in line for line in logs)


def test_prune_keeps_the_recently_used_installs_and_any_young_one(tmp_path: Path) -> None:
    """Installs beyond the most recently used are removed with their lock files, but never the
    one just made nor one used within the age limit (a handler may be running from it)."""
    now = time.time()
    ages = {"just-made": 7300, "young-1": 10, "young-2": 20, "old-1": 7200, "old-2": 7250}
    for name, age in ages.items():
        entry = tmp_path / name
        (entry / "pkg").mkdir(parents=True)
        (entry / ".ready").write_text("x")
        Path(f"{entry}.lock").write_text("")
        os.utime(entry / ".ready", (now - age, now - age))
    removed = prune(tmp_path, keep=tmp_path / "just-made", entries=2, min_age_seconds=3600)
    # By count: just-made and the most recently used other (young-1); young-2 by its age.
    assert sorted(p.name for p in removed) == ["old-1", "old-2"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == [
        "just-made", "young-1", "young-2"]
    assert not (tmp_path / "old-1.lock").exists() and (tmp_path / "young-2.lock").exists()


def test_unpacked_images_stay_in_the_bench_and_go_with_it(bench: Bench, hello_stats_image: str,
                                                          tmp_path: Path) -> None:
    """The hook unpacks an invoked image under the bench's own directory (not the machine's
    /tmp, where every moto start used to leave one), and a stopped bench removes it."""
    bench.admin_client("lambda").invoke(FunctionName=make_function(bench, hello_stats_image, {}),
                                        Payload=b"{}")
    digest = hello_stats_image.split("@", 1)[1].replace(":", "-")
    assert (bench.images_dir / digest / "var" / "task" / "app").is_dir()
    other = Bench(tmp_path / "bench")
    with other:
        (other.images_dir / "sha256-x").mkdir(parents=True)
    assert not other.images_dir.exists()


@pytest.mark.parametrize("label", ["3.x", "python3.12", "3.12; rm -rf /"])
def test_a_python_label_the_bench_cannot_read_is_refused_naming_it(label: str) -> None:
    """A bench-python label that is not 3.X or 3.X.Y fails the image's setup, naming the label
    and the value, before anything runs."""
    with pytest.raises(ImageSetupError) as refused:
        image_python(label)
    assert f"dev.hoopstat.bench-python={label!r}" in str(refused.value)


@pytest.mark.parametrize("requirements", ["/../../etc/hostname", "/tmp/build/escape.txt",
                                          "/tmp/build/absent.txt"])
def test_a_requirements_label_outside_the_image_is_refused(tmp_path: Path,
                                                           requirements: str) -> None:
    """A requirements label naming a path that climbs out of the image, a symlink leaving it, or
    no file at all is refused, naming the label and the fix; pip never runs."""
    rootfs = tmp_path / "rootfs"
    (rootfs / "tmp" / "build").mkdir(parents=True)
    (rootfs / "tmp" / "build" / "escape.txt").symlink_to("/etc/hostname")
    with pytest.raises(ImageSetupError) as refused:
        image_dependencies(sys.executable, rootfs, requirements)
    assert "dev.hoopstat.bench-requirements" in str(refused.value)
    assert "the image has no such file" in str(refused.value)
