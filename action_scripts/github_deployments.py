"""GitHub Deployment records for deploys and rollbacks (PyGithub).

A record is a courtesy: it puts "what runs where" on the repository's Environments page. AWS is
the truth, so failing to write a record warns and never fails (or undoes) a deploy. The API base
comes from ``GITHUB_API_URL`` (set by the runner; the bench points it at its fake), the token from
the action's ``github-token`` input, masked before anything else.

Statuses carry ``log_url`` (the run) and ``environment_url`` (the alias in the Lambda console);
``target_url`` is deprecated. GitHub's ``auto_inactive`` skips production environments, so on
success the deployments this one replaced in the same environment are marked ``inactive``
explicitly: the Environments page then shows one active deployment, the one AWS serves.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from action_scripts import console_links, runner

State = Literal["in_progress", "success", "failure", "error", "inactive"]
DEFAULT_API_URL = "https://api.github.com"


@dataclass
class Record:
    """One deployment; :meth:`status` adds a status to it. Both only warn on failure."""

    deployment: Any
    environment: str
    log_url: str
    environment_url: str = ""
    repo: Any = None

    def status(self, state: State, description: str) -> None:
        body: dict[str, Any] = {"state": state, "description": description[:140],
                                "environment": self.environment, "auto_inactive": True}
        if self.log_url:
            body["log_url"] = self.log_url
        if self.environment_url:
            body["environment_url"] = self.environment_url
        try:
            # PyGithub's create_status only knows the deprecated target_url; post the API's own
            # fields through its requester (same auth, retries and base URL).
            self.deployment.requester.requestJsonAndCheck(
                "POST", self.deployment.statuses_url, input=body)
        except Exception as exc:  # A record must never break the deploy it describes.
            runner.warning(
                f"Could not add the '{state}' status to the GitHub deployment: {exc}",
                title="GitHub deployment status not recorded",
            )
            return
        if state == "success":
            self._retire_replaced()

    def _retire_replaced(self) -> None:
        """Mark earlier deployments of this environment whose latest status is success inactive."""
        if self.repo is None:
            return
        try:
            for other in self.repo.get_deployments(environment=self.environment)[:20]:
                if other.id == self.deployment.id or other.environment != self.environment:
                    continue
                latest = next(iter(other.get_statuses()[:1]), None)
                if latest is not None and latest.state == "success":
                    other.requester.requestJsonAndCheck(
                        "POST", other.statuses_url,
                        input={"state": "inactive", "environment": self.environment,
                               "description": f"replaced by deployment {self.deployment.id}"})
        except Exception as exc:  # A record must never break the deploy it describes.
            runner.warning(
                f"Could not mark the replaced GitHub deployments inactive: {exc}",
                title="GitHub deployment history not updated",
            )


def _environment_url(payload: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or ""
    function, alias = str(payload.get("function", "")), str(payload.get("alias", ""))
    if not (region and function and alias):
        return ""
    return console_links.alias_url(region=region, function=function, alias=alias)


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
    record = Record(deployment, environment, run_url(environ),
                    environment_url=_environment_url(payload, environ), repo=repo)
    record.status("in_progress", description)
    return record
