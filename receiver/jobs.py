"""Jobs as users see them: submit one, list them, look at one.

The CLI, the HTTP API and the gallery all call these functions, so they cannot disagree.
Submitting records the job *before* calling the provider: if we crash after the provider
accepted it, the callback still finds its job. With an idempotency key
(:mod:`receiver.submission.idempotency`) the key is bound in that same transaction, so of
two identical submissions racing each other one makes the job and the other finds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from receiver import clock, events
from receiver.context import Context
from receiver.errors import (
    NotFoundError,
    ProviderError,
    ProviderRateLimited,
    ReceiverError,
    ValidationError,
)
from receiver.lifecycle import JobStatus
from receiver.providers.base import JobRequest, Provider, TaskSnapshot
from receiver.store.assets import Assets
from receiver.store.database import Connection
from receiver.store.deliveries import Deliveries
from receiver.store.jobs import FlaggedJob, Jobs
from receiver.store.records import Asset, Delivery, Event, Job
from receiver.submission import cost, idempotency
from receiver.submission.budget import check_budget
from receiver.submission.idempotency import Claim, IdempotencyKey
from receiver.submission.images import StagedImage, frame_aspect
from receiver.submission.pacing import Pacer
from receiver.tokens import CallbackClaims

__all__ = [
    "Attention",
    "JobDetails",
    "JobSummary",
    "count_jobs",
    "get_job",
    "list_jobs",
    "needs_attention",
    "submit_job",
]

log = structlog.get_logger(__name__)

#: What we assume when the provider gives no estimate (EvoLink's example says 180 s).
DEFAULT_ESTIMATED_SECONDS = 300


@dataclass(frozen=True, kw_only=True)
class JobSummary:
    job: Job
    asset: Asset | None


@dataclass(frozen=True, kw_only=True)
class JobDetails:
    job: Job
    #: The first stored file (the only one of most jobs); every one is in ``assets``.
    asset: Asset | None
    #: Every stored file, in the order of the task's results.
    assets: list[Asset] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Submitted:
    job: Job
    #: True when an idempotency key found the job of an earlier request: nothing was sent.
    replayed: bool = False


class KeyJobDeleted(ReceiverError):
    """The job this idempotency key made was deleted."""

    def __init__(self, *, key: str, job_id: str, deleted_at: str | None) -> None:
        self.job_id = job_id
        when = f" at {deleted_at}" if deleted_at else ""
        super().__init__(
            f"idempotency key {key!r} made job {job_id}, which was deleted{when} "
            "(receiver deletions); a new submission needs a new key"
        )


def submit_job(
    ctx: Context,
    request: JobRequest,
    *,
    provider_name: str = "evolink",
    image: StagedImage | None = None,
    pacer: Pacer | None = None,
) -> Job:
    """Validate, record, submit and return the job (status ``pending`` on success).

    Raises :class:`~receiver.errors.ValidationError` before anything is recorded,
    :class:`~receiver.submission.budget.BudgetExceeded` when the job does not fit in today's
    budget, and a :class:`~receiver.errors.ProviderError` (after recording the job as
    ``submit_failed``) when the provider refuses it. ``image`` is the staged first frame
    ``request.image_url`` points to; ``pacer``, when given, retries the provider's 429s.
    """
    return submit(ctx, request, provider_name=provider_name, image=image, pacer=pacer).job


def replayed(ctx: Context, earlier: Claim, key: IdempotencyKey) -> Submitted:
    """The answer to a request whose key is bound already: the job it made."""
    if earlier.job_status is None:
        raise KeyJobDeleted(key=key.shown, job_id=earlier.job_id, deleted_at=earlier.deleted_at)
    log.info("job.idempotent_replay", job_id=earlier.job_id)
    return Submitted(job=get_job(ctx, earlier.job_id).job, replayed=True)


def submit(
    ctx: Context,
    request: JobRequest,
    *,
    provider_name: str = "evolink",
    image: StagedImage | None = None,
    pacer: Pacer | None = None,
    key: IdempotencyKey | None = None,
) -> Submitted:
    """:func:`submit_job`, with an idempotency ``key`` (see
    :mod:`receiver.submission.idempotency`): when the key is bound already, its job is
    returned and nothing is checked, recorded or sent.

    Raises :class:`~receiver.submission.idempotency.IdempotencyConflict` when the key was
    bound for another request, :class:`KeyJobDeleted` when its job was deleted.
    """
    provider = ctx.provider(provider_name)
    request = provider.validate(request)
    credits = cost.estimate_credits(provider.name, request)
    public_url = ctx.settings.require_public_url()
    provider.require_credentials()
    job_id = clock.new_id("job")
    callback_url = ctx.signer.callback_url(
        public_url, CallbackClaims(provider=provider.name, job_id=job_id)
    )
    if len(callback_url) > provider.callback_url_limit:
        raise ValidationError(
            "callback_url",
            f"would be {len(callback_url)} characters; the provider accepts at most "
            f"{provider.callback_url_limit} (shorten RECEIVER_PUBLIC_URL)",
        )
    now = clock.now()
    earlier: Claim | None = None
    with ctx.db.transaction() as conn:
        # The key first: a replay must not be refused by the budget it already spent.
        if key is not None:
            earlier = idempotency.claim(conn, key, job_id)
        if earlier is None:
            check_budget(conn, limit=ctx.settings.max_credits_per_day, cost=credits)
            _insert_job(conn, job_id, provider.name, request, image=image, now=now)
            Jobs(conn).set_credits_estimated(job_id, credits)
    if earlier is not None:
        assert key is not None
        return replayed(ctx, earlier, key)
    bound = log.bind(job_id=job_id)
    try:
        snapshot = _create(
            provider, request, callback_url=callback_url, job_id=job_id, pacer=pacer, log=bound
        )
    except Exception as exc:
        # Whatever went wrong, the job must not sit in "submitting" without a trace.
        message = exc.message if isinstance(exc, ReceiverError) else repr(exc)
        code = exc.code if isinstance(exc, ProviderError) else None
        with ctx.db.transaction() as conn:
            Jobs(conn).mark_submit_failed(
                job_id, error_code=code, error_message=message, now=clock.now()
            )
            events.append(conn, job_id, "job.submit_failed", error=message)
            if key is not None and idempotency.definitely_not_created(exc):
                # Nothing was created: the corrected request may use the same key.
                idempotency.release(conn, key, job_id)
        bound.error("job.submit_failed", error=message)
        raise
    with ctx.db.transaction() as conn:
        Jobs(conn).mark_submitted(
            job_id,
            task_id=snapshot.task_id,
            provider_status=snapshot.raw_status,
            estimated_seconds=snapshot.estimated_seconds,
            credits_reserved=snapshot.credits_reserved,
            check_after=callback_due(snapshot),
            now=clock.now(),
        )
        events.append(
            conn,
            job_id,
            "job.submitted",
            task_id=snapshot.task_id,
            estimated_seconds=snapshot.estimated_seconds,
        )
    bound.info("job.submitted", task_id=snapshot.task_id, model=request.model)
    return Submitted(job=get_job(ctx, job_id).job)


def _insert_job(
    conn: Connection,
    job_id: str,
    provider: str,
    request: JobRequest,
    *,
    image: StagedImage | None,
    now: datetime,
) -> None:
    assert request.model is not None  # the provider's validate() fills it in
    Jobs(conn).insert(
        job_id,
        provider=provider,
        model=request.model,
        prompt=request.prompt,
        params=_recorded_params(request, image),
        status=JobStatus.SUBMITTING,
        now=now,
    )


def _recorded_params(request: JobRequest, image: StagedImage | None) -> dict[str, Any]:
    params = request.as_params()
    if request.image_url is not None:
        # The provider takes an image job's aspect ratio from the frame, whatever the
        # request said: record the frame's when we know it, never a guess.
        params.pop("aspect_ratio", None)
    if image is not None:
        # The presigned URL expires and carries a signature: record where the frame lives.
        params.pop("image_url", None)
        params["image"] = image.uri
        if image.width and image.height:
            params["aspect_ratio"] = frame_aspect(image.width, image.height)
            params["frame"] = f"{image.width}x{image.height}"
    return params


def _create(
    provider: Provider,
    request: JobRequest,
    *,
    callback_url: str,
    job_id: str,
    pacer: Pacer | None,
    log: Any,
) -> TaskSnapshot:
    """The provider's create, sent again after each 429 while ``pacer`` allows.

    A 429 means the provider created nothing, so the same request (same callback URL, same
    job) can be sent again without risking a second video.
    """
    attempt = 0
    while True:
        if pacer is not None:
            pacer.wait_turn()
        try:
            return provider.create(request, callback_url=callback_url, job_id=job_id)
        except ProviderRateLimited as exc:
            if pacer is None or not pacer.back_off(attempt, exc.retry_after):
                raise
            log.info("job.rate_limited", attempt=attempt + 1, retry_after=exc.retry_after)
            attempt += 1


def callback_due(snapshot: TaskSnapshot) -> datetime:
    """When the provider expects the task done; the watchdog adds its grace period."""
    estimated = snapshot.estimated_seconds or DEFAULT_ESTIMATED_SECONDS
    return clock.now() + timedelta(seconds=estimated)


def get_job(ctx: Context, job_id: str) -> JobDetails:
    with ctx.db.reading() as conn:
        job = Jobs(conn).get(job_id)
        if job is None:
            raise NotFoundError(f"no job {job_id!r}")
        assets = Assets(conn).for_job(job_id)
        return JobDetails(
            job=job,
            asset=assets[0] if assets else None,
            assets=assets,
            deliveries=Deliveries(conn).for_job(job_id),
            events=events.for_job(conn, job_id),
        )


@dataclass(frozen=True, kw_only=True)
class Attention:
    """What a person must look at: jobs with their reason, and rejections that look like ours."""

    jobs: list[tuple[Job, str]]
    rejections: list[Delivery]


#: A submission still without the provider's answer after this long was interrupted.
STUCK_SUBMISSION = timedelta(minutes=10)


def needs_attention(ctx: Context, *, limit: int = 200) -> Attention:
    now = clock.now()
    with ctx.db.reading() as conn:
        flagged = Jobs(conn).needs_attention(
            overdue_before=now - timedelta(seconds=ctx.settings.watchdog_grace),
            stuck_before=now - STUCK_SUBMISSION,
            limit=limit,
        )
        rejected = Deliveries(conn).suspicious_rejections(
            since=now - timedelta(days=7), limit=limit
        )
    return Attention(
        jobs=[(entry.job, _attention_reason(entry)) for entry in flagged],
        rejections=rejected,
    )


def _attention_reason(entry: FlaggedJob) -> str:
    job = entry.job
    if job.attention:
        return job.attention
    if entry.archive_state in {"failed", "expired"}:
        return f"archive {entry.archive_state}: {entry.archive_error}"
    if job.status == JobStatus.SUBMITTING:
        return "the submission never got the provider's answer (interrupted?)"
    # As stored: the same text the database holds.
    since = clock.to_db(job.check_after) if job.check_after is not None else None
    return f"the callback is overdue (the watchdog is asking the provider since {since})"


def list_jobs(
    ctx: Context,
    *,
    status: str | None = None,
    model: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    before: str | None = None,
) -> list[JobSummary]:
    """Newest first; ``before`` is the id of the last job of the previous page."""
    if status is not None:
        JobStatus(status)  # a clear ValueError for a status that does not exist
    with ctx.db.reading() as conn:
        found = Jobs(conn).page(status=status, model=model, since=since, before=before, limit=limit)
    return [JobSummary(job=entry.job, asset=entry.asset) for entry in found]


def count_jobs(
    ctx: Context,
    *,
    status: str | None = None,
    model: str | None = None,
    since: datetime | None = None,
) -> int:
    """How many jobs :func:`list_jobs` shows with these filters, over all its pages."""
    with ctx.db.reading() as conn:
        return Jobs(conn).count(status=status, model=model, since=since)
