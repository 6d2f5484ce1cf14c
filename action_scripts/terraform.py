"""terraform: plan on a PR, post it from a separate job, apply only the reviewed plan, drift.

``command: plan``  init, ``fmt -check``, ``validate``, ``plan -out``, ``show -json``. A plan runs
the PR's code, so this command takes no GitHub token: it sets the ``plan-comment`` output (the
PR comment's body, scrubbed of secrets, with the plan's normalized hash in its hidden header).

``command: comment`` (a job that runs no PR code and holds no AWS credentials) posts that body
on the PR, scrubbed again, with the header's commit set to the PR head from the event; the
previous comment for the directory is deleted, so the bot's comments are never edited.

``command: apply`` needs the merged PR whose merge commit is ``GITHUB_SHA`` (``pr-number`` or
the commit's PRs; nothing else), that PR's newest never-edited plan comment written by
``plan-comment-author`` for the directory, computed on that PR's final head commit. It plans
again and applies the saved plan only if its normalized hash equals the comment's; otherwise it
fails with ``plan-changed`` (saying which resources differ) or ``plan-not-reviewed``.

``command: drift`` plans and fails with ``drift-detected`` when anything would change.

In every command a destroy or replace of a ``protected-resources`` address fails with
``destroy-blocked`` unless ``allow-destroy`` is true, and a state lock held by someone else
fails with ``state-locked``, naming the holder and the lock's age.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from action_scripts import runner
from action_scripts import terraform_guard as guard
from action_scripts import terraform_plan as tfplan
from action_scripts.errors import FactoryError
from action_scripts.terraform_binary import (
    VERSION_EXPECTED,
    VERSION_PATTERN,
    Result,
    Terraform,
    check_version,
    var_file_args,
)
from action_scripts.terraform_comment import COMMENT_LIMIT, SAFETY_MARGIN, parse_header, render
from action_scripts.terraform_lock import LockInfo, is_lock_error, parse_lock_info
from action_scripts.terraform_pr_comments import ACTIONS_BOT_LOGIN, PlanComments
from action_scripts.terraform_scrub import known_secrets, scrub

COMMANDS = ("plan", "apply", "drift", "comment")
BOT_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}\[bot\]")
BOT_LOGIN_EXPECTED = "a bot login such as `github-actions[bot]` or `my-app[bot]`"
PLAN_HASH = re.compile(r"sha256:[0-9a-f]{64}")
PR_EVENTS = frozenset({"pull_request", "pull_request_target"})
STEP_SUMMARY_LIMIT = 1024 * 1024  # GitHub's per-step summary limit (1 MiB)
PR_NUMBER = re.compile(r"[1-9]\d{0,9}", re.ASCII)


@dataclass(frozen=True)
class TerraformInputs:
    command: str
    directory: str  # relative to the workspace, POSIX form, "." for the root
    root: Path
    backend_config: str
    var_files: tuple[str, ...]
    token: str
    allow_destroy: bool
    protected: tuple[str, ...]
    version: str
    pr_number: int | None
    plan_comment: str = ""
    author: str = ACTIONS_BOT_LOGIN


def _relative_problem(value: str) -> str | None:
    path = PurePosixPath(value)
    if path.is_absolute():
        return "is an absolute path."
    if ".." in path.parts:
        return "leaves the repository (`..`)."
    return None


def read_inputs(environ: dict[str, str]) -> TerraformInputs:
    inputs = runner.Inputs(environ)
    command = inputs.choice("command", COMMANDS, default="")
    if not inputs.raw("command"):
        inputs.problem("command", "is required but empty.", " | ".join(COMMANDS))
    workspace = Path(environ.get("GITHUB_WORKSPACE") or os.getcwd())
    directory = inputs.text("working-directory", default=".")
    problem = _relative_problem(directory)
    root = workspace / directory
    if not problem and inputs.workspace_path("working-directory", directory) is None:
        problem = "leads outside the workspace."  # reported: a symlink pointing out
    elif problem:
        inputs.problem("working-directory", f"'{directory}' {problem}",
                       "a directory path relative to the repository root")
    elif command != "comment" and not root.is_dir():
        inputs.problem("working-directory", f"'{directory}' is not a directory in the repository.",
                       "a directory path relative to the repository root")
    normal_dir = PurePosixPath(directory).as_posix() if not problem else directory

    def existing_file(name: str, value: str) -> None:
        if problem or not root.is_dir() or command == "comment":
            return  # reported against working-directory already
        if inputs.workspace_path(name, value, base=root) is None:
            return  # absolute, `..` or a symlink leading out of the workspace: reported
        if not (root / value).is_file():
            inputs.problem(name, f"'{value}' is not a file under `working-directory`.",
                           "a file path relative to `working-directory`")

    backend = inputs.text("backend-config")
    if backend:
        existing_file("backend-config", backend)
    var_files = inputs.items("var-file")
    for item in var_files:
        existing_file("var-file", item)
    token = inputs.text("github-token")
    runner.mask(token)
    allow_destroy = inputs.boolean("allow-destroy", default=False)
    protected = inputs.items("protected-resources")
    bad = [p for p in protected if not guard.PATTERN.fullmatch(p)]
    if bad:
        inputs.problem("protected-resources", f"{', '.join(repr(b) for b in bad)} "
                       "are not address patterns.", guard.PATTERN_EXPECTED)
    version = inputs.matching("terraform-version", VERSION_PATTERN, expected=VERSION_EXPECTED)
    pr_raw = inputs.matching("pr-number", PR_NUMBER, expected="a pull request number such as `42`")
    if command in {"apply", "comment"} and not token:
        inputs.problem("github-token", f"is required for `command: {command}` (it reads the "
                       "PR's reviewed plan).", "a token that can read pull requests, e.g. "
                       "`${{ github.token }}`")
    if command == "plan" and token:
        inputs.problem("github-token", "must be empty for `command: plan`: a plan runs the "
                       "PR's code, which could read the token.", "no token; post the plan "
                       "with `command: comment` in a job that runs no PR code")
    plan_comment = inputs.raw("plan-comment")
    if command == "comment" and not plan_comment:
        inputs.problem("plan-comment", "is required for `command: comment`.",
                       "the `plan-comment` output of `command: plan`")
    author = inputs.matching("plan-comment-author", BOT_LOGIN, expected=BOT_LOGIN_EXPECTED,
                             default=ACTIONS_BOT_LOGIN)
    inputs.check()
    return TerraformInputs(
        command=command, directory=normal_dir, root=root, backend_config=backend,
        var_files=tuple(var_files), token=token, allow_destroy=allow_destroy,
        protected=tuple(protected), version=version,
        pr_number=int(pr_raw) if pr_raw and PR_NUMBER.fullmatch(pr_raw) else None,
        plan_comment=plan_comment, author=author,
    )


@dataclass
class Planned:
    plan_file: Path
    summary: tfplan.PlanSummary
    plan_hash: str
    fingerprints: dict[str, str]
    text: str


def _plan_dir(environ: dict[str, str], directory: str) -> Path:
    """Plans hold secrets in clear: keep them out of the workspace, in the job's temp dir."""
    base = Path(environ.get("RUNNER_TEMP") or tempfile.gettempdir())
    key = hashlib.sha256(directory.encode()).hexdigest()[:12]
    path = base / "hoopstat-factory" / "terraform" / key
    path.mkdir(parents=True, exist_ok=True)
    return path


