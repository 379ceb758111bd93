"""``/v1/deliveries``: replaying stored deliveries over HTTP (admin token required).

Routes call the same service functions as the CLI, so the two cannot disagree.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from receiver import replay
from receiver.config import parse_duration
from receiver.context import Context
from receiver.errors import NotFoundError, ValidationError
from receiver.web.auth import authorize
from receiver.web.params import invalid_parameter

__all__ = ["api_routes"]


def bad_request(message: str) -> JSONResponse:
    return JSONResponse({"error": "bad_request", "message": message}, 400)


async def replay_one(request: Request) -> JSONResponse:
    if (denied := authorize(request)) is not None:
        return denied
    ctx: Context = request.state.ctx
    try:
        result = await run_in_threadpool(replay.replay, ctx, request.path_params["delivery_id"])
    except NotFoundError as exc:
        return JSONResponse({"error": "not_found", "message": exc.message}, 404)
    return JSONResponse(result.__dict__)


def _replay_filter(payload: Any) -> tuple[timedelta | None, str | None, bool]:
    """``since``, ``job_id`` and ``dry_run`` of a replay request's body, checked."""
    if not isinstance(payload, dict) or set(payload) - {"since", "job_id", "dry_run"}:
        raise ValidationError(
            "body", 'expected {"since": "24h", "job_id": "job_…", "dry_run": false}'
        )
    since = payload.get("since")
    if since is not None and not isinstance(since, str):
        raise ValidationError("since", 'a duration such as "24h"')
    job_id = payload.get("job_id")
    if job_id is not None and not isinstance(job_id, str):
        raise ValidationError("job_id", "must be a string")
    dry_run = payload.get("dry_run", False)
    if not isinstance(dry_run, bool):
        # "false" in quotes would otherwise be a dry run: refused rather than guessed.
        raise ValidationError("dry_run", "must be true or false")
    try:
        window = timedelta(seconds=parse_duration(since)) if since is not None else None
    except ValueError as exc:
        raise ValidationError("since", str(exc)) from exc
    return window, job_id, dry_run


async def replay_filtered(request: Request) -> JSONResponse:
    if (denied := authorize(request)) is not None:
        return denied
    ctx: Context = request.state.ctx
    try:
        payload: Any = await request.json() if await request.body() else {}
    except ValueError:
        return bad_request("the body must be a JSON object")
    try:
        since, job_id, dry_run = _replay_filter(payload)
    except ValidationError as exc:
        return invalid_parameter(exc)

    def run() -> dict[str, Any]:
        ids = list(replay.failed_delivery_ids(ctx, since=since, job_id=job_id))
        if dry_run:
            return {"dry_run": True, "deliveries": ids}
        summary = replay.replay_many(ctx, ids)
        return {
            "replayed": summary.count("replayed"),
            "already_done": summary.count("already_done"),
            "still_failing": [result.__dict__ for result in summary.failures],
        }

    return JSONResponse(await run_in_threadpool(run))


def api_routes() -> list[Route]:
    return [
        Route("/v1/deliveries/replay", replay_filtered, methods=["POST"]),
        Route("/v1/deliveries/{delivery_id}/replay", replay_one, methods=["POST"]),
    ]
