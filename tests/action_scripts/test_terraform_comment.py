"""Tests of the plan comment: hidden header, truncation, and find/update through the FAKE GitHub."""

from __future__ import annotations

import json
import urllib.request
from types import SimpleNamespace
from typing import Any

import pytest

from action_scripts import terraform_comment as tc
from action_scripts.errors import FactoryError
from action_scripts.terraform_plan import Change, PlanSummary, kind_of
from action_scripts.terraform_pr_comments import PlanComments
from factory_bench.stack import Bench


def summary_of(count: int, *, kind: tuple[str, ...] = ("create",)) -> PlanSummary:
    changes = [Change(f'aws_s3_bucket.b["{i:05d}"]', kind_of(kind), kind) for i in range(count)]
    return PlanSummary(changes=changes, to_add=count)


def test_header_round_trip_survives_comment_terminator() -> None:
    """A header whose data contains `-->` still parses back whole from the rendered comment."""
    prints = {'aws_s3_bucket.x["a-->b"]': "create:abc"}
    body = tc.render(
        directory="infra/app", summary=summary_of(1), plan_hash="sha256:" + "a" * 64,
        plan_text="+ create", fingerprints=prints, commit="c" * 40,
    ).body
    first_line = body.splitlines()[0]
    assert first_line.startswith("<!-- hoopstat-factory {") and first_line.endswith("} -->")
    assert first_line.count("-->") == 1
    header = tc.parse_header(body)
    assert header is not None
    assert header.directory == "infra/app"
    assert header.plan_hash == "sha256:" + "a" * 64
    assert header.fingerprints == prints
    assert header.commit == "c" * 40


def test_other_comments_have_no_header() -> None:
    """Ordinary comments, other kinds and broken JSON are not taken for a plan comment."""
    assert tc.parse_header("LGTM") is None
    assert tc.parse_header('<!-- hoopstat-factory {"kind":"deploy"} -->') is None
    assert tc.parse_header("<!-- hoopstat-factory {not json} -->") is None


def test_body_has_collapsible_plan_and_table() -> None:
    """The body shows the headline, a resource table and the plan inside <details>."""
    body = tc.render(
        directory=".", summary=summary_of(2), plan_hash="sha256:00", plan_text="plan ``` text",
        fingerprints={}, run_url="https://github.com/o/r/actions/runs/1",
    ).body
    assert "**Plan: 2 to add, 0 to change, 0 to destroy.**" in body
    assert '| `+` | `aws_s3_bucket.b["00000"]` | create |' in body
    assert "<details><summary>Full plan</summary>" in body and "</details>" in body
    assert "````text\nplan ``` text\n````" in body  # fence longer than any run inside
    assert "[workflow run](https://github.com/o/r/actions/runs/1)" in body


def test_huge_plan_is_truncated_within_githubs_limit() -> None:
    """A 5,000-resource plan renders under 65,536 characters, keeping the header's hash."""
    summary = summary_of(5000)
    text = "\n".join(f"  # aws_s3_bucket.b[{i}] will be created ✓" for i in range(5000))
    prints = {c.address: "create:0123456789ab" for c in summary.changes}
    rendered = tc.render(directory="big", summary=summary, plan_hash="sha256:ff",
                         plan_text=text, fingerprints=prints)
    assert tc._length(rendered.body) <= tc.COMMENT_LIMIT
    assert rendered.truncated
    assert not rendered.fingerprints_kept  # 5,000 fingerprints do not fit the budget
    assert "plan truncated to fit GitHub's comment limit" in rendered.body
    assert "… and 4800 more" in rendered.body
    header = tc.parse_header(rendered.body)
    assert header is not None and header.plan_hash == "sha256:ff" and header.fingerprints is None


def test_small_plan_is_not_truncated() -> None:
    """A small plan is shown whole, and its fingerprints are kept."""
    rendered = tc.render(directory=".", summary=summary_of(3), plan_hash="sha256:1",
                         plan_text="line\n" * 10, fingerprints={"a": "create:1"})
    assert not rendered.truncated and rendered.fingerprints_kept
    assert "line\n" * 10 in rendered.body