def lock_failure(info: LockInfo, *, action: str) -> FactoryError:
    created = info.created.isoformat() if info.created else "an unknown time"
    return FactoryError(
        f"The Terraform state is locked by {info.who} since {created} ({info.age()} ago), "
        f"so this {action} could not start.",
        title="Terraform state is locked",
        fix="Wait for that run to finish and re-run this one. If the holder died, check that no "
        f"apply is running, then release it with `terraform force-unlock {info.lock_id}` from "
        "the working directory.",
        reason="state-locked",
        details=(
            "| lock | |\n| --- | --- |\n"
            f"| holder | `{runner.md_escape(info.who)}` |\n"
            f"| age | {info.age()} |\n"
            f"| created | {created} |\n"
            f"| operation | `{runner.md_escape(info.operation)}` |\n"
            f"| lock ID | `{runner.md_escape(info.lock_id)}` |\n"
            f"| state | `{runner.md_escape(info.path)}` |\n"
            f"| terraform | {runner.md_escape(info.version)} |"
        ),
    )


def _raise_for_lock(result: Result, *, action: str) -> None:
    for diagnostic in result.errors:
        if is_lock_error(diagnostic.summary):
            info = parse_lock_info(diagnostic.detail)
            if info is None:
                info = LockInfo("unknown", "", "", "unknown", "", None)
            raise lock_failure(info, action=action)


