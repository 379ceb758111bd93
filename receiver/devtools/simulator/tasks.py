"""One simulated task: what was asked, where it stands, and what happened to it since.

:meth:`SimTask.as_object` renders EvoLink's task object exactly as the create answer,
``GET /v1/tasks/{id}`` and the callback carry it; the rest of the record (callback
attempts, download counts) is what ``/_simulator/stats`` reports.
"""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from receiver.devtools.simulator import links
from receiver.devtools.simulator.config import Outcome, SimulatorConfig
from receiver.devtools.simulator.outputs import Output, output_for
from receiver.devtools.simulator.video import MIN_PADDING, VideoFile
from receiver.providers.base import JobRequest
from receiver.providers.evolink_models import PRICES as MODELS
from receiver.providers.evolink_protocol import catalogue_credits

__all__ = ["CallbackAttempt", "CallbackState", "SimTask", "outcome_for"]

CallbackState = Literal["none", "waiting", "delivering", "delivered", "gave_up"]

# The status string each outcome ends in; "mystery" stands for any status we were never told.
_FINAL_STATUS: dict[Outcome, str] = {
    "completed": "completed",
    "failed": "failed",
    "cancelled": "cancelled",
    "unknown": "mystery",
}
_MARKERS: dict[str, Outcome] = {
    "[sim:fail]": "failed",
    "[sim:cancel]": "cancelled",
    "[sim:unknown]": "unknown",
}
_ID_ALPHABET = string.ascii_lowercase + string.digits
_FAILURE = {
    "code": "content_policy_violation",
    "message": "The generated content was flagged by the content policy (simulated).",
    "type": "content_policy_error",
}


def outcome_for(prompt: str, default: Outcome) -> Outcome:
    """The outcome a prompt marker asks for, else ``default``."""
    for marker, outcome in _MARKERS.items():
        if marker in prompt:
            return outcome
    return default


@dataclass(frozen=True, kw_only=True)
class CallbackAttempt:
    """One POST of a callback, as the simulator saw it."""

    attempt: int
    kind: Literal["first", "retry", "duplicate"]
    #: The task status the body carried (a provider may call back more than once).
    status: str
    at: float
    status_code: int | None
    error: str | None
    #: Whether the simulator counted it as delivered (``callback_fail_first`` says no).
    delivered: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "kind": self.kind,
            "status": self.status,
            "at": self.at,
            "status_code": self.status_code,
            "error": self.error,
            "delivered": self.delivered,
        }


