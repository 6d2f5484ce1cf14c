"""`factory oidc-subject` against the bench's FAKE GitHub REST API (PyGithub underneath)."""

from __future__ import annotations

import json

import pytest

from factory_bench.stack import Bench
from factory_cli import oidc_subject
from factory_cli.main import main as factory_main
from tests.helpers.terraform_action import fake_github_state, unique


def run(bench: Bench, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("GITHUB_TOKEN", bench.github_token)
    monkeypatch.setenv("GITHUB_API_URL", bench.github_api_url)
    code = factory_main(["oidc-subject", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_default_template_prints_repo_context_subjects(
    bench: Bench, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A repository on GitHub's default template gets repo:<repo>:<context> subjects."""
    repo = f"hoopstat-haus/{unique('oidc')}"
    code, out, err = run(bench, monkeypatch, capsys, "--repo", repo, "--branch", "main")
    assert code == 0, err
    assert "GitHub's default subject template: repo, context" in out
    assert f"plan role (pull requests): repo:{repo}:pull_request" in out
    assert f"deploy role (environment production): repo:{repo}:environment:production" in out
    assert f"deploy role (branch main): repo:{repo}:ref:refs/heads/main" in out
    assert "deployment-branch policy" in out


def test_set_custom_template_then_print_its_subjects(
    bench: Bench, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--set PUTs the claim keys; the printed subjects carry job_workflow_ref and repository_id."""
    repo = f"hoopstat-haus/{unique('oidc')}"
    code, out, err = run(bench, monkeypatch, capsys, "--repo", repo, "--json", "--set",
                         "repo,context,job_workflow_ref,repository_id",
                         "--suite-ref", "refs/tags/v1.2.0")
    assert code == 0, err
    stored = fake_github_state(bench)["oidc_sub"][repo]
    assert stored == {"use_default": False, "include_claim_keys":
                      ["repo", "context", "job_workflow_ref", "repository_id"]}
    report = json.loads(out)
    deploy = report["subjects"]["deploy role (environment production)"]
    assert deploy.startswith(f"repo:{repo}:environment:production:job_workflow_ref:"
                             "hoopstat-haus/hoopstat-factory/.github/workflows/"
                             "deploy-lambda-app.yml@refs/tags/v1.2.0:repository_id:")
    assert deploy.rsplit(":", 1)[1].isdigit()
    code, out, err = run(bench, monkeypatch, capsys, "--repo", repo, "--use-default")
    assert code == 0, err
    assert fake_github_state(bench)["oidc_sub"][repo] == {"use_default": True}


@pytest.mark.parametrize(("args", "message"), [
    (["--repo", "not a repo"], "is not OWNER/REPO"),
    (["--repo", "o/r", "--set", "repo,colour"], "unknown claim key(s): colour"),
    (["--repo", "o/r", "--set", "repo,repo,context"], "listed twice"),
    (["--repo", "o/r", "--set", "repo,job_workflow_ref"], "include `context`"),
    (["--repo", "o/r", "--suite-ref", "main"], "--suite-ref 'main'"),
])
def test_bad_input_changes_nothing(
    bench: Bench, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    args: list[str], message: str,
) -> None:
    """Each invalid flag is refused with exit 2 before any API call (nothing stored)."""
    before = fake_github_state(bench)["oidc_sub"]
    code, _, err = run(bench, monkeypatch, capsys, *args)
    assert code == 2
    assert message in err
    assert fake_github_state(bench)["oidc_sub"] == before


def test_subject_of_a_custom_template_follows_key_order() -> None:
    """Keys render as key:value in template order, context as its own pieces."""
    sub = oidc_subject.subject(["repository_id", "context"], {"repository_id": "42"},
                               "pull_request")
    assert sub == "repository_id:42:pull_request"