def _code_block(text: str, limit: int = 20000) -> str:
    return "```text\n" + text.strip()[-limit:].replace("```", "'''") + "\n```"


def prepare(tf: Terraform, inputs: TerraformInputs) -> None:
    """init, ``fmt -check`` and ``validate``, each failing with a reason of its own."""
    if inputs.version:
        check_version(tf.version(), inputs.version)
    with runner.group(f"terraform init ({inputs.directory})"):
        args = ["init", "-input=false", "-no-color"]
        if inputs.backend_config:
            args.append(f"-backend-config={inputs.backend_config}")
        result = tf.run(*args)
    if result.returncode != 0:
        raise FactoryError(
            f"terraform init failed in `{inputs.directory}`.",
            title="terraform init failed",
            fix="Check the backend configuration (`backend-config`), the provider sources and "
            "the credentials (run `oidc-login` first).",
            reason="init-failed",
            details=_code_block(result.stderr or result.stdout),
        )
    with runner.group("terraform fmt -check"):
        result = tf.run("fmt", "-check", "-diff", "-no-color")
    if result.returncode != 0:
        raise FactoryError(
            f"Terraform files in `{inputs.directory}` are not formatted.",
            title="terraform fmt -check failed",
            fix="Run `terraform fmt` in the working directory and commit the result.",
            reason="validate-failed",
            details=_code_block(result.stdout + result.stderr),
        )
    with runner.group("terraform validate"):
        result = tf.validate()
    if result.returncode != 0 or result.errors:
        raise FactoryError(
            f"terraform validate found {len(result.errors) or 'some'} error(s) in "
            f"`{inputs.directory}`.",
            title="terraform validate failed",
            fix="Fix the errors below and push again.",
            reason="validate-failed",
            details=_code_block(result.error_text()),
        )


def plan(tf: Terraform, inputs: TerraformInputs, environ: dict[str, str]) -> Planned:
    plan_file = _plan_dir(environ, inputs.directory) / "tfplan"
    with runner.group("terraform plan"):
        result = tf.run(
            "plan", "-input=false", "-json", "-detailed-exitcode", f"-out={plan_file}",
            *var_file_args(inputs.var_files), json_lines=True,
        )
    if result.returncode not in (0, 2):
        _raise_for_lock(result, action="plan")
        raise FactoryError(
            f"terraform plan failed in `{inputs.directory}`.",
            title="terraform plan failed",
            fix="See the errors below; a provider or API error may be transient (re-run).",
            reason="plan-failed",
            details=_code_block(result.error_text()),
        )
    # Each `show` loads the provider schemas (seconds); the two only read the plan file.
    with ThreadPoolExecutor(max_workers=2) as pool:
        text = pool.submit(tf.show_text, plan_file)
        document = tf.show_json(plan_file)
        normal = tfplan.normalize(document)
        planned = Planned(
            plan_file=plan_file,
            summary=tfplan.summarize(document),
            plan_hash=tfplan.plan_hash(normal),
            fingerprints=tfplan.fingerprints(normal),
            text=tf.scrub(text.result()),
        )
    with runner.group("Plan"):
        runner.info(planned.text)
    runner.info(f"{planned.summary.headline()} Plan hash {planned.plan_hash}.")
    counts = planned.summary
    runner.set_output("changes", "true" if counts.has_changes else "false")
    runner.set_output("to-add", str(counts.to_add))
    runner.set_output("to-change", str(counts.to_change))
    runner.set_output("to-destroy", str(counts.to_destroy))
    runner.set_output("to-replace", str(counts.to_replace))
    runner.set_output("plan-file", str(plan_file))
    runner.set_output("plan-hash", planned.plan_hash)
    return planned


