"""ecr-push end to end in-process: real buildah, real docker-registry bridged into moto's ECR."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from factory_bench.stack import Bench
from factory_bench.testing import BenchRegistry, need_tool, write_app
from tests.helpers.ecr import PushRun, git_sha, run_push, skopeo_inspect, unique
from tests.helpers.runner_commands import escaped


@pytest.fixture
def push(
    bench: Bench, registry: BenchRegistry, buildah: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> Any:
    # ecr-push runs as a step on a runner, which always sets GITHUB_ACTIONS=true; without it the
    # runner module speaks to a terminal (no workflow commands), which these tests do not check.
    monkeypatch.setenv("GITHUB_ACTIONS", "true")

    def run(workspace: Path, inputs: dict[str, str], **kwargs: Any) -> PushRun:
        return run_push(monkeypatch, capsys, tmp_path, bench=bench, registry_url=registry.url,
                        registry_log=registry.log_tail, workspace=workspace, inputs=inputs,
                        **kwargs)
    return run


def make_repo(bench: Bench, name: str, *, mutability: str = "IMMUTABLE",
              scan_on_push: bool = True) -> None:
    bench.admin_client("ecr").create_repository(
        repositoryName=name, imageTagMutability=mutability,
        imageScanningConfiguration={"scanOnPush": scan_on_push},
    )


def images(bench: Bench, repository: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = bench.admin_client("ecr").describe_images(
        repositoryName=repository)["imageDetails"]
    return found


def set_scan_results(bench: Bench, repository: str, *, status: str = "COMPLETE",
                     findings: list[dict[str, Any]] | None = None) -> None:
    """Queue a hand-made DescribeImageScanFindings answer in moto for this repository."""
    counts: dict[str, int] = {}
    for finding in findings or []:
        counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
    result = {
        "registryId": "123456789012", "repositoryName": repository, "imageId": {},
        "imageScanStatus": {"status": status, "description": status},
        "imageScanFindings": {"findings": findings or [], "findingSeverityCounts": counts},
    }
    request = urllib.request.Request(
        f"{bench.moto_url}/moto-api/static/ecr/scan-finding-results",
        data=json.dumps({"results": [result], "region": bench.region}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    urllib.request.urlopen(request, timeout=5).read()


def test_first_push_builds_and_image_is_pullable_by_digest(
    push: Any, bench: Bench, registry: BenchRegistry, tmp_path: Path,
) -> None:
    """A first push builds, tags src-<hash> and the SHA; the output digest pulls a v2s2 image."""
    need_tool("skopeo", install_hint="apt-get install skopeo")
    repo = unique("app/first")
    make_repo(bench, repo)
    app = write_app(tmp_path / "app")
    sha = git_sha()
    run = push(app, {"repository": repo}, sha=sha)
    assert run.code == 0, run.log + run.summary
    out = run.outputs
    assert out["cache-hit"] == "false"
    digest = out["image-digest"]
    assert out["image-uri"] == f"{registry.host}/{repo}@{digest}"
    tags = out["image-tags"].split(",")
    assert tags[0].startswith("src-") and sha in tags and len(tags) == 2
    (ecr_image,) = images(bench, repo)
    assert ecr_image["imageDigest"] == digest and sorted(ecr_image["imageTags"]) == sorted(tags)
    raw = skopeo_inspect(out["image-uri"], username=registry.username,
                         password=registry.password, raw=True)
    assert raw["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert "manifests" not in raw
    info = skopeo_inspect(out["image-uri"], username=registry.username, password=registry.password)
    assert info["Digest"] == digest
    labels = info["Labels"]
    assert labels["org.opencontainers.image.revision"] == sha
    assert labels["org.opencontainers.image.source"] == "https://github.com/hoopstat-haus/demo-app"
    assert labels["org.opencontainers.image.created"].endswith("Z")
    assert "::group::Build (buildah)" in run.log


def test_unchanged_inputs_are_a_cache_hit_and_a_changed_file_rebuilds(
    push: Any, bench: Bench, tmp_path: Path,
) -> None:
    """Same inputs at a new commit add the SHA tag without building; a changed file builds anew."""
    repo = unique("app/cache")
    make_repo(bench, repo)
    app = write_app(tmp_path / "app")
    first = push(app, {"repository": repo})
    assert first.code == 0, first.log
    sha2 = git_sha()
    second = push(app, {"repository": repo}, sha=sha2)
    assert second.code == 0, second.log
    assert second.outputs["cache-hit"] == "true"
    assert second.outputs["image-digest"] == first.outputs["image-digest"]
    assert "::group::Build" not in second.log and "Cache hit" in second.log
    assert sha2 in second.outputs["image-tags"].split(",")
    (only,) = images(bench, repo)
    assert sha2 in only["imageTags"]

    (app / "message.txt").write_text("changed\n")
    third = push(app, {"repository": repo})
    assert third.code == 0, third.log
    assert third.outputs["cache-hit"] == "false"
    assert third.outputs["image-digest"] != first.outputs["image-digest"]
    assert len(images(bench, repo)) == 2


def test_dockerignored_change_is_still_a_cache_hit(push: Any, bench: Bench, tmp_path: Path) -> None:
    """A change to a file .dockerignore excludes does not change the content tag."""
    repo = unique("app/ignore")
    make_repo(bench, repo)
    app = write_app(tmp_path / "app")
    (app / ".dockerignore").write_text("notes/\n")
    (app / "notes").mkdir()
    (app / "notes" / "todo.md").write_text("one\n")
    first = push(app, {"repository": repo})
    (app / "notes" / "todo.md").write_text("two\n")
    second = push(app, {"repository": repo})
    assert (first.code, second.code) == (0, 0), first.log + first.summary
    assert second.outputs["cache-hit"] == "true"


def test_unknown_repository_fails_without_create(push: Any, bench: Bench, tmp_path: Path) -> None:
    """A missing repository without create-repository fails repository-not-found; none is made."""
    repo = unique("app/missing")
    run = push(write_app(tmp_path / "app"), {"repository": repo})
    assert run.code == 1
    assert run.outputs["failure-reason"] == "repository-not-found"
    assert "::error title=ECR repository not found::" in run.log
    assert "create-repository" in run.summary
    names = [r["repositoryName"] for r in
             bench.admin_client("ecr").describe_repositories()["repositories"]]
    assert repo not in names


def test_create_repository_makes_it_immutable_scanned_and_with_lifecycle(
    push: Any, bench: Bench, tmp_path: Path,
) -> None:
    """create-repository: true creates an IMMUTABLE, scan-on-push repo with the lifecycle policy."""
    repo = unique("app/created")
    run = push(write_app(tmp_path / "app"), {"repository": repo, "create-repository": "true"})
    assert run.code == 0, run.log
    ecr = bench.admin_client("ecr")
    described = ecr.describe_repositories(repositoryNames=[repo])["repositories"][0]
    assert described["imageTagMutability"] == "IMMUTABLE"
    assert described["imageScanningConfiguration"]["scanOnPush"] is True
    policy = json.loads(ecr.get_lifecycle_policy(repositoryName=repo)["lifecyclePolicyText"])
    assert [r["rulePriority"] for r in policy["rules"]] == [1, 10, 20]


def test_mutable_repository_is_a_warning_with_the_fix(
    push: Any, bench: Bench, tmp_path: Path,
) -> None:
    """A MUTABLE repository still works but warns with the command that fixes it."""
    repo = unique("app/mutable")
    make_repo(bench, repo, mutability="MUTABLE")
    run = push(write_app(tmp_path / "app"), {"repository": repo})
    assert run.code == 0, run.log
    assert "::warning title=ECR tags are mutable::" in run.log
    assert "put-image-tag-mutability" in run.log


def test_tag_on_another_digest_fails_before_building(
    push: Any, bench: Bench, tmp_path: Path,
) -> None:
    """An extra tag already naming another image fails with tag-conflict and pushes nothing."""
    repo = unique("app/conflict")
    make_repo(bench, repo)
    app = write_app(tmp_path / "app")
    first = push(app, {"repository": repo, "extra-tags": "release-1"})
    assert first.code == 0, first.log
    (app / "message.txt").write_text("different\n")
    second = push(app, {"repository": repo, "extra-tags": "release-1"})
    assert second.code == 1
    assert second.outputs["failure-reason"] == "tag-conflict"
    assert "release-1" in second.log and "::group::Build" not in second.log
    (only,) = images(bench, repo)
    assert only["imageDigest"] == first.outputs["image-digest"]


def test_failing_build_leaves_nothing_in_ecr(push: Any, bench: Bench, tmp_path: Path) -> None:
    """A build whose RUN fails exits build-failed with the builder's output and tags nothing."""
    repo = unique("app/broken")
    make_repo(bench, repo)
    app = write_app(tmp_path / "app", dockerfile=(
        "FROM scratch\nCOPY busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "sh", "-c", "echo compile error >&2; exit 3"]\n'
    ))
    run = push(app, {"repository": repo})
    assert run.code == 1
    assert run.outputs["failure-reason"] == "build-failed"
    assert "compile error" in run.summary
    assert images(bench, repo) == []


