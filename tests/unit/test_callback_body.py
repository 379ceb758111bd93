"""The callback route's own parts: its path under a root path, and reading the body within
its limits (the time limit and cancellation)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import cast
from unittest import mock

import pytest
from starlette.types import Message, Receive, Scope, Send

from receiver.config import Settings
from receiver.context import Context
from receiver.store.group_commit import GroupCommitter
from receiver.web.callbacks import CallbackRoutes, _BodyRefused, _read_body
from tests.conftest import make_env


def _settings(tmp_path: Path) -> Settings:
    return Settings.from_env(make_env(tmp_path, RECEIVER_REQUEST_TIMEOUT="0.05s"))


async def _never() -> Message:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


def test_the_route_is_matched_below_the_root_path_as_starlette_does(tmp_path: Path) -> None:
    async def answer(path: str, root: str = "") -> int:
        # A GET is answered by the callback route itself (405) without any app state; the
        # router behind it would say 404.
        sent: list[Message] = []

        async def router(scope: Scope, receive: Receive, send: Send) -> None:
            await send({"type": "http.response.start", "status": 404, "headers": []})

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": path, "root_path": root}
        # The 405 is answered before the route needs its database or committer.
        ctx = Context(_settings(tmp_path))
        routes = CallbackRoutes(router, ctx=ctx, committer=cast(GroupCommitter, None))
        await routes(scope, _never, send)
        return int(sent[0]["status"])

    assert asyncio.run(answer("/callbacks/evolink/t")) == 405
    assert asyncio.run(answer("/rx/callbacks/evolink/t", "/rx")) == 405
    # A root path is a whole segment, and a path outside it is left alone.
    assert asyncio.run(answer("/rxy/callbacks/evolink/t", "/rx")) == 404
    assert asyncio.run(answer("/callbacks/evolink/t", "/rx")) == 405


def test_a_body_in_pieces_is_joined(tmp_path: Path) -> None:
    pieces = iter([b'{"a":', b" 1}"])

    async def receive() -> Message:
        piece = next(pieces)
        return {"type": "http.request", "body": piece, "more_body": piece != b" 1}"}

    body = asyncio.run(_read_body(receive, {}, _settings(tmp_path)))
    assert body == b'{"a": 1}'


def test_a_stalled_body_is_refused_with_408_and_the_task_goes_on(tmp_path: Path) -> None:
    async def read() -> tuple[int, int]:
        with pytest.raises(_BodyRefused) as refused:
            await _read_body(_never, {}, _settings(tmp_path))
        task = asyncio.current_task()
        assert task is not None
        # The timeout's cancellation is taken back: the handler can still record and answer.
        await asyncio.sleep(0)
        return refused.value.rejection.status_code, task.cancelling()

    assert asyncio.run(read()) == (408, 0)


def test_a_cancellation_from_outside_is_not_taken_for_a_timeout(tmp_path: Path) -> None:
    async def read() -> None:
        reading = asyncio.create_task(_read_body(_never, {}, _settings(tmp_path)))
        await asyncio.sleep(0.01)
        reading.cancel()  # a shutdown, well before the 50 ms limit
        with pytest.raises(asyncio.CancelledError):
            await reading

    asyncio.run(read())


def test_a_shutdown_racing_the_timeout_still_cancels(tmp_path: Path) -> None:
    async def read() -> None:
        loop = asyncio.get_running_loop()
        timers: list[Callable[[], object]] = []
        real_call_later = loop.call_later

        def call_later(
            delay: float, callback: Callable[..., object], *args: object
        ) -> asyncio.TimerHandle:
            if callback.__name__ == "expire":
                timers.append(callback)
            return real_call_later(delay, callback, *args)

        with mock.patch.object(loop, "call_later", call_later):
            reading = asyncio.create_task(_read_body(_never, {}, _settings(tmp_path)))
            await asyncio.sleep(0.01)
        # The timer fires and a shutdown cancels in the same turn of the loop.
        (expire,) = timers
        expire()
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading

    asyncio.run(read())


def test_a_cancellation_taken_earlier_does_not_turn_the_timeout_into_one(tmp_path: Path) -> None:
    async def read() -> int:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.sleep(1)
        # Swallowed without uncancel(): the task says it is still being cancelled once.
        assert task.cancelling() == 1
        with pytest.raises(_BodyRefused) as refused:
            await _read_body(_never, {}, _settings(tmp_path))
        assert task.cancelling() == 1
        return refused.value.rejection.status_code

    assert asyncio.run(read()) == 408