def blocked_notes(planned: Planned, inputs: TerraformInputs) -> tuple[list[str], str]:
    """Markdown notes for protected destroys, and the blocking message ('' when none block)."""
    hits = guard.blocked(planned.summary.changes, inputs.protected)
    if not hits:
        return [], ""
    verbs = {"delete": "destroyed", "replace": "replaced"}
    lines = [f"- `{runner.md_escape(c.address)}` would be **{verbs.get(c.kind, c.kind)}** "
             f"(protected by `{runner.md_escape(p)}`)" for c, p in hits[:50]]
    if len(hits) > 50:
        lines.append(f"- … and {len(hits) - 50} more")
    if inputs.allow_destroy:
        return ["**⚠️ Protected resources will be destroyed (`allow-destroy: true`):**", *lines], ""
    message = (f"The plan destroys or replaces {len(hits)} protected resource(s): "
               + ", ".join(c.address for c, _ in hits[:10]) + ".")
    return ["**⛔ Blocked: protected resources would be destroyed:**", *lines], message


def destroy_blocked(message: str, notes: list[str]) -> FactoryError:
    return FactoryError(
        message,
        title="Destroy of a protected resource blocked",
        fix="Change the configuration so these resources are kept (a `moved` block for renames, "
        "`lifecycle { create_before_destroy = true }` will not help a replace of a protected "
        "resource). If destroying them is really intended, run with `allow-destroy: true`.",
        reason="destroy-blocked",
        details="\n".join(notes),
    )


def _event(environ: dict[str, str]) -> dict[str, Any]:
    path = environ.get("GITHUB_EVENT_PATH", "")
    if not path or not Path(path).is_file():
        return {}
    try:
        loaded = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def event_pr_number(environ: dict[str, str]) -> int | None:
    if environ.get("GITHUB_EVENT_NAME") not in PR_EVENTS:
        return None
    number = _event(environ).get("pull_request", {}).get("number")
    return int(number) if isinstance(number, int) else None


def _run_url(environ: dict[str, str]) -> str:
    server = environ.get("GITHUB_SERVER_URL", "https://github.com")
    repo, run = environ.get("GITHUB_REPOSITORY", ""), environ.get("GITHUB_RUN_ID", "")
    return f"{server}/{repo}/actions/runs/{run}" if repo and run else ""


def _comments(inputs: TerraformInputs, environ: dict[str, str]) -> PlanComments:
    repository = environ.get("GITHUB_REPOSITORY", "")
    if not repository:
        raise FactoryError(
            "GITHUB_REPOSITORY is not set, so the PR comment cannot be found.",
            title="Not running in GitHub Actions",
            fix="Run this action in a workflow, or pass the repository context the runner sets.",
            reason="github-error",
        )
    return PlanComments(token=inputs.token, repository=repository,
                        api_url=environ.get("GITHUB_API_URL"), author=inputs.author)


def _head_sha(environ: dict[str, str]) -> str:
    pull = _event(environ).get("pull_request", {})
    head = pull.get("head", {}) if isinstance(pull, dict) else {}
    return str(head.get("sha") or environ.get("GITHUB_SHA", ""))


def command_plan(tf: Terraform, inputs: TerraformInputs, environ: dict[str, str]) -> None:
    """Plan and hand the comment body on as an output; this job never writes to GitHub."""
    planned = plan(tf, inputs, environ)
    notes, block = blocked_notes(planned, inputs)
    rendered = render(
        directory=inputs.directory, summary=planned.summary, plan_hash=planned.plan_hash,
        plan_text=planned.text, fingerprints=planned.fingerprints,
        commit=_head_sha(environ), run_url=_run_url(environ), notes=notes,
    )
    runner.set_output("plan-comment", tf.scrub(rendered.body))
    runner.summary(tf.scrub(_step_summary(inputs, planned, notes)))
    if block:
        raise destroy_blocked(block, notes)


