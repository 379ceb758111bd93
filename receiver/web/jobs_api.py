"""``/v1/jobs``: submit, list and look at jobs, and fetch their video (admin token required)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from receiver import jobs, presenters
from receiver.archive.retry import NothingToRetry, retry_archive
from receiver.context import Context
from receiver.errors import (
    ConfigError,
    NotFoundError,
    ProviderError,
    ProviderQuotaError,
    ProviderRateLimited,
    ReceiverError,
    ValidationError,
)
from receiver.jobs import JobDetails, KeyJobDeleted
from receiver.lifecycle import JobStatus
from receiver.providers import PROVIDER_NAMES
from receiver.providers.protocol_common import RESULTS_MAX
from receiver.store.events import Events
from receiver.submission import cost
from receiver.submission.budget import BudgetExceeded, BudgetUnpriced, budget_today
from receiver.submission.idempotency import IdempotencyConflict, client_key
from receiver.submission.images import ImageFacts, image_from_data_url
from receiver.submission.rows import spec_from_mapping
from receiver.submission.spec import JobSpec, PreparedJob, is_url, prepare, submit_once
from receiver.web.api import bad_request
from receiver.web.auth import authorize
from receiver.web.params import Query, invalid_parameter

__all__ = ["job_routes"]

_REQUEST_FIELDS = {
    "prompt",
    "shots",
    "model",
    "duration",
    "aspect_ratio",
    "quality",
    "image_url",
    "negative_prompt",
    "sound",
}
_PAGE_MAX = 200


def _last_event_seq(ctx: Context) -> int:
    with ctx.db.reading() as conn:
        return Events(conn).latest_seq()


def _not_found(message: str) -> JSONResponse:
    return JSONResponse({"error": "not_found", "message": message}, 404)


def _job_spec(payload: Any) -> tuple[JobSpec, str, bool, dict[Path, ImageFacts]]:
    """A submission body as a spec, the provider it names (EvoLink by default), dry_run, and
    the first frame sent inside it (a ``data:`` URL), checked, by the name the spec gives it."""
    if not isinstance(payload, dict):
        raise ValidationError("body", "must be a JSON object")
    payload = dict(payload)
    provider = payload.pop("provider", "evolink")
    if provider not in PROVIDER_NAMES:
        raise ValidationError("provider", f"one of {', '.join(PROVIDER_NAMES)}")
    dry_run = payload.pop("dry_run", False)
    if not isinstance(dry_run, bool):
        raise ValidationError("dry_run", "must be true or false")
    if unknown := set(payload) - _REQUEST_FIELDS:
        raise ValidationError("body", f"unknown fields: {', '.join(sorted(unknown))}")
    if not isinstance(payload.get("prompt"), str) and not payload.get("shots"):
        raise ValidationError("prompt", "a string is required (or shots)")
    image = payload.pop("image_url", None)
    sent: dict[Path, ImageFacts] = {}
    if isinstance(image, str) and image[:5].lower() == "data:":
        # A client's local file, sent inside the request: checked and staged as from the CLI.
        facts = image_from_data_url(image)
        sent[facts.path] = facts
        image = str(facts.path)
    elif image is not None and (not isinstance(image, str) or not is_url(image)):
        # A path would name a file on *this* server: only the command line reads local files.
        raise ValidationError(
            "image_url", "must be an http(s) URL the provider can fetch, or a data: URL"
        )
    return spec_from_mapping({**payload, "image": image}), provider, dry_run, sent


def _estimate(ctx: Context, prepared: PreparedJob) -> dict[str, Any]:
    """What a dry run answers: the request as it would be sent, its price, today's budget."""
    budget = budget_today(ctx.db, ctx.settings.max_credits_per_day)
    return {
        "dry_run": True,
        "provider": prepared.provider,
        "model": prepared.request.model,
        "prompt": prepared.request.prompt,
        "duration": prepared.request.duration,
        "quality": prepared.request.quality,
        "credits": prepared.credits,
        "budget": budget.as_json() if budget else None,
        "within_budget": budget is None or budget.fits(prepared.credits),
    }


