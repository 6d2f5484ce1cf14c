"""`factory oidc-subject`: read or set a repository's OIDC subject claim template (PyGithub).

GitHub builds each job's OIDC ``sub`` from the repository's template: by default
``repo:<owner>/<repo>:<context>`` (context = ``pull_request``, ``environment:<name>`` or
``ref:refs/heads/<branch>``), or, once customized, ``<key>:<value>`` for each of
``include_claim_keys`` in order. An AWS trust policy matches ``sub`` exactly, so the
``github-oidc`` module must trust the strings this command prints — and nothing else.

    factory oidc-subject --repo hoopstat-haus/stats-api                      # read, print
    factory oidc-subject --repo hoopstat-haus/stats-api \\
        --set repo,context,job_workflow_ref,repository_id                     # set, print
    factory oidc-subject --repo hoopstat-haus/stats-api --use-default         # back to default

The token comes from ``GITHUB_TOKEN`` (or ``GH_TOKEN``): reading needs a repository's Actions
read access, setting needs admin (a fine-grained token's "Administration: write").
API: ``GET/PUT /repos/{owner}/{repo}/actions/oidc/customization/sub``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from github import Auth, Github, GithubException

REPO = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
DEFAULT_KEYS = ("repo", "context")
# Claims GitHub accepts in a subject template.
CLAIMS = frozenset({
    "actor", "actor_id", "base_ref", "check_run_id", "context", "enterprise", "enterprise_id",
    "environment", "event_name", "head_ref", "job_workflow_ref", "job_workflow_sha", "ref",
    "ref_protected", "ref_type", "repo", "repository", "repository_id", "repository_owner",
    "repository_owner_id", "repository_visibility", "run_attempt", "runner_environment",
    "workflow", "workflow_ref", "workflow_sha",
})
SUITE_DEPLOY = "hoopstat-haus/hoopstat-factory/.github/workflows/deploy-lambda-app.yml"
SUITE_TERRAFORM = "hoopstat-haus/hoopstat-factory/.github/workflows/terraform.yml"


class UsageError(Exception):
    pass


def parse_keys(text: str) -> list[str]:
    keys = [k.strip() for k in text.split(",") if k.strip()]
    if not keys:
        raise UsageError("--set needs at least one claim key, e.g. repo,context")
    unknown = [k for k in keys if k not in CLAIMS]
    if unknown:
        raise UsageError(f"unknown claim key(s): {', '.join(unknown)} "
                         f"(known: {', '.join(sorted(CLAIMS))})")
    if len(set(keys)) != len(keys):
        raise UsageError("a claim key is listed twice")
    if "context" not in keys and not {"environment", "ref", "event_name"} & set(keys):
        raise UsageError("the template must say where a job runs: include `context` (or "
                         "environment/ref/event_name), or any branch's job gets the same sub")
    return keys


def subject(keys: Sequence[str], values: dict[str, str], context: str) -> str:
    """The ``sub`` a job with these claims gets under the template ``keys``."""
    if list(keys) == list(DEFAULT_KEYS):
        return f"repo:{values['repo']}:{context}"
    return ":".join(context if k == "context" else f"{k}:{values.get(k, f'<{k}>')}"
                    for k in keys)


def subjects(keys: Sequence[str], values: dict[str, str], *, environments: Sequence[str],
             branches: Sequence[str], workflows: dict[str, str]) -> dict[str, str]:
    """What the github-oidc module's roles must trust, by use (plan, each environment/branch)."""
    found: dict[str, str] = {}
    plan = {**values, "job_workflow_ref": workflows["plan"]}
    found["plan role (pull requests)"] = subject(keys, plan, "pull_request")
    deploy = {**values, "job_workflow_ref": workflows["deploy"]}
    for env in environments:
        found[f"deploy role (environment {env})"] = subject(keys, deploy, f"environment:{env}")
    for branch in branches:
        found[f"deploy role (branch {branch})"] = subject(keys, deploy, f"ref:refs/heads/{branch}")
    return found


