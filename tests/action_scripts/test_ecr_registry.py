"""Registry endpoint override rules and the ECR login (against the moto server)."""

from __future__ import annotations

import pytest

from action_scripts import aws, runner
from action_scripts.ecr_registry import Registry, check_endpoint_override, login
from factory_bench.stack import Bench


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("", True),
        ("http://127.0.0.1:5000", True),
        ("http://localhost:5000", True),
        ("https://[::1]:5443", True),
        ("http://10.0.0.5:5000", False),
        ("https://123456789012.dkr.ecr.us-east-1.amazonaws.com", False),
        ("ftp://127.0.0.1", False),
        ("127.0.0.1:5000", False),  # a scheme is required: it decides TLS
        ("http://127.0.0.1:5000/v2/", False),
    ],
)
def test_endpoint_override_only_accepts_loopback_urls(value: str, ok: bool) -> None:
    """Only loopback http(s) URLs are accepted, since the ECR password is sent there."""
    assert (check_endpoint_override(value) is None) is ok


def test_registry_from_proxy_endpoint() -> None:
    """An ECR proxyEndpoint becomes the image-reference host and a TLS API base."""
    registry = Registry.from_url("https://123456789012.dkr.ecr.us-east-1.amazonaws.com")
    assert registry.host == "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert not registry.plain_http


def test_login_masks_token_and_password_before_anything(
    bench: Bench, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """GetAuthorizationToken is decoded to user AWS; token and password are masked first."""
    for key, value in bench.admin_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(runner, "_masked", set())  # earlier tests may have masked it already
    result = login(aws.client("ecr"), override="")
    out = capsys.readouterr().out
    assert result.username == "AWS"
    assert f"::add-mask::{result.password}" in out
    assert result.registry.host == "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    local = login(aws.client("ecr"), override="http://127.0.0.1:5999")
    assert local.registry.base_url == "http://127.0.0.1:5999" and local.registry.plain_http