def test_builder_output_cannot_issue_workflow_commands(
    push: Any, bench: Bench, tmp_path: Path,
) -> None:
    """A Dockerfile that prints ::error:: lines reaches the log defused, not as a command."""
    repo = unique("app/inject")
    make_repo(bench, repo)
    app = write_app(tmp_path / "app", dockerfile=(
        "FROM scratch\nCOPY busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "sh", "-c", "echo ::error title=pwned::injected"]\n'
    ))
    run = push(app, {"repository": repo, "fail-on-severity": "none"})
    assert run.code == 0, run.log
    assert "injected" in run.log
    assert escaped(run.log, "pwned") == []  # read by the real runner's rules


@pytest.mark.parametrize(
    ("inputs", "named"),
    [
        ({"dockerfile": "nope/Dockerfile"}, "Invalid input dockerfile"),
        ({"platform": "linux/amd64,linux/arm64"}, "Invalid input platform"),
        ({"builder": "kaniko"}, "Invalid input builder"),
        ({"fail-on-severity": "SEVERE"}, "Invalid input fail-on-severity"),
        ({"extra-tags": "src-mine"}, "Invalid input extra-tags"),
        ({"build-args": "NOEQUALS"}, "Invalid input build-args"),
        ({"repository": "Bad_Name"}, "Invalid input repository"),
    ],
)
def test_bad_inputs_fail_before_any_aws_call(
    push: Any, bench: Bench, tmp_path: Path, inputs: dict[str, str], named: str,
) -> None:
    """Each malformed input names itself in ::error, exits invalid-input and changes nothing."""
    repo = unique("app/badinput")
    make_repo(bench, repo)
    run = push(write_app(tmp_path / "app"), {"repository": repo, **inputs})
    assert run.code == 1
    assert run.outputs["failure-reason"] == "invalid-input"
    assert f"::error title={named}::" in run.log
    assert "Nothing was changed" in run.summary
    assert images(bench, repo) == []