@dataclass(kw_only=True, eq=False)
class SimTask:
    """A task and its history; mutated only on the simulator's event loop."""

    #: EvoLink calls back once, with the final status; other dialects on every change.
    callback_on_every_change: ClassVar[bool] = False

    task_id: str
    created: int
    model: str
    request: JobRequest
    credits_reserved: float
    callback_url: str | None
    outcome: Outcome
    #: The config current at creation: the task runs by it to the end.
    config: SimulatorConfig
    #: Where video links point when ``config.public_url`` is not set.
    base_url: str
    video: VideoFile
    status: str = "pending"
    progress: int = 0
    video_url: str | None = None
    callback_state: CallbackState = "none"
    callback_attempts: list[CallbackAttempt] = field(default_factory=list)
    downloads: int = 0
    range_downloads: int = 0
    failed_downloads: int = 0
    #: Download answers (full or ranged) whose body was sent up to the file's last byte:
    #: the "one job, one download" count, which a download cut off half-way does not spoil.
    complete_downloads: int = 0
    #: Downloads broken off on purpose (``video_truncate_first``).
    truncated_downloads: int = 0
    sha256: str | None = None
    #: What the task makes (one video, unless its model makes otherwise).
    output: Output = field(default_factory=Output)
    #: The links to its files after the first video (or to all of them, for other kinds).
    media_urls: list[str] = field(default_factory=list)
    #: Downloads of each of those files, by index.
    media_downloads: dict[int, int] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        request: JobRequest,
        *,
        callback_url: str | None,
        config: SimulatorConfig,
        base_url: str,
    ) -> SimTask:
        """A new pending task for a request that passed ``validate_request``."""
        if request.model is None:
            raise ValueError("the request must be validated first (its model filled in)")
        if request.model in MODELS:
            multiplier = 1.25 if request.quality == "1080p" else 1.0
            price = MODELS[request.model].credits_per_second
            credits = max(request.duration, 3) * price * multiplier
        else:  # a model of the catalogue, priced by its rule (unpriced: nothing reserved)
            credits = catalogue_credits(request) or 0.0
        credits *= config.reserved_credits_factor
        created = int(time.time())
        suffix = "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))
        task_id = f"task-unified-{created}-{suffix}"
        return cls(
            task_id=task_id,
            created=created,
            model=request.model,
            request=request,
            credits_reserved=round(credits, 2),
            callback_url=callback_url,
            outcome=outcome_for(request.prompt, config.outcome),
            config=config,
            base_url=base_url,
            video=VideoFile(task_id, config.video_size),
            callback_state="waiting" if callback_url else "none",
            output=output_for(request.model, dict(request.params), task_id=task_id),
        )

    @property
    def is_final(self) -> bool:
        return self.status not in {"pending", "processing"}

    @property
    def has_video(self) -> bool:
        return self.video_url is not None

    def media_file(self, index: int) -> tuple[bytes, str] | None:
        """File ``index`` of the task (not its first video) and its content type."""
        if not 0 <= index < len(self.media_urls) + (1 if self.has_video else 0):
            return None
        if self.output.kind == "image":
            from receiver.devtools.simulator.outputs import image_bytes

            return image_bytes(self.task_id, index), "image/png"
        if self.output.kind == "audio":
            from receiver.devtools.simulator.outputs import audio_bytes

            return audio_bytes(index), "audio/mpeg"
        if index == 0:
            return None  # the first video is served at /videos/
        # A few bytes longer per index: a file of its own even when the first is the bare
        # sample (whose padding, seeded by the id, would otherwise be absent).
        video = VideoFile(f"{self.task_id}/{index}", self.config.video_size + MIN_PADDING * index)
        return b"".join(video.iter_bytes()), "video/mp4"

    def start_processing(self) -> None:
        self.status, self.progress = "processing", 50

    def finish(self) -> None:
        """Move to the final status the task was created for."""
        self.status = _FINAL_STATUS[self.outcome]
        if self.outcome == "completed":
            self.progress = 100
            output = self.output
            expires = int(time.time() + (output.link_ttl or self.config.link_ttl))
            base = self.config.public_url or self.base_url
            first = 0
            if output.kind == "video" and output.count >= 1:
                self.video_url = links.video_url(
                    base, secret=self.config.secret, task_id=self.task_id, expires=expires
                )
                first = 1
            self.media_urls = [
                links.media_url(
                    base,
                    secret=self.config.secret,
                    task_id=self.task_id,
                    index=index,
                    extension=output.extension,
                    expires=expires,
                )
                for index in range(first, output.count)
            ]

    def as_object(self) -> dict[str, Any]:
        """The task object, shaped like EvoLink's."""
        task: dict[str, Any] = {
            "created": self.created,
            "id": self.task_id,
            "model": self.model,
            "object": f"{self.output.kind}.generation.task",
            "progress": self.progress,
            "status": self.status,
            "task_info": {
                "can_cancel": not self.is_final,
                "estimated_time": self.config.estimated_time,
                "video_duration": self.request.duration,
            },
            "type": self.output.kind,
            "usage": {
                "billing_rule": "per_second",
                "credits_reserved": self.credits_reserved,
                "user_group": "default",
            },
        }
        if self.status == "completed":
            task.update(self._results())
        if self.status == "failed":
            task["error"] = dict(_FAILURE)
        return task

    def _results(self) -> dict[str, Any]:
        """``results`` and ``result_data``, as the task's model puts them."""
        urls = ([self.video_url] if self.video_url is not None else []) + self.media_urls
        if self.output.data is not None:
            return {"result_data": dict(self.output.data)}
        if self.output.songs:
            songs = [
                {
                    "result_id": f"{self.task_id}-{index}",
                    "title": f"Song {index + 1}",
                    "audio_url": url,
                }
                for index, url in enumerate(urls)
            ]
            return {"result_data": {"songs": songs}}
        return {"results": urls} if urls else {}

    def stats(self) -> dict[str, Any]:
        """What ``/_simulator/stats`` reports about this task."""
        return {
            "status": self.status,
            "callback_url_present": self.callback_url is not None,
            "callback_state": self.callback_state,
            "callback_attempts": [attempt.as_json() for attempt in self.callback_attempts],
            "downloads": self.downloads,
            "range_downloads": self.range_downloads,
            "failed_downloads": self.failed_downloads,
            "complete_downloads": self.complete_downloads,
            "truncated_downloads": self.truncated_downloads,
            "media_downloads": {str(i): n for i, n in sorted(self.media_downloads.items())},
            "size": self.video.size,
            "sha256": self.sha256,
        }
