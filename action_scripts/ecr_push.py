"""ecr-push: build an image once per set of build inputs, push it to ECR, gate it on the scan.

Order: every input checked (and the build inputs hashed) before any AWS call; repository
preflight; tag conflicts checked before anything is built; then either a cache hit (``src-<hash>``
already in ECR: no build, no push) or a build pushed under ``src-<hash>`` only; the scan gate;
and only then the commit-SHA and extra tags. An image that fails the gate, or a run that fails
half-way, leaves at most the content tag, which a later run re-gates on its cache hit.

``tag-prefix`` puts every tag this action writes in one app's namespace of a repository shared
by several apps (``<prefix>src-<hash>``, ``<prefix><sha>``, ``<prefix><extra>``); rollback tags
(``lambda-<function>-<version>``) stay unprefixed. Why: docs/adr/0010-shared-ecr-repository.md.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from action_scripts import aws, ecr_repository, ecr_scan, runner, validate
from action_scripts.ecr_build import BUILDERS, Builder, BuildRequest, build_and_push
from action_scripts.ecr_registry import (
    ENDPOINT_EXPECTED,
    ENDPOINT_SETTING,
    Login,
    RegistryClient,
    RegistryError,
    check_endpoint_override,
    login,
)
from action_scripts.ecr_source_hash import source_hash
from action_scripts.errors import FactoryError

PLATFORM = re.compile(r"[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?", re.ASCII)
PLATFORM_EXPECTED = "one platform such as `linux/amd64` or `linux/arm64` (Lambda takes one)"
BUILD_ARG_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
FULL_GIT_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}", re.ASCII)
# A prefix ends in `-` so a tag reads `<app>-src-<hash>` / `<app>-<sha>` and the Terraform
# module's per-app rules (`<app>-src-*`) can select it; it may not hold `src-` (another app's
# content-tag pattern `<p>src-*` could then count its tags) nor start with `lambda-`
# (the rollback-protection rule would keep its builds forever).
IMAGE_TAG_MAX = 128  # ECR's (and the registry API's) longest tag
TAG_PREFIX = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*-", re.ASCII)
TAG_PREFIX_EXPECTED = (
    "empty, or letters, digits, `_`, `.` and `-` ending in `-` (e.g. `box-scores-`), without "
    "`src-` and not starting with `lambda-`, short enough that every tag fits ECR's "
    f"{IMAGE_TAG_MAX} characters"
)
# How long the ECR API may lag the registry (real ECR: not at all; the bench: milliseconds).
VISIBLE_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class PushInputs:
    repository: str
    context: Path
    dockerfile: Path
    build_args: tuple[tuple[str, str], ...]
    platform: str
    builder: Builder
    extra_tags: tuple[str, ...]
    fail_on_severity: str
    scan_timeout: int
    create_repository: bool
    git_sha: str
    registry_override: str
    source_url: str
    src_hash: str
    tag_prefix: str = ""

    @property
    def src_tag(self) -> str:
        return content_tag(self.tag_prefix, self.src_hash)

    @property
    def later_tags(self) -> list[str]:
        """Tags added after the gate, in order, without duplicates (all under the prefix)."""
        seen: list[str] = []
        for tag in (self.tag_prefix + self.git_sha,
                    *(self.tag_prefix + extra for extra in self.extra_tags)):
            if tag not in seen and tag != self.src_tag:
                seen.append(tag)
        return seen


def content_tag(prefix: str, src_hash: str) -> str:
    """The content address tag: ``<prefix>src-<40 hex>``."""
    return f"{prefix}src-{src_hash[:40]}"


def _tag_prefix(inputs: runner.Inputs, *, git_sha: str, extra: list[str]) -> str:
    """The validated ``tag-prefix``; each generated tag must still be a valid ECR tag."""
    prefix = inputs.raw("tag-prefix")
    if not prefix:
        return ""
    if not prefix.isascii() or not TAG_PREFIX.fullmatch(prefix):
        inputs.problem("tag-prefix", f"'{prefix}' is not valid.", TAG_PREFIX_EXPECTED)
        return ""
    if "src-" in prefix or prefix.startswith("lambda-"):
        inputs.problem("tag-prefix", f"'{prefix}' holds a reserved word (`src-` marks content "
                       "tags, `lambda-` rollback targets).", TAG_PREFIX_EXPECTED)
        return ""
    sha = git_sha if FULL_GIT_SHA.fullmatch(git_sha) else "0" * 40
    longest = max((content_tag(prefix, "0" * 40), prefix + sha), key=len)
    if len(longest) > IMAGE_TAG_MAX:
        inputs.problem("tag-prefix", f"'{prefix}' ({len(prefix)} characters) makes the tag "
                       f"'{longest}' {len(longest)} characters long; ECR allows "
                       f"{IMAGE_TAG_MAX}.", TAG_PREFIX_EXPECTED)
        return ""
    too_long = [t for t in extra if len(prefix + t) > IMAGE_TAG_MAX]
    if too_long:
        inputs.problem("extra-tags", f"{', '.join(repr(prefix + t) for t in too_long)} (with "
                       f"tag-prefix '{prefix}') are longer than {IMAGE_TAG_MAX} "
                       "characters.", validate.IMAGE_TAG_EXPECTED)
    # Under a prefix `src-` anywhere could put the tag in another app's `<p>src-*` rule.
    inner = [t for t in extra if "src-" in t and not t.startswith(("src-", "lambda-"))]
    if inner:
        inputs.problem("extra-tags", f"{', '.join(repr(t) for t in inner)} contain `src-`, "
                       "which marks content tags in a shared repository.",
                       "tags without `src-` when tag-prefix is set")
    return prefix


def _build_args(inputs: runner.Inputs) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for line in inputs.raw("build-args").splitlines():
        if not line.strip():
            continue
        key, sep, value = line.strip().partition("=")
        if not sep or not BUILD_ARG_KEY.fullmatch(key):
            inputs.problem("build-args", f"'{line.strip()}' is not KEY=VALUE.",
                           "one `KEY=VALUE` per line (KEY: letters, digits, `_`)")
            continue
        pairs.append((key, value))
    return tuple(pairs)


def _paths(inputs: runner.Inputs, environ: dict[str, str]) -> tuple[Path, Path]:
    workspace = inputs.workspace()
    context = workspace / inputs.text("context", default=".")
    inside = inputs.workspace_path("context", inputs.text("context", default="."))
    if inside is not None and not context.is_dir():
        inputs.problem("context", f"'{inputs.raw('context') or '.'}' is not a directory.",
                       "a directory in the workspace, such as `.` or `apps/api`")
    named = inputs.text("dockerfile")
    dockerfile = workspace / named if named else context / "Dockerfile"
    if inside is None and not named:
        pass  # the default Dockerfile lives in a context already refused
    elif inputs.workspace_path("dockerfile", str(dockerfile)) is None:
        pass  # reported: it leads outside the workspace, so it is not read
    elif not os.access(dockerfile, os.R_OK) or not dockerfile.is_file():
        inputs.problem("dockerfile", f"'{named or dockerfile}' cannot be read.",
                       "a readable Dockerfile (default: `<context>/Dockerfile`)")
    return context, dockerfile


def read_inputs(environ: dict[str, str]) -> PushInputs:
    inputs = runner.Inputs(environ)
    repository = inputs.matching("repository", validate.ECR_REPOSITORY, required=True,
                                 expected=validate.ECR_REPOSITORY_EXPECTED)
    context, dockerfile = _paths(inputs, environ)
    build_args = _build_args(inputs)
    platform = inputs.raw("platform") or "linux/amd64"
    if "," in platform or len(platform.split()) > 1:
        inputs.problem("platform", f"'{platform}' names more than one platform; Lambda takes a "
                       "single image manifest, not a multi-platform index.", PLATFORM_EXPECTED)
    elif not PLATFORM.fullmatch(platform):
        inputs.problem("platform", f"'{platform}' is not valid.", PLATFORM_EXPECTED)
    builder = inputs.choice("builder", BUILDERS, default="docker")
    extra = inputs.items("extra-tags")
    bad = [t for t in extra if not validate.IMAGE_TAG.fullmatch(t)]
    reserved = [t for t in extra if t.startswith(("src-", "lambda-"))]
    if bad:
        inputs.problem("extra-tags", f"{', '.join(repr(t) for t in bad)} are not valid tags.",
                       validate.IMAGE_TAG_EXPECTED)
    if reserved:
        inputs.problem("extra-tags", f"{', '.join(repr(t) for t in reserved)} use a reserved "
                       "prefix (`src-` is the content tag, `lambda-` marks rollback targets).",
                       "tags that start with neither `src-` nor `lambda-`")
    severity = inputs.choice("fail-on-severity", ecr_scan.THRESHOLDS, default="CRITICAL")
    timeout = inputs.integer("scan-timeout-seconds", default=600, minimum=1, maximum=3600)
    create = inputs.boolean("create-repository", default=False)
    git_sha = environ.get("GITHUB_SHA", "")
    if not FULL_GIT_SHA.fullmatch(git_sha):
        inputs.problem("GITHUB_SHA", f"'{git_sha}' is not a full commit SHA.",
                       "the runner's `GITHUB_SHA` (40 hex characters)")
    prefix = _tag_prefix(inputs, git_sha=git_sha, extra=extra)
    override = environ.get(ENDPOINT_SETTING, "").strip()
    problem = check_endpoint_override(override)
    if problem:
        inputs.problem(ENDPOINT_SETTING, problem, ENDPOINT_EXPECTED)
    inputs.check()
    src = _hash(context=context, dockerfile=dockerfile, build_args=build_args, platform=platform)
    server = environ.get("GITHUB_SERVER_URL", "https://github.com")
    return PushInputs(
        repository=repository, context=context, dockerfile=dockerfile, build_args=build_args,
        platform=platform, builder=builder,  # type: ignore[arg-type]  # checked by choice()
        extra_tags=tuple(extra), fail_on_severity=severity, scan_timeout=timeout,
        create_repository=create, git_sha=git_sha, registry_override=override,
        source_url=f"{server}/{environ.get('GITHUB_REPOSITORY', '')}".rstrip("/"),
        src_hash=src, tag_prefix=prefix,
    )


def _hash(**kwargs: Any) -> str:
    try:
        return source_hash(**kwargs)
    except OSError as exc:
        raise FactoryError(
            f"Could not read the build context: {exc}.",
            title="Unreadable build context",
            fix="Make every file in `context` readable (or exclude it in .dockerignore).",
            reason="invalid-input",
        ) from exc


def check_tag_conflicts(ecr: Any, inputs: PushInputs, *, digest: str | None) -> None:
    """Fail before building if a tag we would add points at another image (tags are immutable)."""
    clashes = []
    other_builds: set[str] = set()
    for tag in inputs.later_tags:
        found = ecr_repository.image_by(ecr, repository=inputs.repository, tag=tag)
        if found is not None and found["imageDigest"] != digest:
            clashes.append(f"`{tag}` → {found['imageDigest']}")
            if tag == inputs.tag_prefix + inputs.git_sha:
                other_builds.update(t for t in found.get("imageTags", [])
                                    if t.startswith(inputs.tag_prefix + "src-"))
    shared_hint = ""
    if other_builds and not inputs.tag_prefix:
        # Two unprefixed apps building one commit into one repository look exactly like this.
        shared_hint = (
            f" If another app pushes to `{inputs.repository}` too (its build is "
            f"{', '.join(sorted(other_builds))}), give each app its own `tag-prefix` "
            "(e.g. `<app>-`): a shared repository needs one per app."
        )
    if clashes:
        raise FactoryError(
            f"Tags already exist on a different image in `{inputs.repository}`: "
            f"{', '.join(clashes)}. The build inputs ({inputs.src_tag}) differ from the image "
            "those tags name.",
            title="Image tag already exists",
            fix="Tags are immutable. If the build inputs changed for the same commit (a "
            "build-arg, platform or an untracked file), commit the change and push again; for "
            "`extra-tags`, use a tag that is not taken." + shared_hint
            + " Nothing was built or pushed.",
            reason="tag-conflict",
        )


def wait_visible(ecr: Any, *, repository: str, digest: str, tags: list[str],
                 timeout: float = VISIBLE_TIMEOUT_SECONDS) -> dict[str, Any]:
    """The image's ECR details once the API shows the digest with all ``tags``."""
    started = time.monotonic()
    delay = 0.05
    while True:
        found = ecr_repository.image_by(ecr, repository=repository, digest=digest)
        if found is not None and set(tags) <= set(found.get("imageTags", [])):
            return found
        if time.monotonic() - started > timeout:
            raise FactoryError(
                f"The registry accepted {digest} but the ECR API does not show it with tags "
                f"{', '.join(tags)} after {timeout:.0f}s.",
                title="Pushed image not visible in ECR",
                fix="Re-run the job; if it persists, check the repository in the ECR console.",
                reason="push-failed",
            )
        time.sleep(delay)
        delay = min(2.0, delay * 2)


