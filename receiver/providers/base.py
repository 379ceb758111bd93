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
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

import orjson

from receiver.providers.models import ModelSpec

__all__ = [
    "JobRequest",
    "MediaKind",
    "Provider",
    "TaskResult",
    "TaskSnapshot",
    "TaskStatus",
    "decode_json_body",
]

#: What a result is, when the task says (a ``results`` URL says nothing: the model's kind
#: or the bytes tell then).
MediaKind = Literal["video", "image", "audio"]


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
    """What a user asks for: one task (a video, or for a catalogue model any media).

    The named fields are the options every video model shares. ``params`` holds, for a
    model of EvoLink's catalogue (other than the four Kling models the fields describe) or an
    unknown model, the fields of the request body under EvoLink's names, as checked: the
    named fields then only summarise it (for records and estimates).
    """

    prompt: str
    model: str | None = None
    duration: int = 5
    aspect_ratio: str = "16:9"
    quality: str = "720p"
    image_url: str | None = None
    negative_prompt: str | None = None
    sound: str | None = None
    #: The body's fields under the provider's names (JSON values); empty for the named ones.
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)
    #: Whether a model the provider's table does not know is sent anyway, unchecked.
    allow_unknown_model: bool = False

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
                "params": self._recorded_body() or None,
            }.items()
            if value is not None
        }

    def _recorded_body(self) -> dict[str, Any]:
        # The first frame's URL may be presigned (it expires and carries a signature): the
        # body names it by its field, as the record's "image_url" (or "image") says where.
        def recorded(value: Any) -> Any:
            if self.image_url is not None and value == self.image_url:
                return "(image_url)"
            if isinstance(value, list):
                return [recorded(item) for item in value]
            return value

        return {name: recorded(value) for name, value in self.params.items()}


@dataclass(frozen=True, kw_only=True)
class TaskResult:
    """One file a completed task made: where to fetch it, and what it is if the task says."""

    url: str
    kind: MediaKind | None = None


@dataclass(frozen=True, kw_only=True)
class TaskSnapshot:
    """A provider task as seen at one moment, whatever door it came through."""

    task_id: str
    status: TaskStatus
    raw_status: str
    progress: int | None = None
    #: Every file the task made, in the provider's order, each once: one asset each.
    results: tuple[TaskResult, ...] = ()
    #: What the task returned that is not a file (an element id, a persona, a song's title):
    #: the model-specific ``result_data`` with its media URLs taken out (a list or a lone
    #: value wrapped as ``{"items": ...}`` or ``{"value": ...}``); None when absent.
    result_data: Mapping[str, Any] | None = None
    #: How long the task's links live, when the task itself says (else the model's rule).
    link_lifetime: timedelta | None = None
    error_code: str | None = None
    error_message: str | None = None
    model: str | None = None
    created_at: datetime | None = None
    estimated_seconds: int | None = None
    credits_reserved: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def video_urls(self) -> tuple[str, ...]:
        """The URLs of every result (of whatever kind), in order."""
        return tuple(result.url for result in self.results)


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

    def model_spec(self, model: str | None, *, image: bool) -> ModelSpec:
        """The rules and price of ``model``, or of the model a request naming none gets
        (``image``: with a first frame); raises :class:`~receiver.errors.ValidationError`
        for a model the provider does not have."""
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
