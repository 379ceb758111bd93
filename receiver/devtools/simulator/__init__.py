"""A stand-in for the EvoLink video API and Kling's own, for the tests and ``receiver dev``.

It speaks both APIs as documented (create, query, callbacks with EvoLink's retry policy,
expiring video links; Kling's JWT auth, envelope and a callback on every status change) and
lets tests inject the faults the real APIs can produce: rate limits, failed or duplicated
callbacks, failing, truncated or trickling downloads, unknown statuses.

::

    POST  /v1/videos/generations      create a task (Bearer auth)
    GET   /v1/tasks/{task_id}         query a task (Bearer auth)
    POST  /v1/videos/text2video       Kling: create a task (Bearer JWT)
    POST  /v1/videos/image2video      Kling: create an image-to-video task (Bearer JWT)
    GET   /v1/videos/{kind}/{task_id} Kling: query a task on its kind's route (Bearer JWT)
    GET   /videos/{task_id}.mp4       the signed, expiring video link (ranges supported)
    GET   /_simulator/stats           per-task callbacks, downloads, size and SHA-256
    GET   /_simulator/config          the current config, secrets masked
    PATCH /_simulator/config          change config fields at run time
"""

from __future__ import annotations

from receiver.devtools.simulator.app import create_app, serve
from receiver.devtools.simulator.config import (
    OUTCOMES,
    SECRET_VARIABLES,
    Outcome,
    SimulatorConfig,
    secrets_from_env,
)
from receiver.devtools.simulator.video import VideoFile

__all__ = [
    "OUTCOMES",
    "SECRET_VARIABLES",
    "Outcome",
    "SimulatorConfig",
    "VideoFile",
    "create_app",
    "secrets_from_env",
    "serve",
]
