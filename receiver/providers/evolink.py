"""The EvoLink unified API: create video tasks, query them, read their callbacks."""

from __future__ import annotations

from typing import Any

import httpx

from receiver.config import Secret
from receiver.errors import ConfigError, ProviderError
from receiver.providers import client_common as common
from receiver.providers import evolink_protocol as protocol
from receiver.providers.base import JobRequest, TaskSnapshot
from receiver.providers.models import ModelSpec

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

    def model_spec(self, model: str | None, *, image: bool) -> ModelSpec:
        return protocol.model_spec(model, image=image)

    def validate(self, request: JobRequest) -> JobRequest:
        return protocol.validate_request(request)

    def create(
        self, request: JobRequest, *, callback_url: str, job_id: str | None = None
    ) -> TaskSnapshot:
        # EvoLink keeps no client-side id: the job id only travels inside the callback URL.
        request = self.validate(request)
        common.check_callback_url(
            callback_url, limit=protocol.CALLBACK_URL_MAX_CHARS, accepts="EvoLink accepts"
        )
        body = protocol.request_body(request, callback_url=callback_url)
        return self._task("POST", protocol.endpoint_for(request), json=body)

    def get_task(self, task_id: str) -> TaskSnapshot:
        return self._task("GET", f"/v1/tasks/{task_id}")

    def parse_callback(self, body: bytes) -> TaskSnapshot:
        return protocol.parse_task_json(body)

    def close(self) -> None:
        self._client.close()

    def _task(self, method: str, path: str, **kwargs: Any) -> TaskSnapshot:
        self.require_credentials()
        response = common.send(self._client, method, path, provider="EvoLink", **kwargs)
        if response.is_success:
            try:
                return protocol.parse_task(response.json())
            except ValueError as exc:
                raise common.not_a_task("EvoLink", method, path, exc) from exc
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
    return common.error_of(_error_kind(status), message, response=response, code=code)


def _error_kind(status: int) -> common.ErrorKind:
    """EvoLink says what went wrong by the HTTP status alone."""
    if status in {401, 403}:
        return "auth"
    if status == 402:
        return "quota"
    if status == 404:
        return "not_found"
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "unavailable"
    return "other"
