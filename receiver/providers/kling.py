"""The Kling AI Open Platform: create video tasks, query them, read their callbacks."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from receiver.config import Secret
from receiver.errors import ConfigError, ProviderError, ProviderNotFound
from receiver.providers import client_common as common
from receiver.providers import kling_protocol as protocol
from receiver.providers.base import JobRequest, TaskSnapshot
from receiver.providers.kling_auth import KlingAuth
from receiver.providers.models import ModelSpec

__all__ = ["KlingProvider"]

_AUTH_CODES = frozenset({1000, 1001, 1002, 1003, 1004, 1100, 1103, 1304})
_QUOTA_CODES = frozenset({1101, 1102})
_NOT_FOUND_CODES = frozenset({1202, 1203})
_RATE_CODES = frozenset({1302, 1303})
_ADVICE = {
    1000: "check KLING_ACCESS_KEY and KLING_SECRET_KEY",
    1002: "check KLING_ACCESS_KEY and KLING_SECRET_KEY",
    1003: "check this machine's clock",
    1004: "check this machine's clock",
    1100: "look at the Kling account's state in the console",
    1101: "the Kling account is in arrears: top it up",
    1102: "buy a Kling resource pack",
    1103: "these keys may not use this model or route",
    1304: "allow this server's address in the Kling console's IP whitelist",
    1302: "slow down and try again in a minute",
    1303: "too many tasks at once for the resource pack: try again when some finish",
}


class KlingProvider:
    """A client of ``api-singapore.klingai.com`` (or the simulator's Kling dialect)."""

    name = "kling"
    callback_url_limit = protocol.CALLBACK_URL_MAX_CHARS

    def __init__(
        self,
        *,
        access_key: str | None,
        secret_key: Secret | None,
        base_url: str = "https://api-singapore.klingai.com",
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        # Without keys the adapter still parses callbacks; only requests need them.
        self.has_credentials = access_key is not None and secret_key is not None
        self._client = httpx.Client(
            base_url=base_url,
            auth=KlingAuth(access_key, secret_key) if access_key and secret_key else None,
            timeout=timeout,
            transport=transport,
        )

    def require_credentials(self) -> None:
        if not self.has_credentials:
            raise ConfigError(
                "KLING_ACCESS_KEY",
                "and KLING_SECRET_KEY must both be set: the key pair from the Kling console",
            )

    def model_spec(self, model: str | None, *, image: bool) -> ModelSpec:
        return protocol.model_spec(model, image=image)

    def validate(self, request: JobRequest) -> JobRequest:
        return protocol.validate_request(request)

    def create(self, request: JobRequest, *, callback_url: str, job_id: str) -> TaskSnapshot:
        request = self.validate(request)
        common.check_callback_url(
            callback_url,
            limit=protocol.CALLBACK_URL_MAX_CHARS,
            accepts="Kling is assumed to accept",
        )
        # external_task_id = our job id: Kling refuses a second task with the same one, and
        # its console shows which job a task belongs to.
        body = protocol.request_body(request, callback_url=callback_url, external_task_id=job_id)
        return self._task("POST", f"/v1/videos/{protocol.kind_of(request)}", json=body)

    def get_task(self, task_id: str) -> TaskSnapshot:
        # Each kind of task is queried on its own route and a task id does not tell its kind
        # (nor does a callback), so ask text-to-video first, then image-to-video.
        missing: ProviderNotFound | None = None
        for kind in protocol.KINDS:
            try:
                return self._task("GET", f"/v1/videos/{kind}/{quote(task_id, safe='')}")
            except ProviderNotFound as exc:
                missing = exc
        raise ProviderNotFound(
            f"Kling knows no task {task_id} (neither text2video nor image2video)",
            status_code=missing.status_code if missing else 404,
            code=missing.code if missing else None,
        ) from missing

    def parse_callback(self, body: bytes) -> TaskSnapshot:
        return protocol.parse_task_json(body)

    def close(self) -> None:
        self._client.close()

    def _task(self, method: str, path: str, **kwargs: Any) -> TaskSnapshot:
        self.require_credentials()
        response = common.send(self._client, method, path, provider="Kling", **kwargs)
        document = _json_object(response)
        code = document.get("code")
        if response.is_success and code in (0, None):
            try:
                return protocol.parse_task(document.get("data"))
            except ValueError as exc:
                raise common.not_a_task("Kling", method, path, exc) from exc
        raise _error_from(response, document)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        document = response.json()
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _error_from(response: httpx.Response, document: dict[str, Any]) -> ProviderError:
    """Map a Kling error answer (``{code, message, request_id}``) to our exception family.

    Kling's own code decides where it is known (HTTP 429 covers both an empty account and
    a rate limit); the HTTP status decides otherwise.
    """
    status = response.status_code
    raw_code = document.get("code")
    code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
    detail = document.get("message") if isinstance(document.get("message"), str) else None
    if not detail and code is not None and code in protocol.ERROR_CODES:
        detail = protocol.ERROR_CODES[code][1]
    message = f"Kling answered {status}{f' code {code}' if code is not None else ''}: "
    message += detail or response.reason_phrase or "error"
    if code in _ADVICE:
        message = f"{message}; {_ADVICE[code]}"
    if isinstance(document.get("request_id"), str):
        message = f"{message} (request {document['request_id']})"
    code_text = str(code) if code is not None else None
    return common.error_of(_error_kind(status, code), message, response=response, code=code_text)


def _error_kind(status: int, code: int | None) -> common.ErrorKind:
    """Kling's own code decides where it is known; the HTTP status otherwise."""
    if code in _AUTH_CODES or (code is None and status in {401, 403}):
        return "auth"
    if code in _QUOTA_CODES:
        return "quota"
    if code in _NOT_FOUND_CODES or (code is None and status == 404):
        return "not_found"
    if code in _RATE_CODES or (code is None and status == 429):
        return "rate_limited"
    if status >= 500 or (code is not None and code >= 5000):
        return "unavailable"
    return "other"
