"""The EvoLink client against canned provider answers (the provider is the one part we fake)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from receiver.config import Secret
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
from receiver.providers.base import JobRequest
from receiver.providers.evolink import EvoLinkProvider


def _provider(handler: Callable[[httpx.Request], httpx.Response]) -> EvoLinkProvider:
    return EvoLinkProvider(
        api_key=Secret("sk-evo-test"),
        base_url="https://api.test",
        transport=httpx.MockTransport(handler),
    )


def _error(status: int, type_: str, **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        headers=headers,
        json={"error": {"code": type_, "message": f"{type_} happened", "type": type_}},
    )


def test_create_sends_the_documented_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"id": "task-1", "status": "pending", "task_info": {"estimated_time": 90}}
        )

    provider = _provider(handler)
    snapshot = provider.create(JobRequest(prompt="a fox"), callback_url="https://r/cb/tok")
    provider.close()
    assert snapshot.task_id == "task-1"
    assert snapshot.estimated_seconds == 90
    (request,) = seen
    assert request.url.path == "/v1/videos/generations"
    assert request.headers["authorization"] == "Bearer sk-evo-test"
    assert json.loads(request.content)["callback_url"] == "https://r/cb/tok"


def test_get_task_queries_by_id() -> None:
    provider = _provider(
        lambda r: httpx.Response(
            200, json={"id": r.url.path.rsplit("/", 1)[1], "status": "processing"}
        )
    )
    assert provider.get_task("task-9").task_id == "task-9"
    provider.close()


@pytest.mark.parametrize(
    ("status", "kind", "error"),
    [
        (401, "authentication_error", ProviderAuthError),
        (402, "insufficient_quota_error", ProviderQuotaError),
        (403, "permission_error", ProviderAuthError),
        (404, "not_found_error", ProviderNotFound),
        (429, "rate_limit_error", ProviderRateLimited),
        (400, "invalid_request_error", ProviderError),
        (500, "internal_error", ProviderUnavailable),
        (502, "upstream_error", ProviderUnavailable),
        (503, "service_unavailable", ProviderUnavailable),
    ],
)
def test_errors_map_to_clear_exceptions(status: int, kind: str, error: type[ProviderError]) -> None:
    provider = _provider(lambda _r: _error(status, kind, **{"retry-after": "7"}))
    with pytest.raises(error) as excinfo:
        provider.get_task("task-1")
    provider.close()
    assert excinfo.value.status_code == status
    assert str(status) in excinfo.value.message
    assert f"{kind} happened" in excinfo.value.message
    if isinstance(excinfo.value, ProviderRateLimited):
        assert excinfo.value.retry_after == 7


def test_network_failure_is_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    provider = _provider(handler)
    with pytest.raises(ProviderUnavailable, match="could not reach"):
        provider.get_task("task-1")
    provider.close()


def test_non_task_answer_is_unavailable() -> None:
    provider = _provider(lambda _r: httpx.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(ProviderUnavailable):
        provider.get_task("task-1")
    provider.close()


def test_validation_happens_before_any_request() -> None:
    provider = _provider(lambda _r: pytest.fail("no request may be sent"))
    with pytest.raises(ValidationError):
        provider.create(JobRequest(prompt="a fox", duration=99), callback_url="https://r/cb")
    with pytest.raises(ValidationError, match="callback_url"):
        provider.create(JobRequest(prompt="a fox"), callback_url="https://r/" + "t" * 2100)
    provider.close()


def test_without_a_key_requests_fail_but_callbacks_parse() -> None:
    provider = EvoLinkProvider(api_key=None, base_url="https://api.test")
    assert provider.parse_callback(b'{"id": "t", "status": "completed"}').task_id == "t"
    with pytest.raises(ConfigError, match="EVOLINK_API_KEY"):
        provider.get_task("t")
    provider.close()
