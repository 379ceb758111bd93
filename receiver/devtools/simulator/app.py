"""The simulator's ASGI app and the function that serves it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette

from receiver.devtools.simulator import api, control, downloads, kling_api
from receiver.devtools.simulator.config import SimulatorConfig
from receiver.devtools.simulator.state import SimulatorState

__all__ = ["create_app", "serve"]


def create_app(config: SimulatorConfig) -> Starlette:
    """A fresh simulator: its own tasks, counters and config, nothing shared."""
    state = SimulatorState(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.background.open()
        try:
            yield
        finally:
            await state.background.aclose()

    return Starlette(
        routes=[
            *api.routes(state),
            *kling_api.routes(state),
            *downloads.routes(state),
            *control.routes(state),
        ],
        lifespan=lifespan,
    )


def serve(config: SimulatorConfig, host: str, port: int) -> None:
    """Serve a simulator until interrupted (Ctrl-C or SIGTERM)."""
    uvicorn.run(create_app(config), host=host, port=port, access_log=False, log_level="warning")
