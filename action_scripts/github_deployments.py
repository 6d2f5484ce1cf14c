"""GitHub Deployment records for deploys and rollbacks (PyGithub).

A record is a courtesy: it puts "what runs where" on the repository's Environments page. AWS is
the truth, so failing to write a record warns and never fails (or undoes) a deploy. The API base
comes from ``GITHUB_API_URL`` (set by the runner; the bench points it at its fake), the token from
the action's ``github-token`` input, masked before anything else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from action_scripts import runner

State = Literal["in_progress", "success", "failure", "error", "inactive"]
DEFAULT_API_URL = "https://api.github.com"


@dataclass
class Record:
    """One deployment; :meth:`status` adds a status to it. Both only warn on failure."""

    deployment: Any
    environment: str
    log_url: str

    def status(self, state: State, description: str) -> None:
        try:
            from github.GithubObject import NotSet

            self.deployment.create_status(
                state=state, description=description[:140], target_url=self.log_url or NotSet,
                environment=self.environment, auto_inactive=True,
            )
        except Exception as exc:  # A record must never break the deploy it describes.
            runner.warning(
                f"Could not add the '{state}' status to the GitHub deployment: {exc}",
                title="GitHub deployment status not recorded",
            )


def run_url(environ: Mapping[str, str]) -> str:
    server = environ.get("GITHUB_SERVER_URL", "https://github.com")
    repo, run = environ.get("GITHUB_REPOSITORY", ""), environ.get("GITHUB_RUN_ID", "")
    return f"{server}/{repo}/actions/runs/{run}" if repo and run else ""


def start(
    *,
    token: str,
    environ: Mapping[str, str],
    environment: str,
    ref: str,
    task: str,
    description: str,
    payload: dict[str, Any],
) -> Record | None:
    """Create a deployment with an ``in_progress`` status; None without a token or on failure."""
    if not token:
        return None
    runner.mask(token)
    repository = environ.get("GITHUB_REPOSITORY", "")
    if not repository or not ref:
        runner.warning(
            "No GITHUB_REPOSITORY/ref: skipping the GitHub deployment record.",
            title="GitHub deployment not recorded",
        )
        return None
    from github import Auth, Github  # PyGithub is imported only when a record is wanted

    base_url = environ.get("GITHUB_API_URL") or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL
    try:
        # A deploy writes three times at most; PyGithub's default 1 s spacing between writes
        # (meant for bulk writers and secondary rate limits) would only slow the step down.
        client = Github(
            base_url=base_url, auth=Auth.Token(token), retry=2, timeout=15,
            seconds_between_requests=None, seconds_between_writes=0.1, lazy=True,
        )
        repo = client.get_repo(repository)
        deployment = repo.create_deployment(
            ref=ref, task=task, auto_merge=False, required_contexts=[], payload=payload,
            environment=environment, description=description[:140],
            production_environment=environment.lower().startswith("prod"),
        )
    except Exception as exc:  # A record must never break the deploy it describes.
        runner.warning(
            f"Could not create a GitHub deployment for {repository}@{ref[:12]}: {exc}. The job "
            "needs `permissions: deployments: write`.",
            title="GitHub deployment not recorded",
        )
        return None
    record = Record(deployment, environment, run_url(environ))
    record.status("in_progress", description)
    return record
