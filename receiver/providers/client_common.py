"""What both provider clients do alike over HTTP: send, name a failure, read Retry-After.

Each client keeps what is its provider's own: how it authenticates, the envelope of its
answers, and which of its error codes means what (:data:`ErrorKind`).
"""

from __future__ import annotations

from typing import Any, Literal

import httpx

from receiver.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderQuotaError,
    ProviderRateLimited,
    ProviderUnavailable,
    ValidationError,
)

__all__ = ["ErrorKind", "check_callback_url", "error_of", "not_a_task", "retry_after", "send"]

#: What a provider's error answer means to us, whatever its code says.
ErrorKind = Literal["auth", "quota", "not_found", "rate_limited", "unavailable", "other"]

_ERRORS: dict[ErrorKind, type[ProviderError]] = {
    "auth": ProviderAuthError,
    "quota": ProviderQuotaError,
    "not_found": ProviderNotFound,
    "unavailable": ProviderUnavailable,
    "other": ProviderError,
}


def send(
    client: httpx.Client, method: str, path: str, *, provider: str, **kwargs: Any
) -> httpx.Response:
    """The provider's answer; :class:`ProviderUnavailable` when there is none."""
    try:
        return client.request(method, path, **kwargs)
    except httpx.TimeoutException as exc:
        raise ProviderUnavailable(f"{provider} did not answer in time ({method} {path})") from exc
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(f"could not reach {provider}: {exc}") from exc


def not_a_task(provider: str, method: str, path: str, problem: ValueError) -> ProviderUnavailable:
    """A success answer we cannot read: the provider is not working as documented."""
    return ProviderUnavailable(
        f"{provider} answered {method} {path} with something that is not a task: {problem}"
    )


def check_callback_url(url: str, *, limit: int, accepts: str) -> None:
    """Refuse a callback URL longer than the provider takes, before sending anything.

    ``accepts`` says who sets the limit ("EvoLink accepts", "Kling is assumed to accept").
    """
    if len(url) > limit:
        raise ValidationError(
            "callback_url",
            f"is {len(url)} characters; {accepts} at most {limit} (shorten RECEIVER_PUBLIC_URL)",
        )


def error_of(
    kind: ErrorKind, message: str, *, response: httpx.Response, code: str | None
) -> ProviderError:
    """The exception for an error answer of this ``kind``."""
    status = response.status_code
    if kind == "rate_limited":
        return ProviderRateLimited(
            message, retry_after=retry_after(response), status_code=status, code=code
        )
    return _ERRORS[kind](message, status_code=status, code=code)


def retry_after(response: httpx.Response) -> float:
    """Seconds to wait before asking again: the answer's ``Retry-After``, else a minute."""
    try:
        return max(1.0, float(response.headers.get("retry-after", "60")))
    except ValueError:
        return 60.0
