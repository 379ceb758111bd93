"""``GET /v1/events``: every change of every job, live, as Server-Sent Events.

Each event carries its sequence number as the SSE ``id``, so a client that reconnects with
``Last-Event-ID`` (or ``?after=``) gets everything it missed, in order, then the live feed.
``?job=`` narrows the stream to one job (``404`` when there is no such job: its stream
would stay silent forever). Events come from the database, where they were
written in the same transaction as the change they describe, so the stream is the same
whichever replica serves it and whichever process made the change.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from receiver import events
from receiver.context import Context
from receiver.errors import ValidationError
from receiver.store.jobs import Jobs
from receiver.store.records import Event
from receiver.web.auth import authorize
from receiver.web.error_json import error_response
from receiver.web.params import Query, invalid_parameter, sequence_number

__all__ = ["event_routes", "format_event"]

#: How often the database is asked for news while the stream is idle.
_CHECK_EVERY = 0.25
#: A comment line this often keeps proxies from closing an idle stream.
_HEARTBEAT_EVERY = 15.0


def format_event(event: Event) -> str:
    data = {
        "seq": event.seq,
        "job_id": event.job_id,
        "type": event.type,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        **event.data,
    }
    return f"id: {event.seq}\nevent: {event.type}\ndata: {json.dumps(data)}\n\n"


async def stream(request: Request) -> Response:
    if (denied := authorize(request)) is not None:
        return denied
    ctx: Context = request.state.ctx
    try:
        query = Query(request.query_params, ("job", "after"))
        # The header wins: it is what a reconnecting EventSource sends.
        header = request.headers.get("last-event-id") or None
        start = (
            sequence_number("Last-Event-ID", header) if header else query.sequence_number("after")
        ) or 0
        job_id = query.text("job")
    except ValidationError as exc:
        return invalid_parameter(exc)
    if job_id is not None and not await run_in_threadpool(_job_exists, ctx, job_id):
        # A stream of a job that does not exist would stay silent forever.
        return error_response(404, "not_found", f"no job {job_id!r}")

    async def feed() -> AsyncIterator[str]:
        seq = start
        idle = 0.0
        yield ": connected\n\n"
        while not await request.is_disconnected():
            batch = await run_in_threadpool(_read, ctx, seq, job_id)
            for event in batch:
                seq = event.seq
                yield format_event(event)
            if batch:
                idle = 0.0
                continue
            await asyncio.sleep(_CHECK_EVERY)
            idle += _CHECK_EVERY
            if idle >= _HEARTBEAT_EVERY:
                idle = 0.0
                yield ": keep-alive\n\n"

    return StreamingResponse(
        feed(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _job_exists(ctx: Context, job_id: str) -> bool:
    with ctx.db.reading() as conn:
        return Jobs(conn).get(job_id) is not None


def _read(ctx: Context, seq: int, job_id: str | None) -> list[Event]:
    with ctx.db.reading() as conn:
        return events.after(conn, seq, job_id=job_id)


def event_routes() -> list[Route]:
    return [Route("/v1/events", stream, methods=["GET"])]
