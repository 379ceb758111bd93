"""The client's exceptions: one family under :class:`ClientError`, itself a ``ReceiverError``.

Every error the client raises on purpose is one of these; httpx's own exceptions are
wrapped at the boundary (``raise ... from exc``) and never leak out. An error answer of the
API becomes the class of its status, so a caller can tell a budget refusal from a typo::

    ClientError                  (receiver.errors.ReceiverError)
    ├── APIError                 the API answered an error: status_code, code, message, url
    │   ├── BadRequest           400: the request breaks a rule (``field`` names it)
    │   ├── Unauthorized         401: missing or wrong admin token
    │   ├── PaymentRequired      402: the provider account is out of credits
    │   │   └── BudgetExceeded   402: past today's budget, or a job the budget cannot price
    │   ├── NotFound             404: no such job or delivery (also a receiver NotFoundError)
    │   ├── Conflict             409: not stored yet, nothing to retry, an idempotency key reused
    │   ├── RateLimited          429: the provider asks us to slow down (``retry_after``)
    │   └── ServerError          5xx: the provider failed, or the server lacks a setting
    ├── ConfigurationError       RECEIVER_API_URL or RECEIVER_ADMIN_TOKEN missing or wrong
    │                            (also a receiver ConfigError)
    ├── InvalidArgument          a call the client refuses before sending anything
    ├── Unreachable              no answer at all: connection refused, timed out, reset
    ├── ProtocolError            an answer that is not what the API promises
    ├── WaitTimeout              wait() ran out of time (also a TimeoutError); ``pending``
    ├── DownloadError            the video could not be saved where asked
    │   └── ChecksumMismatch     the bytes are not the SHA-256 the receiver recorded
    └── NotificationError        a notification's signature, timestamp or body is bad
"""

from __future__ import annotations

from receiver.errors import ConfigError, NotFoundError, ReceiverError

__all__ = [
    "APIError",
    "BadRequest",
    "BudgetExceeded",
    "ChecksumMismatch",
    "ClientError",
    "ConfigurationError",
    "Conflict",
    "DownloadError",
    "InvalidArgument",
    "NotFound",
    "NotificationError",
    "PaymentRequired",
    "ProtocolError",
    "RateLimited",
    "ServerError",
    "Unauthorized",
    "Unreachable",
    "WaitTimeout",
]


class ClientError(ReceiverError):
    """The receiver's API could not do what was asked."""


class APIError(ClientError):
    """The receiver's API answered with an error."""

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int,
        code: str | None = None,
        url: str = "",
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.url = url
        super().__init__(message)


class BadRequest(APIError):
    """The request breaks a rule."""

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int = 400,
        code: str | None = None,
        url: str = "",
        field: str | None = None,
    ) -> None:
        self.field = field
        super().__init__(message, status_code=status_code, code=code, url=url)


class Unauthorized(APIError):
    """The receiver refused the admin token (RECEIVER_ADMIN_TOKEN)."""


class PaymentRequired(APIError):
    """The provider account has run out of credits."""


class BudgetExceeded(PaymentRequired):
    """The job does not fit in today's budget (RECEIVER_MAX_CREDITS_PER_DAY)."""


class NotFound(APIError, NotFoundError):
    """No such job or delivery."""


class Conflict(APIError):
    """The request conflicts with the job's state."""


class RateLimited(APIError):
    """The provider is rate limiting: try again after ``retry_after`` seconds."""

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int = 429,
        code: str | None = None,
        url: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, status_code=status_code, code=code, url=url)


class ServerError(APIError):
    """The receiver or its provider failed; try again later."""


class ConfigurationError(ClientError, ConfigError):
    """The client lacks a setting (RECEIVER_API_URL, RECEIVER_ADMIN_TOKEN)."""


class InvalidArgument(ClientError):
    """The call's arguments are wrong; nothing was sent."""


class Unreachable(ClientError):
    """The receiver's API did not answer."""


class ProtocolError(ClientError):
    """The receiver's answer is not what its API promises."""


class WaitTimeout(ClientError, TimeoutError):
    """Gave up waiting: the time ran out before the job's fate was known."""

    def __init__(self, message: str | None = None, *, pending: tuple[str, ...] = ()) -> None:
        self.pending = pending
        super().__init__(message)


class DownloadError(ClientError):
    """The video could not be saved."""


class ChecksumMismatch(DownloadError):
    """The downloaded bytes are not the video the receiver stored."""


class NotificationError(ClientError):
    """The notification is not one the receiver signed, or it is too old or too new."""
