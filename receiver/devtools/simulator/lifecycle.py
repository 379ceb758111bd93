"""Time passing for tasks: each one runs as an asyncio task on the server's event loop.

:class:`Background` owns those asyncio tasks: it is opened by the app's lifespan and
closed at shutdown, cancelling whatever is still sleeping or delivering, so stopping the
server never leaves a stray task or an open connection behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog

from receiver.devtools.simulator.callbacks import deliver
from receiver.devtools.simulator.tasks import SimTask

__all__ = ["Background", "run_task"]

log = structlog.get_logger()


class Background:
    """The asyncio tasks driving simulated tasks, alive between open and close."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[None]] = set()
        self._open = False

    def open(self) -> None:
        self._open = True

    def spawn(self, coroutine: Coroutine[Any, Any, None], *, name: str) -> None:
        if not self._open:
            coroutine.close()
            raise RuntimeError(
                "the simulator drives tasks only while its lifespan runs "
                "(serve it with uvicorn, or use TestClient as a context manager)"
            )
        task = asyncio.create_task(coroutine, name=name)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def aclose(self) -> None:
        self._open = False
        running = list(self._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


async def run_task(task: SimTask) -> None:
    """Take ``task`` from pending to its final status, delivering its callback(s) on the way.

    The schedule is kept against the clock, so a slow callback on the way delays the next
    status only when it outlasts the time until then.
    """
    task_log = log.bind(task_id=task.task_id)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        await asyncio.sleep(task.config.processing_delay)
        task.start_processing()
        task_log.info("simulator.task_status", status=task.status)
        if task.callback_url is not None and task.callback_on_every_change:
            await deliver(task)
        await asyncio.sleep(max(0.0, started + task.config.delay - loop.time()))
        task.finish()
        task_log.info("simulator.task_status", status=task.status)
        if task.callback_url is not None:
            await deliver(task)
    except Exception:
        # Nobody awaits this asyncio task: a crash not logged here would pass unnoticed.
        task_log.exception("simulator.task_crashed")