#: Refusals answered with their message alone: (error, its code, HTTP status).
_PLAIN_REFUSALS: tuple[tuple[type[ReceiverError], str, int], ...] = (
    (BudgetExceeded, "budget_exceeded", 402),
    (BudgetUnpriced, "budget_unpriced", 402),
    (ConfigError, "not_configured", 503),
    (ProviderQuotaError, "provider_quota", 402),
    (IdempotencyConflict, "idempotency_conflict", 409),
    (KeyJobDeleted, "idempotency_key_job_deleted", 409),
)


def _refusal(exc: ReceiverError) -> JSONResponse:
    """The answer for an error of submission: the caller's, ours, or the provider's."""
    if isinstance(exc, ValidationError):
        return JSONResponse(
            {"error": "invalid_request", "field": exc.field, "message": exc.message}, 400
        )
    if isinstance(exc, ProviderRateLimited):
        return JSONResponse(
            {"error": "provider_rate_limited", "message": exc.message},
            429,
            headers={"Retry-After": str(int(exc.retry_after))},
        )
    for kind, error, status in _PLAIN_REFUSALS:
        if isinstance(exc, kind):
            return JSONResponse({"error": error, "message": exc.message}, status)
    return JSONResponse({"error": "provider_error", "message": exc.message}, 502)


async def submit(request: Request) -> Response:
    if (denied := authorize(request)) is not None:
        return denied
    ctx: Context = request.state.ctx
    try:
        payload = await request.json()
    except ValueError:
        # Only the body's decoding: a ValueError from further in is a bug, not bad JSON.
        return bad_request("the body must be a JSON object")
    try:
        spec, provider, dry_run, sent = _job_spec(payload)
        prepared = await run_in_threadpool(
            lambda: prepare(ctx, spec, provider_name=provider, images=sent)
        )
        if dry_run:
            return JSONResponse(await run_in_threadpool(_estimate, ctx, prepared))
        header = request.headers.get("idempotency-key")
        key = None if header is None else client_key(header, prepared, field="Idempotency-Key")
        submitted = await run_in_threadpool(lambda: submit_once(ctx, prepared, key=key))
    except (
        ValidationError,
        ConfigError,
        ProviderError,
        BudgetExceeded,
        BudgetUnpriced,
        IdempotencyConflict,
        KeyJobDeleted,
    ) as exc:
        return _refusal(exc)
    details = await run_in_threadpool(jobs.get_job, ctx, submitted.job.id)
    if submitted.replayed:
        # The job an earlier request with this key made: nothing was sent or charged again.
        headers = {"Idempotent-Replayed": "true"}
        return JSONResponse(presenters.details_json(details), 200, headers=headers)
    return JSONResponse(presenters.details_json(details), 201)


async def list_jobs(request: Request) -> Response:
    if (denied := authorize(request)) is not None:
        return denied
    ctx: Context = request.state.ctx
    try:
        query = Query(request.query_params, ("status", "model", "since", "limit", "cursor"))
        status = query.choice("status", list(JobStatus))
        model = query.text("model")
        since = query.since("since")
        limit = query.integer("limit", default=50, minimum=1, maximum=_PAGE_MAX)
        cursor = query.job_id("cursor")
    except ValidationError as exc:
        return invalid_parameter(exc)
    # Read before the page: a client that follows /v1/events from here misses nothing.
    last_seq = await run_in_threadpool(_last_event_seq, ctx)

    def read() -> tuple[list[jobs.JobSummary], int]:
        found = jobs.list_jobs(
            ctx, status=status, model=model, since=since, limit=limit + 1, before=cursor
        )
        return found, jobs.count_jobs(ctx, status=status, model=model, since=since)

    found, total = await run_in_threadpool(read)
    page = found[:limit]
    return JSONResponse(
        {
            "jobs": [presenters.summary_json(summary) for summary in page],
            # Every job the filters match, over all pages: "50 of 1234 shown".
            "total": total,
            # Ids sort by creation: the last one of this page is where the next one starts.
            "next_cursor": page[-1].job.id if len(found) > limit else None,
            "last_event_seq": last_seq,
        }
    )


