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
from receiver.errors import NotFoundError
from receiver.web.auth import authorize

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


async def replay_filtered(request: Request) -> JSONResponse:
    if (denied := authorize(request)) is not None:
        return denied
    ctx: Context = request.state.ctx
    try:
        payload: Any = await request.json() if await request.body() else {}
    except ValueError:
        return bad_request("the body must be a JSON object")
    if not isinstance(payload, dict) or set(payload) - {"since", "job_id", "dry_run"}:
        return bad_request('expected {"since": "24h", "job_id": "job_…", "dry_run": false}')
    since = None
    if payload.get("since") is not None:
        try:
            since = timedelta(seconds=parse_duration(str(payload["since"])))
        except ValueError as exc:
            return bad_request(f"since: {exc}")
    job_id = payload.get("job_id")
    if job_id is not None and not isinstance(job_id, str):
        return bad_request("job_id must be a string")

    def run() -> dict[str, Any]:
        ids = list(replay.failed_delivery_ids(ctx, since=since, job_id=job_id))
        if payload.get("dry_run"):
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
