"""The Kling client against canned answers (the provider is the one part we fake)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import jwt
import pytest

from receiver.config import Secret, Settings
from receiver.errors import (
    ConfigError,
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderQuotaError,
    ProviderRateLimited,
    ProviderUnavailable,
    ValidationError,
)
from receiver.providers import build
from receiver.providers.base import JobRequest, TaskStatus
from receiver.providers.kling import KlingProvider
from receiver.providers.kling_auth import TokenProblem, check_api_token, mint_api_token

ACCESS, SECRET = "ak-test", "sk-test-" + "0123456789" * 4
TASK = {"task_id": "Ckl123", "task_status": "submitted", "created_at": 1722769557708}


def _provider(handler: Callable[[httpx.Request], httpx.Response]) -> KlingProvider:
    return KlingProvider(
        access_key=ACCESS,
        secret_key=Secret(SECRET),
        base_url="https://kling.test",
        transport=httpx.MockTransport(handler),
    )


def _ok(data: object) -> httpx.Response:
    return httpx.Response(
        200, json={"code": 0, "message": "SUCCEED", "request_id": "r", "data": data}
    )


def _error(status: int, code: int, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, headers=headers, json={"code": code, "message": f"code {code}", "request_id": "r9"}
    )


def test_create_sends_the_documented_request_with_a_signed_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _ok(TASK)

    provider = _provider(handler)
    snapshot = provider.create(
        JobRequest(prompt="a fox"), callback_url="https://r/callbacks/kling/tok", job_id="job_01"
    )
    provider.create(JobRequest(prompt="a fox"), callback_url="https://r/cb", job_id="job_02")
    provider.close()
    assert snapshot.task_id == "Ckl123"
    assert snapshot.status == TaskStatus.PENDING
    first, second = seen
    assert first.url.path == "/v1/videos/text2video"
    body = json.loads(first.content)
    assert body["external_task_id"] == "job_01"
    assert body["callback_url"] == "https://r/callbacks/kling/tok"
    assert body["model_name"] == "kling-v3"
    scheme, _, token = first.headers["authorization"].partition(" ")
    assert scheme == "Bearer"
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["iss"] == ACCESS
    assert claims["exp"] - claims["nbf"] == 1805
    # A token lives thirty minutes: the next request reuses it.
    assert second.headers["authorization"] == first.headers["authorization"]


def test_image_jobs_go_to_image2video() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return _ok(TASK)

    provider = _provider(handler)
    provider.create(
        JobRequest(prompt="moves", image_url="https://img.example/a.jpg"),
        callback_url="https://r/cb",
        job_id="job_1",
    )
    assert paths == ["/v1/videos/image2video"]


def test_get_task_asks_text2video_then_image2video() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        if request.url.path.startswith("/v1/videos/text2video/"):
            return _error(404, 1203)
        return _ok({**TASK, "task_status": "succeed"})

    snapshot = _provider(handler).get_task("Ckl123")
    assert snapshot.status == TaskStatus.COMPLETED
    assert paths == ["/v1/videos/text2video/Ckl123", "/v1/videos/image2video/Ckl123"]


def test_a_task_neither_route_knows_is_not_found() -> None:
    with pytest.raises(ProviderNotFound, match="neither text2video nor image2video"):
        _provider(lambda request: _error(404, 1203)).get_task("nope")


@pytest.mark.parametrize(
    ("response", "error", "words"),
    [
        (_error(401, 1004), ProviderAuthError, "clock"),
        (_error(401, 1002), ProviderAuthError, "KLING_SECRET_KEY"),
        (_error(403, 1103), ProviderAuthError, "may not use"),
        # HTTP 429 covers an empty account too: Kling's code tells them apart.
        (_error(429, 1102), ProviderQuotaError, "resource pack"),
        (_error(429, 1101), ProviderQuotaError, "arrears"),
        (_error(400, 1301), ProviderError, "code 1301"),
        (_error(500, 5000), ProviderUnavailable, "500"),
        (httpx.Response(502, text="bad gateway"), ProviderUnavailable, "502"),
        (httpx.Response(200, json={"code": 0, "data": {"nope": 1}}), ProviderUnavailable, "task"),
        (httpx.Response(200, text="<html>"), ProviderUnavailable, "not a task"),
    ],
)
def test_errors_map_to_our_family(
    response: httpx.Response, error: type[ProviderError], words: str
) -> None:
    with pytest.raises(error) as caught:
        _provider(lambda request: response).create(
            JobRequest(prompt="a fox"), callback_url="https://r/cb", job_id="job_1"
        )
    assert type(caught.value) is error
    assert words in caught.value.message


def test_rate_limits_carry_retry_after() -> None:
    with pytest.raises(ProviderRateLimited) as caught:
        _provider(lambda request: _error(429, 1303, **{"Retry-After": "7"})).get_task("t")
    assert caught.value.retry_after == 7.0
    assert caught.value.code == "1303"
    assert "(request r9)" in caught.value.message


def test_network_failures_are_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request)

    with pytest.raises(ProviderUnavailable, match="did not answer in time"):
        _provider(handler).get_task("t")


def test_bad_requests_and_long_urls_are_refused_before_the_network() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request may be sent")

    provider = _provider(handler)
    with pytest.raises(ValidationError, match="duration"):
        provider.create(JobRequest(prompt="a", duration=99), callback_url="https://r", job_id="j")
    with pytest.raises(ValidationError, match="callback_url"):
        provider.create(JobRequest(prompt="a"), callback_url="https://r/" + "t" * 2100, job_id="j")


def test_without_keys_it_parses_callbacks_but_sends_nothing() -> None:
    provider = build("kling", Settings())
    assert provider.name == "kling"
    assert not provider.has_credentials
    assert provider.parse_callback(json.dumps(TASK).encode()).task_id == "Ckl123"
    with pytest.raises(ConfigError, match="KLING_ACCESS_KEY"):
        provider.require_credentials()
    with pytest.raises(ConfigError, match="KLING_SECRET_KEY"):
        provider.get_task("Ckl123")


def test_tokens_are_checked_the_way_kling_documents() -> None:
    now = time.time()
    token = mint_api_token(ACCESS, SECRET, now=now)
    assert check_api_token(token, access_key=ACCESS, secret_key=SECRET) == ACCESS
    assert check_api_token(token, access_key=None, secret_key=None) == ACCESS
    cases = [
        (mint_api_token(ACCESS, SECRET, now=now - 3600), ACCESS, SECRET, 1004),
        (mint_api_token(ACCESS, SECRET, now=now + 600), ACCESS, SECRET, 1003),
        (mint_api_token(ACCESS, "another-secret-key-" * 3, now=now), ACCESS, SECRET, 1002),
        (mint_api_token("ak-other", SECRET, now=now), ACCESS, SECRET, 1000),
        ("not.a.jwt", None, None, 1002),
    ]
    for bad, access_key, secret_key, code in cases:
        with pytest.raises(TokenProblem) as caught:
            check_api_token(bad, access_key=access_key, secret_key=secret_key)
        assert caught.value.code == code