def command_comment(inputs: TerraformInputs, environ: dict[str, str]) -> None:
    """Post the plan job's comment body on the PR: checked, scrubbed, bound to the PR head.

    The body came from a job that ran the PR's code, so it is data to check, not to trust: its
    header must name this directory and a plan hash, the commit is taken from the event (not
    from the body), and secrets are scrubbed again before the API (where no masking applies).
    """
    body = inputs.plan_comment
    header = parse_header(body)
    if header is None or header.directory != inputs.directory \
            or not PLAN_HASH.fullmatch(header.plan_hash):
        raise FactoryError(
            "`plan-comment` is not a plan comment for "
            f"`{inputs.directory}` (its hidden header is missing, names another directory, "
            "or has no plan hash).",
            title="Not a plan comment",
            fix="Pass the `plan-comment` output of `command: plan` for the same "
            "working-directory.",
            reason="invalid-input",
        )
    number = inputs.pr_number or event_pr_number(environ)
    head = _event(environ).get("pull_request", {}).get("head", {}).get("sha", "")
    if number is None or not re.fullmatch(r"[0-9a-f]{40}", str(head)):
        raise FactoryError(
            "`command: comment` needs a pull_request event (its PR number and head commit).",
            title="No pull request to comment on",
            fix="Run the comment job on `pull_request` events only.",
            reason="invalid-input",
        )
    header.commit = str(head)
    rest = body.lstrip()[body.lstrip().index("-->") + 3:]
    clean = scrub(rest, known_secrets(environ, [inputs.token]))
    text = header.render() + clean
    if len(text) > COMMENT_LIMIT - SAFETY_MARGIN:
        text = text[: COMMENT_LIMIT - SAFETY_MARGIN] + "\n\n… cut to fit GitHub's limit."
    url = _comments(inputs, environ).post(number, inputs.directory, text)
    runner.info(f"Plan comment posted on PR #{number} for head {str(head)[:12]}: {url}")
    runner.set_output("comment-url", url)
    runner.summary(f"Plan for `{runner.md_escape(inputs.directory)}` posted on PR #{number} "
                   f"(head `{str(head)[:12]}`, {header.plan_hash}): {url}")


def _step_summary(inputs: TerraformInputs, planned: Planned, notes: list[str]) -> str:
    return render(
        directory=inputs.directory, summary=planned.summary, plan_hash=planned.plan_hash,
        plan_text=planned.text, fingerprints=None, notes=notes, with_header=False,
        limit=STEP_SUMMARY_LIMIT // 4,  # other steps share the job's summary
    ).body


def command_apply(tf: Terraform, inputs: TerraformInputs, environ: dict[str, str]) -> None:
    sha = environ.get("GITHUB_SHA", "")
    comments = _comments(inputs, environ)
    # Which review counts is settled before terraform runs: a commit no PR merged stops here.
    pull = comments.merged_pull(sha, inputs.pr_number or event_pr_number(environ))
    number = pull.number
    reviewed = comments.find(number, inputs.directory)
    if reviewed is None:
        raise FactoryError(
            f"PR #{number} has no plan comment for `{inputs.directory}` written by "
            f"{inputs.author}.",
            title="No reviewed plan",
            fix="Run the reusable terraform workflow on the pull request (its comment job "
            "writes the comment), review the plan, then merge.",
            reason="plan-not-reviewed",
        )
    if reviewed.header.commit != pull.head_sha:
        raise FactoryError(
            f"The plan comment {reviewed.url} was computed on commit "
            f"{reviewed.header.commit[:12] or '(none)'}, but PR #{number} merged head "
            f"{pull.head_sha[:12]}: the final commit's plan was never posted.",
            title="Reviewed plan is for another commit",
            fix="Let the plan for the PR's last commit finish (and review it) before merging; "
            "to apply now, open a PR with the same change and merge it once its plan is posted.",
            reason="plan-not-reviewed",
        )
    planned = plan(tf, inputs, environ)
    notes, block = blocked_notes(planned, inputs)
    if block:
        runner.summary(_step_summary(inputs, planned, notes))
        raise destroy_blocked(block, notes)
    if reviewed.header.plan_hash != planned.plan_hash:
        raise plan_changed(number, reviewed.header.plan_hash, planned, reviewed.header.fingerprints)
    trusted = (f"Trusted plan comment: {reviewed.url} (id {reviewed.comment.id}, by "
               f"{inputs.author}), computed on PR #{number} head `{pull.head_sha}`; applying "
               f"its merge commit `{sha}`.")
    runner.info(f"The plan matches the one reviewed on PR #{number} ({planned.plan_hash}). "
                + trusted)
    if not planned.summary.has_changes:
        runner.notice("Nothing to apply: the reviewed plan has no changes.", title="No changes")
        runner.summary(f"### ✅ Terraform apply `{inputs.directory}`: nothing to apply\n\n"
                       f"The plan reviewed on PR #{number} has no changes.\n\n{trusted}")
        return
    with runner.group("terraform apply (the reviewed plan)"):
        result = tf.run("apply", "-input=false", "-json", str(planned.plan_file), json_lines=True)
    if result.returncode != 0:
        _raise_for_lock(result, action="apply")
        raise FactoryError(
            f"terraform apply failed in `{inputs.directory}`; part of the plan may be applied.",
            title="terraform apply failed",
            fix="Read the errors below, fix the cause, and merge a new PR (its plan shows what "
            "is left to do). Transient API errors: re-run the job.",
            reason="apply-failed",
            details=_code_block(result.error_text()),
        )
    runner.summary(
        f"### ✅ Terraform apply `{runner.md_escape(inputs.directory)}`\n\n"
        f"Applied the plan reviewed on PR #{number}: {planned.summary.headline()}\n\n"
        f"Plan hash `{planned.plan_hash}`\n\n{trusted}"
    )