def test_unreadable_dockerfile_fails_as_input(push: Any, bench: Bench, tmp_path: Path) -> None:
    """A Dockerfile that cannot be read (a dangling symlink) is a dockerfile input problem."""
    repo = unique("app/noread")
    make_repo(bench, repo)
    app = write_app(tmp_path / "app")
    (app / "Dockerfile").unlink()
    (app / "Dockerfile").symlink_to(tmp_path / "gone")
    run = push(app, {"repository": repo})
    assert run.code == 1
    assert "::error title=Invalid input dockerfile::" in run.log
    assert images(bench, repo) == []


def test_non_loopback_registry_endpoint_is_refused(push: Any, bench: Bench, tmp_path: Path) -> None:
    """The local-registry override only accepts loopback hosts: the ECR password goes there."""
    repo = unique("app/override")
    make_repo(bench, repo)
    run = push(write_app(tmp_path / "app"), {"repository": repo},
               extra_env={"HOOPSTAT_FACTORY_REGISTRY_ENDPOINT": "http://evil.example:5000"})
    assert run.code == 1
    assert "::error title=Invalid input HOOPSTAT_FACTORY_REGISTRY_ENDPOINT::" in run.log


def test_scan_gate_fails_on_threshold_and_leaves_only_the_content_tag(
    push: Any, bench: Bench, tmp_path: Path,
) -> None:
    """moto's canned HIGH finding fails fail-on-severity HIGH; the SHA tag is never added."""
    repo = unique("app/gate")
    make_repo(bench, repo)
    sha = git_sha()
    run = push(write_app(tmp_path / "app"), {"repository": repo, "fail-on-severity": "HIGH"},
               sha=sha)
    assert run.code == 1
    assert run.outputs["failure-reason"] == "scan-findings"
    assert "image-uri" not in run.outputs
    assert "| HIGH | [CVE-9999-9999]" in run.summary
    (image,) = images(bench, repo)
    assert [t[:4] for t in image["imageTags"]] == ["src-"] and sha not in image["imageTags"]


