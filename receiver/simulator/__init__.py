"""A stand-in for the EvoLink video API, for the tests and ``receiver dev``.

It speaks the API as documented (create, query, callbacks with EvoLink's retry policy,
expiring video links) and lets tests inject the faults the real API can produce: rate
limits, failed or duplicated callbacks, failing downloads, unknown statuses.

::

    POST  /v1/videos/generations      create a task (Bearer auth)
    GET   /v1/tasks/{task_id}         query a task (Bearer auth)
    GET   /videos/{task_id}.mp4       the signed, expiring video link (ranges supported)
    GET   /_simulator/stats           per-task callbacks, downloads, size and SHA-256
    GET   /_simulator/config          the current config, secrets masked
    PATCH /_simulator/config          change config fields at run time
"""

from __future__ import annotations

from receiver.simulator.app import create_app, serve
from receiver.simulator.config import OUTCOMES, Outcome, SimulatorConfig
from receiver.simulator.video import VideoFile

__all__ = ["OUTCOMES", "Outcome", "SimulatorConfig", "VideoFile", "create_app", "serve"]
