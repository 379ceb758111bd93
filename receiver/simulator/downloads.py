"""``GET /videos/{task_id}.mp4``: the CDN behind EvoLink's result links.

Links are checked like a signed CDN URL (403 when tampered with, 410 once expired), bodies
are streamed with ranges and ``If-Range`` support, and every answer is counted per task,
because tests prove "one job, one download" by these counts.
"""

from __future__ import annotations

import time

import structlog
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from receiver.simulator import links
from receiver.simulator.ranges import ByteRange, Unsatisfiable, parse_range
from receiver.simulator.state import SimulatorState
from receiver.simulator.tasks import SimTask

__all__ = ["routes"]

log = structlog.get_logger()


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

    return [Route("/videos/{task_id}.mp4", video, methods=["GET", "HEAD"])]


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
    if byte_range is None:
        task.downloads += 1
        log.info("simulator.video_served", task_id=task.task_id, size=video.size)
        return StreamingResponse(video.iter_bytes(), headers=_headers(task, video.size))
    task.range_downloads += 1
    content_range = byte_range.content_range(video.size)
    log.info("simulator.video_served", task_id=task.task_id, range=content_range)
    return StreamingResponse(
        video.iter_bytes(byte_range.start, byte_range.end + 1),
        status_code=206,
        headers={**_headers(task, byte_range.length), "Content-Range": content_range},
    )