def test_scan_gate_passes_below_threshold(push: Any, bench: Bench, tmp_path: Path) -> None:
    """The same canned HIGH finding passes under fail-on-severity CRITICAL and is tabled."""
    repo = unique("app/gatepass")
    make_repo(bench, repo)
    run = push(write_app(tmp_path / "app"), {"repository": repo, "fail-on-severity": "CRITICAL"})
    assert run.code == 0, run.log
    assert "HIGH: 1" in run.summary


def test_scan_gate_on_hand_made_critical_findings(push: Any, bench: Bench, tmp_path: Path) -> None:
    """A hand-made CRITICAL finding set fails the default gate and lists the package."""
    repo = unique("app/critical")
    make_repo(bench, repo)
    set_scan_results(bench, repo, findings=[
        {"name": "CVE-2024-0001", "severity": "CRITICAL", "uri": "https://example.org/1",
         "attributes": [{"key": "package_name", "value": "openssl"}]},
        {"name": "CVE-2024-0002", "severity": "LOW", "attributes": []},
    ])
    run = push(write_app(tmp_path / "app"), {"repository": repo})
    assert run.code == 1
    assert run.outputs["failure-reason"] == "scan-findings"
    assert "1 CRITICAL" in run.log
    assert "| CRITICAL | [CVE-2024-0001](https://example.org/1) | openssl |" in run.summary


def test_scan_still_in_progress_times_out(push: Any, bench: Bench, tmp_path: Path) -> None:
    """A scan that never completes fails with scan-timeout after scan-timeout-seconds."""
    repo = unique("app/slowscan")
    make_repo(bench, repo)
    set_scan_results(bench, repo, status="IN_PROGRESS")
    run = push(write_app(tmp_path / "app"),
               {"repository": repo, "scan-timeout-seconds": "1"})
    assert run.code == 1
    assert run.outputs["failure-reason"] == "scan-timeout"
    assert "elapsed" in run.log


def test_repository_without_scan_on_push_gets_a_scan_started(
    push: Any, bench: Bench, tmp_path: Path,
) -> None:
    """Without scan-on-push the action warns, starts a scan itself, and gates on its result."""
    repo = unique("app/noscan")
    make_repo(bench, repo, scan_on_push=False)
    run = push(write_app(tmp_path / "app"), {"repository": repo, "fail-on-severity": "HIGH"})
    assert run.code == 1
    assert "::warning title=ECR scan-on-push is off::" in run.log
    assert "started one (StartImageScan)" in run.log
    assert run.outputs["failure-reason"] == "scan-findings"


def test_rerun_of_the_same_commit_changes_nothing(push: Any, bench: Bench, tmp_path: Path) -> None:
    """A re-run of one commit is a cache hit that adds no tag and reports the same outputs."""
    repo = unique("app/rerun")
    make_repo(bench, repo)
    app = write_app(tmp_path / "app")
    sha = git_sha()
    first = push(app, {"repository": repo, "extra-tags": "release-7"}, sha=sha)
    again = push(app, {"repository": repo, "extra-tags": "release-7"}, sha=sha)
    assert first.code == 0, first.log + first.bench_log
    assert again.code == 0, again.log + again.bench_log
    assert again.outputs["cache-hit"] == "true"
    for name in ("image-uri", "image-digest", "image-tags"):
        assert again.outputs[name] == first.outputs[name]
    (image,) = images(bench, repo)
    assert sorted(image["imageTags"]) == sorted(first.outputs["image-tags"].split(","))


# --- A repository shared by several apps: tag-prefix (docs/adr/0010-shared-ecr-repository.md) ---