def plan_changed(
    number: int, reviewed_hash: str, planned: Planned, reviewed_prints: dict[str, str] | None
) -> FactoryError:
    if reviewed_prints is None:
        what = ("The reviewed plan's per-resource fingerprints were too large to keep, so only "
                f"the new plan is listed:\n\n{planned.summary.headline()}")
    else:
        found = tfplan.diff(reviewed_prints, planned.fingerprints)
        what = tfplan.render_diff(found) or "- the same resources change, with different values"
    return FactoryError(
        f"The plan on the merged commit is not the plan reviewed on PR #{number} "
        f"(reviewed {reviewed_hash[:19]}…, now {planned.plan_hash[:19]}…). Nothing was applied.",
        title="Plan changed since review",
        fix="Something changed between review and merge (another merge, a change outside "
        "Terraform, or different inputs). Re-run the plan on a PR, review it, and merge again.",
        reason="plan-changed",
        details="**What differs from the reviewed plan:**\n\n" + what,
    )


def command_drift(tf: Terraform, inputs: TerraformInputs, environ: dict[str, str]) -> None:
    planned = plan(tf, inputs, environ)
    summary = planned.summary
    if not summary.has_changes:
        runner.summary(f"### ✅ No drift in `{runner.md_escape(inputs.directory)}`\n\n"
                       "The infrastructure matches the configuration.")
        return
    lines = [f"- `{runner.md_escape(c.address)}`: {c.kind}" for c in summary.changes[:100]]
    if len(summary.changes) > 100:
        lines.append(f"- … and {len(summary.changes) - 100} more")
    outside = [f"- `{runner.md_escape(c.address)}` changed outside Terraform"
               for c in summary.drift[:100]]
    details = "**Planned to bring back in line:**\n\n" + "\n".join(lines or ["- (outputs only)"])
    if outside:
        details += "\n\n**Changed outside Terraform (refresh):**\n\n" + "\n".join(outside)
    runner.summary(_step_summary(inputs, planned, []))
    raise FactoryError(
        f"`{inputs.directory}` has drifted: {summary.headline()}",
        title="Infrastructure drift detected",
        fix="Either apply the configuration again through a PR (revert the manual change), or "
        "change the configuration to match what is deployed.",
        reason="drift-detected",
        details=details,
    )


def run(environ: dict[str, str]) -> None:
    inputs = read_inputs(environ)
    if inputs.command == "comment":
        command_comment(inputs, environ)
        return
    tf = Terraform(directory=inputs.root, environ=environ)
    prepare(tf, inputs)
    if inputs.command == "plan":
        command_plan(tf, inputs, environ)
    elif inputs.command == "apply":
        command_apply(tf, inputs, environ)
    else:
        command_drift(tf, inputs, environ)


def main() -> int:
    return runner.run_action(lambda: run(dict(os.environ)))


if __name__ == "__main__":
    raise SystemExit(main())
