"""The exception tree of receiver.

Every error the package raises on purpose derives from :class:`ReceiverError`, so the CLI
and the web layer can turn any of them into a clear message. Third-party exceptions are
wrapped at the boundary (``raise ... from exc``) and never leak through.

::

    ReceiverError
    ├── ConfigError            a setting is missing or invalid (exit status 2)
    ├── ValidationError        a job request breaks the provider's documented rules
    ├── BudgetExceeded         a job would pass RECEIVER_MAX_CREDITS_PER_DAY (submission/budget.py)
    ├── BudgetUnpriced         a job has no price, so that budget cannot count it (same module)
    ├── NotFoundError          no such job, delivery or asset
    ├── TokenError             a callback token is not valid for us
    │   └── TokenExpired       ... it was, but it is older than its maximum age
    ├── ProviderError          the provider refused or failed a request
    │   ├── ProviderAuthError      401/403: the API key is wrong or lacks access
    │   ├── ProviderQuotaError     402: not enough credits
    │   ├── ProviderNotFound       404: unknown or expired task
    │   ├── ProviderRateLimited    429: slow down (``retry_after`` seconds)
    │   └── ProviderUnavailable    5xx, timeouts and network failures: try again later
    ├── StorageError           the S3 store refused or failed an operation
    │   └── ObjectConflict     a different object already holds the key (never overwritten)
    ├── FetchError             a video could not be downloaded (retryable unless ``permanent``)
    │   ├── LinkExpired        the video link is past its expiry
    │   └── UnsafeURL          the video URL points somewhere we never fetch from
    ├── ConfirmationError      the provider's task API did not confirm a completed callback
    ├── ServiceError           a bundled service (SeaweedFS, simulator) failed to start
    └── ClientError            the Python client's errors (tree: receiver/client/_exceptions.py)
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConfirmationError",
    "FetchError",
    "LinkExpired",
    "NotFoundError",
    "ObjectConflict",
    "ProviderAuthError",
    "ProviderError",
    "ProviderNotFound",
    "ProviderQuotaError",
    "ProviderRateLimited",
    "ProviderUnavailable",
    "ReceiverError",
    "ServiceError",
    "StorageError",
    "TokenError",
    "TokenExpired",
    "UnsafeURL",
    "ValidationError",
]


class ReceiverError(Exception):
    """Something went wrong in receiver."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self.args[0])


class ConfigError(ReceiverError):
    """A setting is missing or invalid."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        super().__init__(f"{variable}: {problem}")


class ValidationError(ReceiverError):
    """The job request is not valid."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"{field}: {problem}")


class NotFoundError(ReceiverError):
    """Not found."""


class TokenError(ReceiverError):
    """The callback token is not valid."""


class TokenExpired(TokenError):
    """The callback token has expired."""


class ProviderError(ReceiverError):
    """The video provider refused the request."""

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        code: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        super().__init__(message)


class ProviderAuthError(ProviderError):
    """The provider rejected the API key."""


class ProviderQuotaError(ProviderError):
    """The provider account has run out of credits."""


class ProviderNotFound(ProviderError):
    """The provider does not know this task (or it has expired)."""


class ProviderRateLimited(ProviderError):
    """The provider is rate limiting us."""

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: float = 60.0,
        status_code: int | None = 429,
        code: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, status_code=status_code, code=code)


class ProviderUnavailable(ProviderError):
    """The provider could not be reached or failed; try again later."""


class StorageError(ReceiverError):
    """The object store failed."""


class UploadGone(StorageError):
    """The multipart upload no longer exists (aborted by another worker, or by a lifecycle
    rule): no wait brings it back, the archive must start a new one."""


class ObjectConflict(StorageError):
    """A different object already sits under the asset's key: reported, never overwritten."""


class FetchError(ReceiverError):
    """The video could not be downloaded."""

    def __init__(self, message: str | None = None, *, permanent: bool = False) -> None:
        self.permanent = permanent
        super().__init__(message)


class LinkExpired(FetchError):
    """The video link is past its expiry: the job ends ``expired`` (``receiver retry`` asks
    the provider for a fresh link)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, permanent=True)


class UnsafeURL(FetchError):
    """The URL points to a place receiver never fetches from."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, permanent=True)


class ConfirmationError(ReceiverError):
    """The provider did not confirm that the task completed."""

    def __init__(
        self, message: str | None = None, *, permanent: bool = False, retry_after: float = 0.0
    ) -> None:
        self.permanent = permanent
        self.retry_after = retry_after
        super().__init__(message)


class ServiceError(ReceiverError):
    """A bundled service failed to start."""
