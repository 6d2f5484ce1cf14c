"""GitHub side of the terraform action (PyGithub): the merged PR of a commit, the plan comment.

The API base URL comes from ``GITHUB_API_URL`` (the runner sets it; GHES and the bench's fake
set their own).

Who may write a reviewed plan: only the workflow token's own account. ``GITHUB_TOKEN`` cannot
ask GitHub who it is (``GET /user`` answers 403 "Resource not accessible by integration"); what
it writes is authored by ``github-actions[bot]`` (user id 41898282, type ``Bot``). Logins ending
in ``[bot]`` belong to GitHub Apps and cannot be registered by people, so a comment counts only
when its author has exactly the configured bot login (``github-actions[bot]``, or
``<app-slug>[bot]`` when the comment job posts with an app's token) and type ``Bot`` — and, for
``github-actions[bot]``, that user id. Any other bot (``renovate[bot]``) or person is ignored.

Edits: anyone with write access can edit the bot's comment. The comment job therefore never
edits: it deletes its previous comment for the directory and creates a new one, so a trusted
comment whose ``updated_at`` differs from ``created_at`` has been edited by someone else, and
is refused. (GitHub keeps these times to the second: an edit within the second the comment was
created would not show. Closing that needs GraphQL's ``lastEditedAt``; see ADR 0009.)
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
ACTIONS_BOT_LOGIN = "github-actions[bot]"
ACTIONS_BOT_ID = 41898282


def _failure(what: str, exc: Exception) -> FactoryError:
    status = getattr(exc, "status", "")
    return FactoryError(
        f"GitHub API call failed while {what}: {status} {exc}".strip(),
        title="GitHub API error",
        fix="Check that `github-token` may read pull requests (and, for the comment job, write "
        "issue comments: `pull-requests: write`), and that `GITHUB_API_URL` is right; re-run.",
        reason="github-error",
    )


def not_reviewed(message: str, fix: str) -> FactoryError:
    return FactoryError(message, title="No trusted reviewed plan", fix=fix,
                        reason="plan-not-reviewed")


@dataclass
class PlanComment:
    comment: Any  # github.IssueComment.IssueComment
    header: Header

    @property
    def url(self) -> str:
        return str(self.comment.html_url)


@dataclass(frozen=True)
class MergedPull:
    number: int
    head_sha: str
    merge_commit_sha: str


class PlanComments:
    """Find and post the plan comment of one working directory on one PR."""

    def __init__(self, *, token: str, repository: str, api_url: str | None = None,
                 author: str = ACTIONS_BOT_LOGIN) -> None:
        runner.mask(token)
        base = api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL
        self._github = Github(base_url=base, auth=Auth.Token(token), timeout=30)
        self._repository = repository
        self._repo: Any = None
        self.author = author

    @property
    def repo(self) -> Any:
        if self._repo is None:
            try:
                self._repo = self._github.get_repo(self._repository)
            except GithubException as exc:
                raise _failure(f"reading repository {self._repository}", exc) from exc
        return self._repo

    def merged_pull(self, sha: str, number: int | None = None) -> MergedPull:
        """The merged PR whose merge commit is ``sha`` (PR ``number`` if given, else looked up).

        No fallback to "a PR that contains the commit": a plan reviewed on one PR says nothing
        about a commit that PR did not produce.
        """
        try:
            if number is not None:
                pulls = [self.repo.get_pull(number)]
            else:
                pulls = list(self.repo.get_commit(sha).get_pulls())
        except GithubException as exc:
            raise _failure(f"finding the pull request merged as {sha[:12]}", exc) from exc
        for pull in pulls:
            if pull.merged and pull.merge_commit_sha == sha:
                return MergedPull(int(pull.number), str(pull.head.sha), sha)
        if number is not None:
            pull = pulls[0]
            state = "merged as " + str(pull.merge_commit_sha)[:12] if pull.merged else "not merged"
            raise not_reviewed(
                f"PR #{number} is {state}, so its reviewed plan does not cover commit "
                f"{sha[:12]}.",
                "Apply runs on the merge commit of the PR whose plan was reviewed: trigger it "
                "with the push of that merge (or leave `pr-number` empty).")
        raise not_reviewed(
            f"No merged pull request has commit {sha[:12] or '(unknown)'} as its merge commit, "
            "so there is no reviewed plan for it.",
            "Merge changes through a pull request whose plan ran with this workflow; commits "
            "pushed directly, or merged by hand, have no reviewed plan.")

    def _comments(self, number: int) -> Iterator[Any]:
        try:
            yield from self.repo.get_issue(number).get_comments()
        except GithubException as exc:
            raise _failure(f"listing comments of PR #{number}", exc) from exc

    def trusted_author(self, user: Any) -> bool:
        if getattr(user, "login", None) != self.author or getattr(user, "type", None) != "Bot":
            return False
        return self.author != ACTIONS_BOT_LOGIN or getattr(user, "id", None) == ACTIONS_BOT_ID

    def _own(self, number: int, directory: str) -> list[PlanComment]:
        """Plan comments for ``directory`` by the trusted bot, oldest first; others warned of."""
        found = []
        for comment in self._comments(number):
            header = parse_header(comment.body or "")
            if header is None or header.directory != directory:
                continue
            if not self.trusted_author(comment.user):
                runner.warning(
                    f"Ignoring comment {comment.id} on PR #{number}: it carries a plan header "
                    f"but was written by {comment.user.login} ({comment.user.type}), not "
                    f"{self.author}.",
                    title="Untrusted plan comment",
                )
                continue
            found.append(PlanComment(comment=comment, header=header))
        return found

    def find(self, number: int, directory: str) -> PlanComment | None:
        """The newest plan comment for ``directory`` the bot wrote, if it was never edited."""
        own = self._own(number, directory)
        if not own:
            return None
        latest = own[-1]
        created, updated = latest.comment.created_at, latest.comment.updated_at
        if updated is not None and created is not None and updated != created:
            raise not_reviewed(
                f"The plan comment {latest.url} on PR #{number} was edited after "
                f"{self.author} wrote it (created {created:%Y-%m-%dT%H:%M:%SZ}, updated "
                f"{updated:%Y-%m-%dT%H:%M:%SZ}); an edited plan is not the reviewed plan.",
                "Re-run the pull request's Terraform workflow (it posts a fresh comment), "
                "review it, then re-run this apply.")
        return latest

    def post(self, number: int, directory: str, body: str) -> str:
        """Replace the bot's comment for ``directory`` with a new one; returns its URL."""
        try:
            for old in self._own(number, directory):
                old.comment.delete()
            created = self.repo.get_issue(number).create_comment(body)
        except GithubException as exc:
            raise _failure(f"writing the plan comment on PR #{number}", exc) from exc
        return str(created.html_url)