async def _details(request: Request) -> JobDetails | Response:
    """The requested job, or the answer to give instead (401, 404)."""
    if (denied := authorize(request)) is not None:
        return denied
    ctx: Context = request.state.ctx
    try:
        return await run_in_threadpool(jobs.get_job, ctx, request.path_params["job_id"])
    except NotFoundError as exc:
        return _not_found(exc.message)


async def show(request: Request) -> Response:
    details = await _details(request)
    if isinstance(details, Response):
        return details
    return JSONResponse(presenters.details_json(details))


#: The last result index a task may have (the providers' parsers keep RESULTS_MAX).
_MAX_RESULT_INDEX = RESULTS_MAX - 1


async def video(request: Request) -> Response:
    # Who asks comes first: an unauthenticated request learns nothing, not even a 400.
    if (denied := authorize(request)) is not None:
        return denied
    # ?index=N: the file of result N (several for a job with several results); the first.
    try:
        query = Query(request.query_params, ("index",))
        index = query.integer("index", default=0, minimum=0, maximum=_MAX_RESULT_INDEX)
    except ValidationError as exc:
        return invalid_parameter(exc)
    details = await _details(request)
    if isinstance(details, Response):
        return details
    asset = next((a for a in details.assets if a.result_index == index), None)
    if asset is None:
        status = details.job.status.value
        what = "its video is" if index == 0 else f"its result {index} is"
        return JSONResponse(
            {
                "error": "not_stored",
                "status": status,
                "message": f"the job is {status}; {what} not stored (yet)",
            },
            409,
        )
    ctx: Context = request.state.ctx
    url = await run_in_threadpool(
        lambda: ctx.store.presigned_url(
            asset.object_key, expires_in=int(ctx.settings.presign_expiry)
        )
    )
    return RedirectResponse(url, 302)


async def retry(request: Request) -> Response:
    if (denied := authorize(request)) is not None:
        return denied
    ctx: Context = request.state.ctx
    try:
        await run_in_threadpool(retry_archive, ctx, request.path_params["job_id"])
    except NotFoundError as exc:
        return _not_found(exc.message)
    except NothingToRetry as exc:
        return JSONResponse({"error": "nothing_to_retry", "message": exc.message}, 409)
    return JSONResponse({"queued": True})


async def costs(request: Request) -> Response:
    """Credits spent since ``since`` (30d), ``by`` model or day, and today's budget."""
    if (denied := authorize(request)) is not None:
        return denied
    ctx: Context = request.state.ctx
    by: cost.Grouping
    try:
        query = Query(request.query_params, ("since", "by"))
        by = "day" if query.choice("by", ("model", "day")) == "day" else "model"
        since = query.since("since", default="30d")
    except ValidationError as exc:
        return invalid_parameter(exc)
    assert since is not None  # a default was given
    lines = await run_in_threadpool(lambda: cost.spending(ctx, since=since, by=by))
    budget = await run_in_threadpool(budget_today, ctx.db, ctx.settings.max_credits_per_day)
    return JSONResponse(
        {
            "by": by,
            "groups": [line.as_json(by) for line in lines],
            "total_credits": round(sum(line.credits for line in lines), 2),
            "unpriced_jobs": sum(line.unpriced_jobs for line in lines),
            "budget": budget.as_json() if budget else None,
        }
    )


def job_routes() -> list[Route]:
    return [
        Route("/v1/costs", costs, methods=["GET"]),
        Route("/v1/jobs", submit, methods=["POST"]),
        Route("/v1/jobs", list_jobs, methods=["GET"]),
        Route("/v1/jobs/{job_id}", show, methods=["GET"]),
        Route("/v1/jobs/{job_id}/video", video, methods=["GET"]),
        Route("/v1/jobs/{job_id}/retry", retry, methods=["POST"]),
    ]
