"""Builder command lines (docker cannot run here, so its argv is checked), auth file, log relay."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from action_scripts.ecr_build import (
    BuildRequest,
    buildah_build_argv,
    buildah_push_argv,
    docker_build_argv,
    docker_login_argv,
    docker_logout_argv,
    run_logged,
    write_authfile,
)
from action_scripts.ecr_registry import Login, Registry
from action_scripts.errors import FactoryError
from tests.helpers.runner_commands import escaped

REGISTRY = Registry.from_url("https://123456789012.dkr.ecr.us-east-1.amazonaws.com")
LOGIN = Login(registry=REGISTRY, username="AWS", password="s3cr3t-password")


def request(**overrides: object) -> BuildRequest:
    args: dict[str, object] = {
        "context": Path("/ws/app"), "dockerfile": Path("/ws/app/Dockerfile"),
        "build_args": (("PYTHON", "3.12"),), "platform": "linux/arm64",
        "labels": (("org.opencontainers.image.revision", "abc"),),
        "destination": f"{REGISTRY.host}/hoopstat/api:src-123",
    }
    args.update(overrides)
    return BuildRequest(**args)  # type: ignore[arg-type]


def test_docker_argv_pushes_one_manifest_without_attestations(tmp_path: Path) -> None:
    """docker buildx: no provenance or SBOM, one platform, pushes v2s2, records the digest."""
    argv = docker_build_argv(request(), metadata_file=tmp_path / "meta.json")
    assert argv[:3] == ["docker", "buildx", "build"]
    assert "--provenance=false" in argv and "--sbom=false" in argv
    assert argv[argv.index("--platform") + 1] == "linux/arm64"
    assert argv[argv.index("--output") + 1] == "type=image,push=true,oci-mediatypes=false"
    assert argv[argv.index("--tag") + 1] == f"{REGISTRY.host}/hoopstat/api:src-123"
    assert argv[argv.index("--build-arg") + 1] == "PYTHON=3.12"
    assert argv[argv.index("--label") + 1] == "org.opencontainers.image.revision=abc"
    assert argv[argv.index("--file") + 1] == "/ws/app/Dockerfile"
    assert argv[argv.index("--metadata-file") + 1] == str(tmp_path / "meta.json")
    assert argv[-1] == "/ws/app"
    assert not any("s3cr3t" in a for a in argv)


def test_docker_login_reads_the_password_from_stdin() -> None:
    """docker login gets --password-stdin (never the password in argv); logout names the host."""
    assert docker_login_argv(LOGIN) == [
        "docker", "login", "--username", "AWS", "--password-stdin", REGISTRY.host]
    assert docker_logout_argv(LOGIN) == ["docker", "logout", REGISTRY.host]


def test_buildah_argv_uses_chroot_vfs_and_private_storage(tmp_path: Path) -> None:
    """buildah builds with chroot isolation and vfs in a per-run root; push writes v2s2 + digest."""
    build = buildah_build_argv(request(), root=tmp_path / "r", runroot=tmp_path / "rr",
                               local_name="localhost/x")
    assert build[:8] == ["buildah", "--root", str(tmp_path / "r"), "--runroot",
                         str(tmp_path / "rr"), "--storage-driver", "vfs", "build"]
    assert build[build.index("--isolation") + 1] == "chroot"
    assert build[build.index("--format") + 1] == "docker"
    push = buildah_push_argv(request(), root=tmp_path / "r", runroot=tmp_path / "rr",
                             local_name="localhost/x", authfile=tmp_path / "auth.json",
                             digestfile=tmp_path / "digest")
    assert push[push.index("--format") + 1] == "v2s2"
    assert "--tls-verify=true" in push
    assert push[-1] == f"docker://{REGISTRY.host}/hoopstat/api:src-123"
    plain = buildah_push_argv(request(plain_http=True), root=tmp_path, runroot=tmp_path,
                              local_name="x", authfile=tmp_path, digestfile=tmp_path)
    assert "--tls-verify=false" in plain


def test_authfile_is_private_and_names_only_the_registry(tmp_path: Path) -> None:
    """The auth file is mode 0600 and holds the base64 user:password for the one registry."""
    path = tmp_path / "auth.json"
    write_authfile(path, LOGIN)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    auths = json.loads(path.read_text())["auths"]
    assert list(auths) == [REGISTRY.host]
    import base64
    assert base64.b64decode(auths[REGISTRY.host]["auth"]).decode() == "AWS:s3cr3t-password"


def test_run_logged_defuses_commands_and_reports_the_tail(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Tool output that looks like ::commands:: is defused (by the real runner's parsing rules,
    nothing it prints is acted on); a failure carries the output tail."""
    script = "print('::warning::sneaky'); print('last words'); raise SystemExit(4)"
    with pytest.raises(FactoryError) as caught:
        run_logged([sys.executable, "-c", script], what="Image build")
    out = capsys.readouterr().out
    assert "::warning::sneaky" in out  # shown to the reader...
    assert escaped(out, "sneaky") == []  # ...but never acted on by the runner
    assert caught.value.reason == "build-failed"
    assert "exit 4" in caught.value.message and "last words" in caught.value.details


def test_missing_builder_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    """An absent builder binary fails readably, suggesting the other builder."""
    with pytest.raises(FactoryError) as caught:
        run_logged(["definitely-not-a-builder-xyz"], what="Image build")
    assert "not installed" in caught.value.message
