"""The EvoLink unified API: create video tasks, query them, read their callbacks."""

from __future__ import annotations

from typing import Any

import httpx

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
from receiver.providers import evolink_protocol as protocol
from receiver.providers.base import JobRequest, TaskSnapshot

__all__ = ["EvoLinkProvider"]

_ADVICE = {
    401: "check EVOLINK_API_KEY",
    402: "top up the EvoLink account",
    403: "this API key may not use this model",
    429: "slow down and try again in a minute",
}


class EvoLinkProvider:
    """A client of ``api.evolink.ai`` (or anything that speaks its API, like the simulator)."""

    name = "evolink"
    callback_url_limit = protocol.CALLBACK_URL_MAX_CHARS

    def __init__(
        self,
        *,
        api_key: Secret | None,
        base_url: str = "https://api.evolink.ai",
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        # Without a key the adapter still parses callbacks; only requests need one.
        self.has_credentials = api_key is not None
        self._client = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key.reveal()}"} if api_key else {},
            timeout=timeout,
            transport=transport,
        )

    def require_credentials(self) -> None:
        if not self.has_credentials:
            raise ConfigError("EVOLINK_API_KEY", "is not set: your EvoLink API key (sk-evo-...)")

    def validate(self, request: JobRequest) -> JobRequest:
        return protocol.validate_request(request)

    def create(
        self, request: JobRequest, *, callback_url: str, job_id: str | None = None
    ) -> TaskSnapshot:
        # EvoLink keeps no client-side id: the job id only travels inside the callback URL.
        request = self.validate(request)
        if len(callback_url) > protocol.CALLBACK_URL_MAX_CHARS:
            raise ValidationError(
                "callback_url",
                f"is {len(callback_url)} characters; EvoLink accepts at most "
                f"{protocol.CALLBACK_URL_MAX_CHARS} (shorten RECEIVER_PUBLIC_URL)",
            )
        body = protocol.request_body(request, callback_url=callback_url)
        return self._task("POST", "/v1/videos/generations", json=body)

    def get_task(self, task_id: str) -> TaskSnapshot:
        return self._task("GET", f"/v1/tasks/{task_id}")

    def parse_callback(self, body: bytes) -> TaskSnapshot:
        return protocol.parse_task_json(body)

    def close(self) -> None:
        self._client.close()

    def _task(self, method: str, path: str, **kwargs: Any) -> TaskSnapshot:
        self.require_credentials()
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(f"EvoLink did not answer in time ({method} {path})") from exc
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"could not reach EvoLink: {exc}") from exc
        if response.is_success:
            try:
                return protocol.parse_task(response.json())
            except ValueError as exc:
                raise ProviderUnavailable(
                    f"EvoLink answered {method} {path} with something that is not a task: {exc}"
                ) from exc
        raise _error_from(response)


def _error_from(response: httpx.Response) -> ProviderError:
    """Map an EvoLink error answer (``{"error": {...}}``) to our exception family."""
    status = response.status_code
    code: str | None = None
    detail = response.reason_phrase or "error"
    try:
        error = response.json().get("error", {})
        code = error.get("code") or error.get("type")
        detail = error.get("message") or detail
        if error.get("fallback_suggestion"):
            detail = f"{detail} ({error['fallback_suggestion']})"
    except (ValueError, AttributeError):
        pass
    advice = _ADVICE.get(status)
    message = f"EvoLink answered {status}{f' {code}' if code else ''}: {detail}"
    if advice:
        message = f"{message}; {advice}"
    if status in {401, 403}:
        return ProviderAuthError(message, status_code=status, code=code)
    if status == 402:
        return ProviderQuotaError(message, status_code=status, code=code)
    if status == 404:
        return ProviderNotFound(message, status_code=status, code=code)
    if status == 429:
        return ProviderRateLimited(
            message, retry_after=_retry_after(response), status_code=status, code=code
        )
    if status >= 500:
        return ProviderUnavailable(message, status_code=status, code=code)
    return ProviderError(message, status_code=status, code=code)


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(1.0, float(response.headers.get("retry-after", "60")))
    except ValueError:
        return 60.0
