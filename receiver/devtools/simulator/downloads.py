"""``GET /videos/{task_id}.mp4``: the CDN behind EvoLink's result links.

Links are checked like a signed CDN URL (403 when tampered with, 410 once expired), bodies
are streamed with ranges and ``If-Range`` support, and every answer is counted per task,
because tests prove "one job, one download" by these counts: ``complete_downloads`` counts
the bodies whose last byte was handed to the server, which a download cut off half-way
never is.
A CDN's bad days are knobs of the config: 500s (``video_fail_first``), bodies broken off
half-way (``video_truncate_first``) and a slow trickle (``video_bytes_per_second``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import anyio
import structlog
from starlette.concurrency import iterate_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from receiver.devtools.simulator import links
from receiver.devtools.simulator.ranges import ByteRange, Unsatisfiable, parse_range
from receiver.devtools.simulator.state import SimulatorState
from receiver.devtools.simulator.tasks import SimTask

__all__ = ["routes"]

log = structlog.get_logger()

#: A trickle is sent in pieces of about this many seconds' worth of bytes.
_TRICKLE_STEP = 0.05


class SimulatedCutOff(ConnectionAbortedError):
    """Raised mid-body on purpose: the server drops the connection, as a failing CDN does."""


def routes(state: SimulatorState) -> list[BaseRoute]:
    """``GET`` (and ``HEAD``) ``/videos/{task_id}.mp4``."""

    async def video(request: Request) -> Response:
        task = state.tasks.get(request.path_params["task_id"])
        if task is None or not task.has_video:
            return PlainTextResponse("no such video\n", status_code=404)
        refusal = _check_link(task, request)
        if refusal is not None:
            return refusal
        if request.method == "HEAD":
            return Response(headers=_headers(task, task.video.size))
        if task.failed_downloads < task.config.video_fail_first:
            task.failed_downloads += 1
            log.info("simulator.video_failed", task_id=task.task_id)
            return PlainTextResponse("simulated failure\n", status_code=500)
        try:
            byte_range = _requested_range(task, request)
        except Unsatisfiable:
            return PlainTextResponse(
                "range not satisfiable\n",
                status_code=416,
                headers={"Content-Range": f"bytes */{task.video.size}"},
            )
        return _stream(task, byte_range)

    async def media(request: Request) -> Response:
        """A task's other files (``/media/<task id>/<index>.<ext>``), whole (no ranges)."""
        task = state.tasks.get(request.path_params["task_id"])
        index_text = request.path_params["name"].split(".", 1)[0]
        index = int(index_text) if index_text.isascii() and index_text.isdigit() else -1
        found = task.media_file(index) if task is not None else None
        if task is None or found is None:
            return PlainTextResponse("no such file\n", status_code=404)
        expires = links.verify(
            task.config.secret,
            f"{task.task_id}/{index}",
            request.query_params.get("expires", ""),
            request.query_params.get("sig", ""),
        )
        if expires is None:
            return PlainTextResponse("bad signature\n", status_code=403)
        if time.time() >= expires:
            return PlainTextResponse("this link has expired\n", status_code=410)
        body, content_type = found
        if request.method == "HEAD":
            return Response(headers={"Content-Length": str(len(body))}, media_type=content_type)
        task.media_downloads[index] = task.media_downloads.get(index, 0) + 1
        log.info("simulator.media_served", task_id=task.task_id, index=index, size=len(body))
        return Response(body, media_type=content_type)

    return [
        Route("/videos/{task_id}.mp4", video, methods=["GET", "HEAD"]),
        Route("/media/{task_id}/{name}", media, methods=["GET", "HEAD"]),
    ]


def _check_link(task: SimTask, request: Request) -> Response | None:
    """The refusal a tampered or expired link gets, ``None`` for a valid one."""
    expires = links.verify(
        task.config.secret,
        task.task_id,
        request.query_params.get("expires", ""),
        request.query_params.get("sig", ""),
    )
    if expires is None:
        return PlainTextResponse("bad signature\n", status_code=403)
    if time.time() >= expires:
        return PlainTextResponse("this link has expired\n", status_code=410)
    return None


def _requested_range(task: SimTask, request: Request) -> ByteRange | None:
    etag = task.video.etag
    # If-Range: a client resuming a different representation must get all of this one.
    if request.headers.get("if-range", etag) != etag:
        return None
    return parse_range(request.headers.get("range", ""), task.video.size)


def _headers(task: SimTask, length: int) -> dict[str, str]:
    return {
        "Accept-Ranges": "bytes",
        "Content-Length": str(length),
        "Content-Type": "video/mp4",
        "ETag": task.video.etag,
    }


def _stream(task: SimTask, byte_range: ByteRange | None) -> Response:
    video = task.video
    start, end = (0, video.size) if byte_range is None else (byte_range.start, byte_range.end + 1)
    cut_at: int | None = None
    if task.truncated_downloads < task.config.video_truncate_first:
        task.truncated_downloads += 1
        cut_at = start + (end - start) // 2
    body = _body(task, start, end, cut_at=cut_at)
    if byte_range is None:
        task.downloads += 1
        log.info("simulator.video_served", task_id=task.task_id, size=video.size)
        return StreamingResponse(body, headers=_headers(task, video.size))
    task.range_downloads += 1
    content_range = byte_range.content_range(video.size)
    log.info("simulator.video_served", task_id=task.task_id, range=content_range)
    return StreamingResponse(
        body,
        status_code=206,
        headers={**_headers(task, byte_range.length), "Content-Range": content_range},
    )


async def _body(task: SimTask, start: int, end: int, *, cut_at: int | None) -> AsyncIterator[bytes]:
    """Bytes ``start`` to ``end`` of the video, faults applied; counted once sent to the end."""
    rate = task.config.video_bytes_per_second
    step = max(1, int(rate * _TRICKLE_STEP)) if rate is not None else None
    stop = end if cut_at is None else cut_at
    position = start
    # Generating a block costs CPU: off the event loop, as Starlette does for sync bodies.
    async for chunk in iterate_in_threadpool(task.video.iter_bytes(start, stop)):
        pieces = (
            [chunk] if step is None else [chunk[o : o + step] for o in range(0, len(chunk), step)]
        )
        for piece in pieces:
            position += len(piece)
            if position == task.video.size:
                # Counted as the file's last byte is handed to the server: a client that
                # closes its connection once it holds every byte (the archiver reads the
                # body off the socket and does) cancels this generator right after.
                task.complete_downloads += 1
            yield piece
            if rate is not None:
                await anyio.sleep(len(piece) / rate)
    if cut_at is not None:
        log.info("simulator.video_truncated", task_id=task.task_id, at=cut_at)
        raise SimulatedCutOff(f"simulated truncation of {task.task_id} at byte {cut_at}")