def test_two_apps_in_one_repository_keep_their_own_tags_and_cache(
    push: Any, bench: Bench, tmp_path: Path,
) -> None:
    """Two prefixes in one repository get distinct content tags and per-app cache hits, even after
    the other app pushed, and identical build inputs in another namespace are not a hit."""
    repo = unique("shared/prod")
    make_repo(bench, repo)
    app_a = write_app(tmp_path / "a", message="box scores")
    app_b = write_app(tmp_path / "b", message="ingest")
    sha1, sha2 = git_sha(), git_sha()
    a1 = push(app_a, {"repository": repo, "tag-prefix": "box-scores-"}, sha=sha1)
    b1 = push(app_b, {"repository": repo, "tag-prefix": "ingest-"}, sha=sha1)
    assert (a1.code, b1.code) == (0, 0), a1.log + b1.log
    a_tags, b_tags = a1.outputs["image-tags"].split(","), b1.outputs["image-tags"].split(",")
    assert a_tags[0].startswith("box-scores-src-") and len(a_tags[0]) == len("box-scores-src-") + 40
    assert sorted(a_tags) == sorted([a_tags[0], f"box-scores-{sha1}"])
    assert b_tags[0].startswith("ingest-src-") and f"ingest-{sha1}" in b_tags
    assert a1.outputs["cache-hit"] == b1.outputs["cache-hit"] == "false"

    # App A unchanged at the next commit: a cache hit although app B pushed in between.
    a2 = push(app_a, {"repository": repo, "tag-prefix": "box-scores-"}, sha=sha2)
    assert a2.code == 0, a2.log
    assert a2.outputs["cache-hit"] == "true" and "::group::Build" not in a2.log
    assert a2.outputs["image-digest"] == a1.outputs["image-digest"]
    assert f"box-scores-{sha2}" in a2.outputs["image-tags"].split(",")

    # App B's namespace never sees app A's builds: A's inputs under B's prefix build anew.
    b2 = push(app_a, {"repository": repo, "tag-prefix": "ingest-"}, sha=sha2)
    assert b2.code == 0, b2.log
    assert b2.outputs["cache-hit"] == "false"
    assert b2.outputs["image-tags"].split(",")[0] == "ingest-" + a_tags[0][len("box-scores-"):]

    by_digest = {i["imageDigest"]: sorted(i["imageTags"]) for i in images(bench, repo)}
    assert len(by_digest) == 3
    assert by_digest[b1.outputs["image-digest"]] == sorted(b_tags)
    for tags in by_digest.values():
        assert len({t.split("-src-")[0] for t in tags if "-src-" in t}) == 1


@pytest.mark.parametrize(
    ("prefix", "why"),
    [
        ("api/", "is not valid"),
        ("api", "is not valid"),  # no trailing `-`: `api<sha>` cannot be told apart
        ("lambda-api-", "reserved word"),
        ("my-src-", "reserved word"),
        ("a" * 84 + "-", "characters long; ECR allows 128"),
    ],
)
def test_bad_tag_prefix_fails_naming_it_and_pushes_nothing(
    push: Any, bench: Bench, tmp_path: Path, prefix: str, why: str,
) -> None:
    """A tag-prefix with bad characters, a reserved word or a too-long longest tag fails with an
    ::error naming tag-prefix before any AWS call: no repository created, nothing pushed."""
    repo = unique("shared/badprefix")
    run = push(write_app(tmp_path / "app"),
               {"repository": repo, "tag-prefix": prefix, "create-repository": "true"})
    assert run.code == 1
    assert run.outputs["failure-reason"] == "invalid-input"
    error = next(line for line in run.log.splitlines() if line.startswith("::error"))
    assert error.startswith("::error title=Invalid input tag-prefix::"), run.log
    assert why in error
    names = [r["repositoryName"] for r in
             bench.admin_client("ecr").describe_repositories()["repositories"]]
    assert repo not in names


def test_longest_prefix_that_fits_is_accepted(push: Any, bench: Bench, tmp_path: Path) -> None:
    """An 84-character prefix makes the content tag exactly 128 characters: accepted and pushed."""
    repo = unique("shared/longprefix")
    make_repo(bench, repo)
    run = push(write_app(tmp_path / "app"), {"repository": repo, "tag-prefix": "a" * 83 + "-"})
    assert run.code == 0, run.log
    assert max(len(t) for t in run.outputs["image-tags"].split(",")) == 128


