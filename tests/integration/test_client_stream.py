"""The client's event stream against a real HTTP server that goes silent.

A stream that carries nothing, not even the keep-alives the receiver sends every 15 s, is
a dead connection (a proxy that dropped it, a half-open socket): the client takes it as
broken and reconnects with ``Last-Event-ID`` instead of waiting for ever.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from receiver.client import AsyncClient, Client, _sync
from tests.servers import run_server

TOKEN = "t" * 32


class SilentAfterOne:
    """Each connection: one event after the id it was given, then silence."""

    def __init__(self) -> None:
        self.last_ids: list[str | None] = []

    async def events(self, request: Request) -> Response:
        last = request.headers.get("last-event-id")
        self.last_ids.append(last)
        seq = int(last or 0) + 1

        async def feed() -> AsyncIterator[str]:
            data = {
                "seq": seq,
                "job_id": "job_1",
                "type": "job.pending",
                "created_at": "2026-01-01T00:00Z",
            }
            yield f"id: {seq}\nevent: job.pending\ndata: {json.dumps(data)}\n\n"
            await asyncio.sleep(30)  # silent: no keep-alive either

        return StreamingResponse(feed(), media_type="text/event-stream")


def test_a_silent_stream_is_taken_as_broken_and_resumed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="receiver.client")
    monkeypatch.setattr(_sync, "STREAM_SILENCE", 1.0)
    server = SilentAfterOne()
    app = Starlette(routes=[Route("/v1/events", server.events)])
    with run_server(app) as base, Client(base, TOKEN) as client:
        seqs = []
        for event in client.events(after=0):
            seqs.append(event.seq)
            if len(seqs) == 3:
                break
    assert seqs == [1, 2, 3]
    assert server.last_ids[:3] == ["0", "1", "2"]
    assert "ReadTimeout" in caplog.text


def test_the_async_stream_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from receiver.client import _async

    monkeypatch.setattr(_async, "STREAM_SILENCE", 1.0)
    server = SilentAfterOne()
    app = Starlette(routes=[Route("/v1/events", server.events)])

    async def first_three(base: str) -> list[int]:
        async with AsyncClient(base, TOKEN) as client:
            seqs = []
            async for event in client.events(after=0):
                seqs.append(event.seq)
                if len(seqs) == 3:
                    break
            return seqs

    with run_server(app) as base:
        assert asyncio.run(first_three(base)) == [1, 2, 3]
    assert server.last_ids[:3] == ["0", "1", "2"]
