"""Reading a callback's body within its limits: the time limit and cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest
from starlette.types import Message

from receiver.config import Settings
from receiver.web.callbacks import _BodyRefused, _read_body
from tests.conftest import make_env


def _settings(tmp_path: Path) -> Settings:
    return Settings.from_env(make_env(tmp_path, RECEIVER_REQUEST_TIMEOUT="0.05s"))


async def _never() -> Message:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


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
