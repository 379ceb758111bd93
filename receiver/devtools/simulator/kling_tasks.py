"""A simulated task of Kling's own API: the same life as an EvoLink task, Kling's shape.

It runs on the same clock, serves its video from the same signed links and counts its
callbacks and downloads in the same ``/_simulator/stats``; what differs is the task object
(``task_id``, ``task_status``, ``task_result.videos``, millisecond times) and that Kling calls
back on every status change, not only at the end.
"""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from receiver.devtools.simulator.config import SimulatorConfig
from receiver.devtools.simulator.tasks import SimTask, outcome_for
from receiver.devtools.simulator.video import VideoFile
from receiver.providers.base import JobRequest
from receiver.providers.kling_protocol import MODELS, Kind

__all__ = ["KlingSimTask"]

# Our internal statuses in Kling's words. Kling documents no cancellation: a cancelled task
# reads as failed; "mystery" stays a status nobody documented.
_KLING_STATUS = {
    "pending": "submitted",
    "processing": "processing",
    "completed": "succeed",
    "failed": "failed",
    "cancelled": "failed",
}
_MESSAGES = {
    "failed": "Failure to pass the risk control system (simulated)",
    "cancelled": "The task was cancelled (simulated)",
}
_ID_ALPHABET = string.ascii_letters + string.digits


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(kw_only=True, eq=False)
class KlingSimTask(SimTask):
    """A task created through ``POST /v1/videos/<kind>``."""

    callback_on_every_change: ClassVar[bool] = True

    kind: Kind
    external_task_id: str | None = None
    updated_ms: int = 0

    @classmethod
    def open(
        cls,
        request: JobRequest,
        *,
        kind: Kind,
        callback_url: str | None,
        external_task_id: str | None,
        config: SimulatorConfig,
        base_url: str,
    ) -> KlingSimTask:
        """A new submitted task for a request that passed Kling's ``validate_request``."""
        if request.model is None or request.model not in MODELS:
            raise ValueError("the request must be validated first (its model filled in)")
        now = _now_ms()
        task_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(22))
        return cls(
            task_id=task_id,
            created=now // 1000,
            updated_ms=now,
            model=request.model,
            request=request,
            # Kling bills in units of its resource packs, not in credits we could price.
            credits_reserved=0.0,
            callback_url=callback_url,
            outcome=outcome_for(request.prompt, config.outcome),
            config=config,
            base_url=base_url,
            video=VideoFile(task_id, config.video_size),
            callback_state="waiting" if callback_url else "none",
            kind=kind,
            external_task_id=external_task_id,
        )

    def start_processing(self) -> None:
        super().start_processing()
        self.updated_ms = _now_ms()

    def finish(self) -> None:
        super().finish()
        self.updated_ms = _now_ms()

    def as_object(self) -> dict[str, Any]:
        """The task object, shaped like Kling's ``data`` (and its callback body)."""
        task: dict[str, Any] = {
            "task_id": self.task_id,
            "task_status": _KLING_STATUS.get(self.status, self.status),
            "task_status_msg": _MESSAGES.get(self.status, ""),
            "task_info": (
                {"external_task_id": self.external_task_id} if self.external_task_id else {}
            ),
            "created_at": self.created * 1000,
            "updated_at": self.updated_ms,
        }
        if self.video_url is not None:
            task["task_result"] = {
                "videos": [
                    {
                        "id": f"{self.task_id}-0",
                        "url": self.video_url,
                        "duration": str(self.request.duration),
                    }
                ]
            }
        return task
