"""The public edge's pure parts: the admin token's strength, the sign-in throttle, the CSP."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from starlette.types import Message, Receive, Scope, Send

from receiver.config import Secret, Settings
from receiver.context import Context
from receiver.errors import ConfigError
from receiver.storage import ObjectStore
from receiver.web.security_headers import SecurityHeaders, video_origins
from receiver.web.throttle import SignInThrottle


@pytest.mark.parametrize("token", ["short", "too-short-admin-token-1"])
def test_a_short_admin_token_is_refused_at_start_up(token: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        Settings.from_env({"RECEIVER_ADMIN_TOKEN": token})
    assert excinfo.value.variable == "RECEIVER_ADMIN_TOKEN"
    assert "24 characters" in excinfo.value.message
    assert "secrets.token_urlsafe(32)" in excinfo.value.message
    assert token not in str(excinfo.value)  # a secret, even a bad one


def test_an_admin_token_of_24_characters_will_do() -> None:
    settings = Settings.from_env({"RECEIVER_ADMIN_TOKEN": "a" * 24})
    assert settings.admin_token == Secret("a" * 24)
    assert Settings.from_env({}).admin_token is None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_in_the_window_hold_an_address_back() -> None:
    clock = Clock()
    throttle = SignInThrottle(failures=5, window=900, clock=clock)
    for _ in range(4):
        throttle.failed("192.0.2.1")
        clock.now += 60
    assert throttle.retry_after("192.0.2.1") == 0
    throttle.failed("192.0.2.1")  # the fifth, at t=240
    assert throttle.retry_after("192.0.2.1") == pytest.approx(900 - 240)
    assert throttle.retry_after("192.0.2.2") == 0
    # When the first failure leaves the window, one more try is allowed; failing it holds
    # the address back until the next one leaves.
    clock.now = 1000 + 900.5
    assert throttle.retry_after("192.0.2.1") == 0
    throttle.failed("192.0.2.1")
    assert throttle.retry_after("192.0.2.1") == pytest.approx(60 - 0.5)
    throttle.succeeded("192.0.2.1")
    assert throttle.retry_after("192.0.2.1") == 0


def test_the_throttle_remembers_a_bounded_number_of_addresses() -> None:
    throttle = SignInThrottle(failures=1, max_clients=100, clock=Clock())
    for n in range(10_000):
        throttle.failed(f"10.0.{n // 256}.{n % 256}")
    assert len(throttle) == 100
    assert throttle.retry_after("10.0.39.15") > 0  # the last one
    assert throttle.retry_after("10.0.0.0") == 0  # long forgotten


def test_an_ipv6_host_is_counted_by_its_network() -> None:
    throttle = SignInThrottle(failures=2, clock=Clock())
    throttle.failed("2001:db8:1:2::1")
    throttle.failed("2001:db8:1:2:ffff::9")
    assert throttle.retry_after("2001:db8:1:2::77") > 0
    assert throttle.retry_after("2001:db8:1:3::1") == 0
    throttle.failed("::ffff:192.0.2.9")
    throttle.failed("192.0.2.9")
    assert throttle.retry_after("192.0.2.9") > 0


BASE = Settings(
    s3_bucket="receiver-videos",
    aws_access_key_id="AKIDEXAMPLE",
    aws_secret_access_key=Secret("secret-for-presigning-only"),
)


@pytest.mark.parametrize(
    "settings",
    [
        replace(BASE, s3_endpoint_url="http://127.0.0.1:8333"),
        replace(BASE, s3_endpoint_url="https://s3.example.com", s3_addressing_style="virtual"),
        replace(BASE, s3_endpoint_url="https://s3.example.com:9000", s3_addressing_style="auto"),
        BASE,
        replace(BASE, s3_addressing_style="virtual"),
        replace(BASE, s3_addressing_style="auto", aws_region="eu-west-1"),
        replace(BASE, aws_region="ap-southeast-1"),
        replace(BASE, s3_bucket="videos.example.com", s3_addressing_style="auto"),
    ],
    ids=lambda settings: f"{settings.s3_endpoint_url or 'aws'}-{settings.s3_addressing_style}",
)
def test_the_policy_lets_the_player_fetch_presigned_videos(settings: Settings) -> None:
    # Against botocore itself: the URL /v1/jobs/{id}/video redirects the player to.
    url = ObjectStore(settings).presigned_url("videos/2026/job_x.mp4")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" in video_origins(settings)


def test_an_ipv6_endpoint_is_allowed_by_its_scheme() -> None:
    settings = replace(BASE, s3_endpoint_url="http://[::1]:8333")
    assert video_origins(settings) == ("http:",)


def test_a_response_keeps_the_security_headers_it_set_itself() -> None:
    async def app(_scope: Scope, _receive: Receive, send: Send) -> None:
        headers = [(b"x-frame-options", b"SAMEORIGIN"), (b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    asyncio.run(SecurityHeaders(app, settings=BASE)(scope, receive, send))
    headers = dict(sent[0]["headers"])
    assert headers[b"x-frame-options"] == b"SAMEORIGIN"
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert b"frame-ancestors 'none'" in headers[b"content-security-policy"]


def test_the_admin_token_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # A comparison that stops at the first wrong character tells a guesser how much was
    # right: the token must go through hmac.compare_digest, every time, whatever it is.
    from receiver.web import auth

    compared: list[tuple[bytes, bytes]] = []

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return a == b

    monkeypatch.setattr("receiver.web.auth.hmac.compare_digest", spy)
    token = "an-admin-token-of-enough-length-1234"
    ctx = Context(Settings.from_env({"RECEIVER_ADMIN_TOKEN": token}))
    assert auth.token_matches(ctx, token)
    assert not auth.token_matches(ctx, "x" * 40)
    assert not auth.token_matches(ctx, "")
    assert len(compared) == 3
