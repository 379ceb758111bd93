"""What every provider adapter offers, and the common task shape they all speak.

Provider differences stop here: the rest of receiver only sees :class:`JobRequest` going
out, :class:`TaskSnapshot` coming back (from a create, a task query or a callback body) and
the :class:`Provider` protocol. ``evolink.py`` and ``kling.py`` are the two adapters; how to
add a third is in ``docs/providers.md``.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import orjson

__all__ = ["JobRequest", "Provider", "TaskSnapshot", "TaskStatus", "decode_json_body"]


class TaskStatus(enum.StrEnum):
    """A provider task's status, normalised across providers."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # A status the provider sent that we do not know: recorded, never acted upon.
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        return self in {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED}


@dataclass(frozen=True, kw_only=True)
class JobRequest:
    """What a user asks for: one video."""

    prompt: str
    model: str | None = None
    duration: int = 5
    aspect_ratio: str = "16:9"
    quality: str = "720p"
    image_url: str | None = None
    negative_prompt: str | None = None
    sound: str | None = None

    def as_params(self) -> dict[str, Any]:
        """The request as recorded with the job (only what was set)."""
        return {
            name: value
            for name, value in {
                "prompt": self.prompt,
                "model": self.model,
                "duration": self.duration,
                "aspect_ratio": self.aspect_ratio,
                "quality": self.quality,
                "image_url": self.image_url,
                "negative_prompt": self.negative_prompt,
                "sound": self.sound,
            }.items()
            if value is not None
        }


@dataclass(frozen=True, kw_only=True)
class TaskSnapshot:
    """A provider task as seen at one moment, whatever door it came through."""

    task_id: str
    status: TaskStatus
    raw_status: str
    progress: int | None = None
    video_urls: tuple[str, ...] = ()
    error_code: str | None = None
    error_message: str | None = None
    model: str | None = None
    created_at: datetime | None = None
    estimated_seconds: int | None = None
    credits_reserved: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


class Provider(Protocol):
    """One video generation API."""

    #: The route segment of this provider's callbacks: ``/callbacks/<name>/<token>``.
    name: str
    #: Whether we hold credentials to query the provider (and so to confirm callbacks).
    has_credentials: bool
    #: The longest callback URL the provider accepts.
    callback_url_limit: int

    def require_credentials(self) -> None:
        """Raise :class:`~receiver.errors.ConfigError` naming the settings that are missing."""
        ...

    def validate(self, request: JobRequest) -> JobRequest:
        """Check a request by the provider's documented rules; return it with defaults filled.

        Raises :class:`~receiver.errors.ValidationError` before any network call.
        """
        ...

    def create(self, request: JobRequest, *, callback_url: str, job_id: str) -> TaskSnapshot:
        """Submit a task for job ``job_id``; raises a :class:`~receiver.errors.ProviderError`.

        ``job_id`` is ours: a provider that keeps a client-side id (Kling's
        ``external_task_id``) gets it, the others ignore it.
        """
        ...

    def get_task(self, task_id: str) -> TaskSnapshot:
        """Query a task's current state."""
        ...

    def parse_callback(self, body: bytes) -> TaskSnapshot:
        """Turn a callback body into a snapshot; raises ``ValueError`` when malformed."""
        ...

    def close(self) -> None:
        """Release network resources."""
        ...


def decode_json_body(body: bytes) -> Any:
    """A callback body's JSON; ``ValueError`` when it is not JSON we accept.

    orjson reads it at a quarter of the standard library's cost, and this runs on every
    callback. What orjson refuses but the standard library reads (NaN and Infinity, lone
    surrogates, a UTF-16 body) goes to the standard library, so that a body is never
    refused for a field the parser drops anyway.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    except RecursionError:
        raise ValueError("not JSON we accept: nested too deeply") from None
