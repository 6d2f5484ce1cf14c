"""Tests for parsing traffic-shift strategies and ECR image URIs (pure functions)."""

from __future__ import annotations

import pytest

from action_scripts import lambda_api, lambda_image, lambda_strategy
from action_scripts.lambda_strategy import Step, Strategy

DIGEST = "a" * 64


@pytest.mark.parametrize(("value", "steps"), [
    ("all-at-once", ()),
    ("canary-10-5", (Step(0.10, 5),)),
    ("linear-25-2", (Step(0.25, 2), Step(0.50, 2), Step(0.75, 2))),
    ("linear-30-1", (Step(0.30, 1), Step(0.60, 1), Step(0.90, 1))),
    ("canary-99-1440", (Step(0.99, 1440),)),
])
def test_strategies_expand_to_weight_steps(value: str, steps: tuple[Step, ...]) -> None:
    """Each accepted strategy becomes the weights the alias routes to the new version, in order."""
    parsed = lambda_strategy.parse(value)
    assert parsed == Strategy(value, steps)


@pytest.mark.parametrize(("value", "says"), [
    ("canary-0-5", "outside 1-99"), ("linear-100-1", "outside 1-99"),
    ("canary-10-0", "outside 1-1440"), ("canary-10-1441", "outside 1-1440"),
    ("canary-10", "not a known strategy"), ("bluegreen", "not a known strategy"),
    ("Canary-10-5", "not a known strategy"),
])
def test_bad_strategies_say_why(value: str, says: str) -> None:
    """A rejected strategy comes with the reason shown to the user."""
    reason = lambda_strategy.parse(value)
    assert isinstance(reason, str) and says in reason


@pytest.mark.parametrize(("uri", "digest", "tag", "repository"), [
    (f"123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:{DIGEST}", DIGEST, "", "app"),
    ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:v1.2.3", "", "v1.2.3", "team/app"),
])
def test_image_uris_parse(uri: str, digest: str, tag: str, repository: str) -> None:
    """Digest and tag forms parse into registry, repository and digest or tag."""
    ref = lambda_image.parse(uri)
    assert ref is not None
    assert (ref.digest, ref.tag, ref.repository, ref.account) == (digest, tag, repository,
                                                                  "123456789012")


@pytest.mark.parametrize("uri", [
    "nginx:latest", "app@sha256:" + DIGEST,
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:abc",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/App:v1",
    "ghcr.io/org/app:v1",
])
def test_other_image_references_are_refused(uri: str) -> None:
    """Anything but an ECR URI by full digest or by tag is refused."""
    assert lambda_image.parse(uri) is None


def test_description_round_trips_and_fits_lambdas_limit() -> None:
    """The version description carries sha, digest, previous and run URL within 256 chars."""
    text = lambda_api.make_description(sha="b" * 40, digest=DIGEST, previous="7",
                                       run_url="https://github.com/o/r/actions/runs/1")
    assert len(text) <= 256
    assert lambda_api.parse_description(text) == {
        "sha": "b" * 40, "digest": f"sha256:{DIGEST}", "previous": "7",
        "run": "https://github.com/o/r/actions/runs/1",
    }
    long_url = "https://github.com/" + "x" * 200
    assert "run=" not in lambda_api.make_description(sha="b" * 40, digest=DIGEST,
                                                     run_url=long_url)
    assert lambda_api.parse_description("deployed by hand") == {}