def _client(api_url: str | None) -> Github:
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN") or ""
    if not token:
        raise UsageError("set GITHUB_TOKEN (or GH_TOKEN) to a token for the repository")
    base = api_url or os.environ.get("GITHUB_API_URL") or "https://api.github.com"
    return Github(base_url=base, auth=Auth.Token(token), timeout=30)


def _template(github: Github, url: str) -> dict[str, Any]:
    _, data = github.requester.requestJsonAndCheck("GET", url)
    return dict(data or {})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="factory oidc-subject",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repo", required=True, help="OWNER/REPO")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--set", metavar="KEYS", help="claim keys, in order (e.g. "
                      "repo,context,job_workflow_ref,repository_id)")
    mode.add_argument("--use-default", action="store_true", help="GitHub's default template")
    parser.add_argument("--environment", action="append", default=[], help="deploy environment "
                        "to print the subject of (repeatable; default production)")
    parser.add_argument("--branch", action="append", default=[], help="branch to print the "
                        "subject of (repeatable)")
    parser.add_argument("--suite-ref", default="refs/heads/main", help="the ref app workflows "
                        "call the suite's reusable workflows at (a tag ref or commit for releases)")
    parser.add_argument("--api-url", default=None)
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    try:
        if not REPO.fullmatch(args.repo):
            raise UsageError(f"--repo {args.repo!r} is not OWNER/REPO")
        if not re.fullmatch(r"refs/(?:heads|tags)/[A-Za-z0-9._/-]+|[0-9a-f]{40}", args.suite_ref):
            raise UsageError(f"--suite-ref {args.suite_ref!r} is not refs/heads/…, refs/tags/… "
                             "or a commit SHA")
        keys_wanted = parse_keys(args.set) if args.set else None
        github = _client(args.api_url)
        repo = github.get_repo(args.repo)
        url = f"{repo.url}/actions/oidc/customization/sub"
        if keys_wanted is not None or args.use_default:
            body: dict[str, Any] = ({"use_default": True} if args.use_default else
                                    {"use_default": False, "include_claim_keys": keys_wanted})
            github.requester.requestJsonAndCheck("PUT", url, input=body)
        template = _template(github, url)
    except UsageError as exc:
        print(f"factory oidc-subject: {exc}", file=sys.stderr)
        return 2
    except GithubException as exc:
        print(f"factory oidc-subject: GitHub API error {exc.status}: {exc.data}", file=sys.stderr)
        return 1
    keys = (list(DEFAULT_KEYS) if template.get("use_default", True)
            else list(template.get("include_claim_keys") or DEFAULT_KEYS))
    values = {"repo": repo.full_name, "repository": repo.full_name,
              "repository_id": str(repo.id), "repository_owner": repo.owner.login,
              "repository_owner_id": str(repo.owner.id)}
    ref = args.suite_ref
    found = subjects(keys, values, environments=args.environment or ["production"],
                     branches=args.branch,
                     workflows={"plan": f"{SUITE_TERRAFORM}@{ref}",
                                "deploy": f"{SUITE_DEPLOY}@{ref}"})
    if args.json:
        print(json.dumps({"repository": repo.full_name, "template": template,
                          "include_claim_keys": keys, "subjects": found}, indent=2))
        return 0
    kind = "GitHub's default" if template.get("use_default", True) else "customized"
    print(f"{repo.full_name} (id {repo.id}): {kind} subject template: {', '.join(keys)}")
    print("Subjects the github-oidc module's roles must trust (exact match):")
    for use, sub in found.items():
        print(f"  {use}: {sub}")
    if "job_workflow_ref" in keys:
        print("Deploy subjects name the suite's deploy workflow; a Terraform apply job's "
              f"subject names {SUITE_TERRAFORM} instead.")
    print("Every environment a role trusts needs a deployment-branch policy: GitHub puts the "
          "environment in `sub` for a job on any branch that names it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
