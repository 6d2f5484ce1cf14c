"""GitHub side of the terraform action (PyGithub): the PR of a merge commit, the plan comment.

The API base URL comes from ``GITHUB_API_URL`` (the runner sets it; GHES and the bench's fake
set their own). Only comments written by a bot account (``GITHUB_TOKEN``, a GitHub App) count as
the reviewed plan: anyone can *write* the hidden header into a comment, but a PR author cannot
post as the workflow's bot.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from github import Auth, Github, GithubException

from action_scripts import runner
from action_scripts.errors import FactoryError
from action_scripts.terraform_comment import Header, parse_header

DEFAULT_API_URL = "https://api.github.com"


def _failure(what: str, exc: Exception) -> FactoryError:
    status = getattr(exc, "status", "")
    return FactoryError(
        f"GitHub API call failed while {what}: {status} {exc}".strip(),
        title="GitHub API error",
        fix="Check that `github-token` may read pull requests and write issue comments (job "
        "permissions `pull-requests: write`), and that `GITHUB_API_URL` is right; then re-run.",
        reason="github-error",
    )


@dataclass
class PlanComment:
    comment: Any  # github.IssueComment.IssueComment
    header: Header


class PlanComments:
    """Find, create and update the plan comment of one working directory on one PR."""

    def __init__(self, *, token: str, repository: str, api_url: str | None = None) -> None:
        runner.mask(token)
        base = api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL
        self._github = Github(base_url=base, auth=Auth.Token(token), timeout=30)
        self._repository = repository
        self._repo: Any = None

    @property
    def repo(self) -> Any:
        if self._repo is None:
            try:
                self._repo = self._github.get_repo(self._repository)
            except GithubException as exc:
                raise _failure(f"reading repository {self._repository}", exc) from exc
        return self._repo

    def pull_of_commit(self, sha: str) -> int | None:
        """The PR that ``sha`` was merged from: its merge commit first, else any PR holding it."""
        try:
            pulls = list(self.repo.get_commit(sha).get_pulls())
        except GithubException as exc:
            raise _failure(f"listing pull requests of commit {sha[:12]}", exc) from exc
        merged = [p for p in pulls if getattr(p, "merge_commit_sha", None) == sha]
        chosen = merged or pulls
        return int(chosen[0].number) if chosen else None

    def _comments(self, number: int) -> Iterator[Any]:
        try:
            yield from self.repo.get_issue(number).get_comments()
        except GithubException as exc:
            raise _failure(f"listing comments of PR #{number}", exc) from exc

    def find(self, number: int, directory: str) -> PlanComment | None:
        """The bot-written plan comment for ``directory`` on PR ``number`` (the first one)."""
        for comment in self._comments(number):
            header = parse_header(comment.body or "")
            if header is None or header.directory != directory:
                continue
            if getattr(comment.user, "type", "") != "Bot":
                runner.warning(
                    f"Ignoring comment {comment.id} on PR #{number}: it carries a plan header "
                    f"but was written by {comment.user.login}, not a bot account.",
                    title="Untrusted plan comment",
                )
                continue
            return PlanComment(comment=comment, header=header)
        return None

    def upsert(self, number: int, directory: str, body: str) -> tuple[str, str]:
        """Update the directory's comment in place, or create it; returns (verb, URL)."""
        existing = self.find(number, directory)
        try:
            if existing is not None:
                existing.comment.edit(body)
                return "updated", str(existing.comment.html_url)
            created = self.repo.get_issue(number).create_comment(body)
            return "created", str(created.html_url)
        except GithubException as exc:
            raise _failure(f"writing the plan comment on PR #{number}", exc) from exc