def _labels(inputs: PushInputs) -> tuple[tuple[str, str], ...]:
    return (
        ("org.opencontainers.image.source", inputs.source_url),
        ("org.opencontainers.image.revision", inputs.git_sha),
        ("org.opencontainers.image.created",
         datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("dev.hoopstat.factory.src-hash", inputs.src_hash),
    )


def build(inputs: PushInputs, auth: Login) -> str:
    request = BuildRequest(
        context=inputs.context, dockerfile=inputs.dockerfile, build_args=inputs.build_args,
        platform=inputs.platform, labels=_labels(inputs),
        destination=f"{auth.registry.host}/{inputs.repository}:{inputs.src_tag}",
        plain_http=auth.registry.plain_http,
    )
    temp = os.environ.get("RUNNER_TEMP")
    return build_and_push(request, builder=inputs.builder, login=auth,
                          workdir=Path(temp) if temp else None)


def check_lambda_safe(client: RegistryClient, inputs: PushInputs, digest: str) -> Any:
    try:
        manifest = client.get_manifest(inputs.repository, digest)
    except RegistryError as exc:
        raise FactoryError(
            f"The pushed image {digest} cannot be read back from the registry: {exc}.",
            title="Pushed image unreadable", fix="Re-run the job.", reason="push-failed",
        ) from exc
    if manifest.is_index:
        raise FactoryError(
            f"{digest} is an image index ({manifest.media_type}), which Lambda rejects.",
            title="Pushed image is an index",
            fix="Build one platform without attestations (`--provenance=false --sbom=false`, "
            "as this action does); do not point `repository` at an image built elsewhere.",
            reason="push-failed",
        )
    return manifest


def add_tags(client: RegistryClient, inputs: PushInputs, manifest: Any,
             existing: list[str]) -> None:
    for tag in inputs.later_tags:
        if tag in existing:
            continue
        try:
            client.put_manifest(inputs.repository, tag, manifest)
        except RegistryError as exc:
            raise FactoryError(
                f"Could not add tag `{tag}` to {manifest.digest}: {exc}.",
                title="Tagging failed",
                fix="Re-run the job (a cache hit adds the missing tags). If the tag is taken by "
                "another image, see the tag-conflict fix.",
                reason="push-failed",
            ) from exc


def run() -> None:
    inputs = read_inputs(dict(os.environ))
    runner.info(f"Build inputs address: {inputs.src_tag} (builder {inputs.builder}, "
                f"{inputs.platform})")
    ecr = aws.client("ecr")
    ecr_repository.preflight(ecr, name=inputs.repository, create=inputs.create_repository,
                             tag_prefix=inputs.tag_prefix)
    cached = ecr_repository.image_by(ecr, repository=inputs.repository, tag=inputs.src_tag)
    digest = str(cached["imageDigest"]) if cached else None
    check_tag_conflicts(ecr, inputs, digest=digest)
    auth = login(ecr, override=inputs.registry_override)
    client = RegistryClient(auth)
    started = time.monotonic()
    if digest is None:
        digest = build(inputs, auth)
        runner.info(f"Pushed {digest} in {time.monotonic() - started:.1f}s")
        wait_visible(ecr, repository=inputs.repository, digest=digest, tags=[inputs.src_tag])
    else:
        runner.notice(f"{inputs.src_tag} is already in ECR as {digest}: no build, no push.",
                      title="Cache hit")
    manifest = check_lambda_safe(client, inputs, digest)
    uri = f"{auth.registry.host}/{inputs.repository}@{digest}"
    if inputs.fail_on_severity != "none":
        result = ecr_scan.wait_for_scan(ecr, repository=inputs.repository, digest=digest,
                                        timeout=inputs.scan_timeout)
        runner.summary(f"### Image scan: `{uri}`\n\n" + ecr_scan.findings_markdown(
            result, threshold=inputs.fail_on_severity))
        ecr_scan.gate(result, threshold=inputs.fail_on_severity, digest=digest)
    existing = (cached or {}).get("imageTags", [])
    add_tags(client, inputs, manifest, existing)
    details = wait_visible(ecr, repository=inputs.repository, digest=digest,
                           tags=[inputs.src_tag, *inputs.later_tags])
    tags = sorted(details.get("imageTags", []), key=lambda t: (t != inputs.src_tag, t))
    cache_hit = "true" if cached else "false"
    runner.set_output("image-uri", uri)
    runner.set_output("image-digest", digest)
    runner.set_output("image-tags", ",".join(tags))
    runner.set_output("cache-hit", cache_hit)
    runner.summary("\n".join([
        "### ✅ Image pushed" if not cached else "### ✅ Image reused (cache hit)", "",
        "| | |", "| --- | --- |",
        f"| Image | `{uri}` |", f"| Tags | {', '.join(f'`{t}`' for t in tags)} |",
        f"| Cache hit | {cache_hit} |", f"| Builder | {inputs.builder} · {inputs.platform} |",
    ]))


def main() -> int:
    return runner.run_action(run)


if __name__ == "__main__":
    raise SystemExit(main())