def _seed_pull(bench: Bench, repo: str, number: int, merge_sha: str) -> None:
    request = urllib.request.Request(
        f"{bench.github_api_url}/_fake/pulls", method="POST",
        data=json.dumps({"repo": repo, "number": number, "state": "closed",
                         "merge_commit_sha": merge_sha, "head_sha": "1" * 40}).encode(),
        headers={"Authorization": f"token {bench.github_token}",
                 "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 201


def _fake_state(bench: Bench) -> dict[str, Any]:
    with urllib.request.urlopen(f"{bench.github_api_url}/_fake/state", timeout=5) as response:
        state: dict[str, Any] = json.loads(response.read())
    return state


def test_post_replaces_the_directory_comment_and_never_edits(bench: Bench) -> None:
    """Against the FAKE GitHub API: a re-plan deletes and re-creates its comment (never an edit,
    so an edit always means someone else); another directory gets its own."""
    repo = "hoopstat-haus/comment-upsert"
    comments = PlanComments(token=bench.github_token, repository=repo,
                            api_url=bench.github_api_url)
    first = tc.Header(directory="infra", plan_hash="sha256:1").render() + "\nfirst"
    second = tc.Header(directory="infra", plan_hash="sha256:2").render() + "\nsecond"
    other = tc.Header(directory="other", plan_hash="sha256:3").render() + "\nother"
    comments.post(7, "infra", first)
    comments.post(7, "infra", second)
    comments.post(7, "other", other)
    stored = _fake_state(bench)["comments"][repo]["7"]
    assert [c["body"].splitlines()[-1] for c in stored] == ["second", "other"]
    assert all(c["created_at"] == c["updated_at"] for c in stored)
    found = comments.find(7, "infra")
    assert found is not None and found.header.plan_hash == "sha256:2"
    assert comments.find(8, "infra") is None


def test_merged_pull_is_found_by_its_merge_commit_only(bench: Bench) -> None:
    """The PR whose merge commit is the pushed SHA is found; its head commit finds nothing."""
    repo = "hoopstat-haus/commit-pulls"
    _seed_pull(bench, repo, 31, "ab" * 20)
    comments = PlanComments(token=bench.github_token, repository=repo,
                            api_url=bench.github_api_url)
    assert comments.merged_pull("ab" * 20).number == 31
    with pytest.raises(FactoryError) as caught:
        comments.merged_pull("cd" * 20)
    assert caught.value.reason == "plan-not-reviewed"


def test_bad_token_is_a_github_error(bench: Bench) -> None:
    """A token the API refuses fails with the github-error reason, not a traceback."""
    comments = PlanComments(token="wrong-token", repository="hoopstat-haus/x",
                            api_url=bench.github_api_url)
    with pytest.raises(FactoryError) as caught:
        comments.find(1, ".")
    assert caught.value.reason == "github-error"


def test_comments_not_written_by_the_workflow_bot_are_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only github-actions[bot] (Bot, id 41898282) counts; a human's header does not (FAKE
    comment objects)."""
    comments = PlanComments(token="t" * 8, repository="o/r", api_url="http://127.0.0.1:9")
    body = tc.Header(directory=".", plan_hash="sha256:forged").render()
    human = SimpleNamespace(id=1, body=body, user=SimpleNamespace(type="User", login="mallory"))
    bot = SimpleNamespace(id=2, body=tc.Header(directory=".", plan_hash="sha256:real").render(),
                          user=SimpleNamespace(type="Bot", login="github-actions[bot]",
                                               id=41898282),
                          created_at=None, updated_at=None, html_url="u")
    monkeypatch.setattr(comments, "_comments", lambda number: iter([human, bot]))
    found = comments.find(1, ".")
    assert found is not None and found.header.plan_hash == "sha256:real"
    monkeypatch.setattr(comments, "_comments", lambda number: iter([human]))
    assert comments.find(1, ".") is None