def test_extra_tags_go_under_the_prefix(push: Any, bench: Bench, tmp_path: Path) -> None:
    """With tag-prefix, extra tags are written as <prefix><tag>; one holding `src-` is refused."""
    repo = unique("shared/extra")
    make_repo(bench, repo)
    app = write_app(tmp_path / "app")
    run = push(app, {"repository": repo, "tag-prefix": "api-", "extra-tags": "release-1"})
    assert run.code == 0, run.log
    assert "api-release-1" in run.outputs["image-tags"].split(",")
    bad = push(app, {"repository": repo, "tag-prefix": "api-", "extra-tags": "x-src-1"})
    assert bad.code == 1
    assert "::error title=Invalid input extra-tags::" in bad.log


def test_create_repository_with_prefix_writes_a_per_app_rule(
    push: Any, bench: Bench, tmp_path: Path,
) -> None:
    """create-repository with tag-prefix writes the policy whose build rule counts only
    <prefix>src-* images, and keeps the lambda-* protection rule first."""
    repo = unique("shared/created")
    run = push(write_app(tmp_path / "app"),
               {"repository": repo, "tag-prefix": "api-", "create-repository": "true"})
    assert run.code == 0, run.log
    policy = json.loads(bench.admin_client("ecr").get_lifecycle_policy(
        repositoryName=repo)["lifecyclePolicyText"])
    patterns = {r["rulePriority"]: r["selection"].get("tagPatternList") for r in policy["rules"]}
    assert patterns == {1: ["lambda-*"], 10: None, 20: ["api-src-*"]}


POOLED_RULE = {"rulePriority": 20, "description": "pooled", "action": {"type": "expire"},
               "selection": {"tagStatus": "tagged", "tagPatternList": ["*src-*"],
                             "countType": "imageCountMoreThan", "countNumber": 30}}


@pytest.mark.parametrize(
    ("policy", "warning"),
    [
        (None, "No ECR lifecycle policy"),
        ({"rules": [POOLED_RULE]}, "ECR lifecycle policy mixes apps"),
        ("per-app", None),
    ],
)
def test_shared_repository_policy_is_checked_for_the_prefix(
    push: Any, bench: Bench, tmp_path: Path, policy: Any, warning: str | None,
) -> None:
    """Pushing with tag-prefix to an existing repository warns when its lifecycle policy is missing
    or pools apps (another app's pushes would expire this app's images); a per-app policy passes."""
    from action_scripts import ecr_lifecycle

    repo = unique("shared/checked")
    make_repo(bench, repo)
    if policy == "per-app":
        policy = ecr_lifecycle.lifecycle_policy(tag_prefixes=("other-", "api-"))
    if policy is not None:
        bench.admin_client("ecr").put_lifecycle_policy(
            repositoryName=repo, lifecyclePolicyText=json.dumps(policy))
    run = push(write_app(tmp_path / "app"), {"repository": repo, "tag-prefix": "api-"})
    assert run.code == 0, run.log
    warnings = [line for line in run.log.splitlines() if line.startswith("::warning")]
    if warning is None:
        assert warnings == []
    else:
        (line,) = warnings
        assert line.startswith(f"::warning title={warning}::") and "`apps`" in line


def test_two_unprefixed_apps_building_one_commit_are_told_to_use_prefixes(
    push: Any, bench: Bench, tmp_path: Path,
) -> None:
    """Two apps without tag-prefix pushing one commit to one repository fail with tag-conflict
    before building, and the error names tag-prefix as the fix."""
    repo = unique("shared/unprefixed")
    make_repo(bench, repo)
    sha = git_sha()
    first = push(write_app(tmp_path / "a", message="a"), {"repository": repo}, sha=sha)
    assert first.code == 0, first.log
    second = push(write_app(tmp_path / "b", message="b"), {"repository": repo}, sha=sha)
    assert second.code == 1
    assert second.outputs["failure-reason"] == "tag-conflict"
    error = next(line for line in second.log.splitlines() if line.startswith("::error"))
    assert "`tag-prefix`" in error and "src-" in error
    assert "::group::Build" not in second.log
    assert len(images(bench, repo)) == 1
