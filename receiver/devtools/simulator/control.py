"""``/_simulator/*``: what tests read and turn while the simulator runs.

Unauthenticated on purpose: the simulator is a test tool and only ever listens on
loopback. The real EvoLink API has nothing like it.
"""

from __future__ import annotations

import json
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.devtools.simulator.config import patched, public_view
from receiver.devtools.simulator.state import SimulatorState

__all__ = ["routes"]


def routes(state: SimulatorState) -> list[BaseRoute]:
    """``GET /_simulator/stats``, ``GET`` and ``PATCH /_simulator/config``."""

    async def stats(request: Request) -> Response:
        tasks: dict[str, Any] = {}
        for task_id, task in list(state.tasks.items()):
            if task.has_video and task.sha256 is None:
                # Hashing a large video takes seconds: keep it off the event loop.
                task.sha256 = await anyio.to_thread.run_sync(task.video.sha256)
            tasks[task_id] = task.stats()
        return JSONResponse({"tasks": tasks})

    async def get_config(request: Request) -> Response:
        return JSONResponse(public_view(state.config))

    async def patch_config(request: Request) -> Response:
        try:
            changes = json.loads(await request.body())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return JSONResponse({"error": f"not JSON: {exc}"}, status_code=400)
        if not isinstance(changes, dict):
            return JSONResponse({"error": "expected a JSON object"}, status_code=400)
        try:
            config = patched(state.config, changes)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        state.reconfigure(config)
        return JSONResponse(public_view(config))

    return [
        Route("/_simulator/stats", stats, methods=["GET"]),
        Route("/_simulator/config", get_config, methods=["GET"]),
        Route("/_simulator/config", patch_config, methods=["PATCH"]),
    ]
