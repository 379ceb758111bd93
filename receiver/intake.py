"""The one path every delivery takes: live callbacks, replays and reconciliation alike.

A delivery is recorded, the job moved (compare-and-set on its current status), the archive
task enqueued and the event appended in ONE transaction, so a 2xx is only ever sent for a
delivery whose consequences are all committed, and a crash at any point leaves either all
of it or none of it. Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson
import structlog

from receiver import clock, events, media, metrics
from receiver.deadlines import link_deadline, link_lifetime_for
from receiver.errors import TokenError, TokenExpired
from receiver.lifecycle import DeliveryOutcome, JobStatus, decide
from receiver.providers.base import Provider, TaskResult, TaskSnapshot, TaskStatus
from receiver.store.archive_tasks import ArchiveTasks
from receiver.store.database import Connection, Database
from receiver.store.deliveries import Deliveries
from receiver.store.jobs import Jobs, JobState
from receiver.store.records import Stamp
from receiver.tokens import CallbackSigner

__all__ = [
    "Admission",
    "IncomingDelivery",
    "IntakeResult",
    "Rejection",
    "ingest",
    "ingest_in",
    "judge_callback",
    "receive_callback",
    "record",
    "reject",
]

log = structlog.get_logger(__name__)

#: A task creation time further back than this is not believed (a clock gone wrong).
_TRUSTED_SKEW_PAST = timedelta(hours=48)
#: The most of a task's ``result_data`` kept with its job (JSON characters).
RESULT_DATA_KEEP_CHARS = 64 * 1024
#: Bodies are kept in the delivery log up to this size.
BODY_KEEP_BYTES = 64 * 1024
_SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key"})
# Proxies may echo the request URI (with its token) in headers such as X-Original-URI.
_TOKEN_IN_VALUE = re.compile(r"(/callbacks/[^/\s]+/)[^\s?#]+")
_CAS_ATTEMPTS = 5
#: An unauthenticated request is remembered by these headers only (see header_digest).
_DIGEST_HEADERS = ("user-agent", "content-type", "content-length", "x-forwarded-for")
_DIGEST_VALUE_CHARS = 64
_REASON_KEEP_CHARS = 200


@dataclass(frozen=True, kw_only=True)
class IncomingDelivery:
    """A request to a callback route (or a stored one replayed), before it is judged."""

    provider: str
    body: bytes
    source: str = "callback"
    headers: Mapping[str, str] = field(default_factory=dict)
    client_addr: str | None = None
    received_at: datetime = field(default_factory=clock.now)


@dataclass(frozen=True, kw_only=True)
class IntakeResult:
    delivery_id: str
    outcome: DeliveryOutcome
    status_code: int
    job_id: str | None = None
    task_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Rejection:
    """A callback we refuse, before the database is asked anything."""

    reason: str
    message: str
    status_code: int
    job_id: str | None = None
    #: The token was good (the body or the task was not): the delivery is logged whole, to
    #: be replayed. Otherwise anyone could have sent it, and only a summary is kept.
    authenticated: bool = False


@dataclass(frozen=True, kw_only=True)
class Admission:
    """A callback whose token and body are good: what the database must apply."""

    snapshot: TaskSnapshot
    #: The job the token is bound to; None for an unbound URL (the job is adopted).
    job_id: str | None
    label: str | None = None
    confirm: bool = False
    #: An unbound URL's identity (a digest of its token), counted against RECEIVER_ADOPT_LIMIT.
    adopter: str | None = None


def judge_callback(
    signer: CallbackSigner,
    provider: Provider,
    token: str,
    body: bytes,
    *,
    confirm: bool = False,
    confirm_external: bool = False,
    adopt_unconfirmed: bool = False,
) -> Admission | Rejection:
    """Token first, then body: all that can be decided without the database.

    ``confirm``: archive only after the provider's task API confirms the completion.
    ``confirm_external``: the same, for jobs adopted from unbound callback URLs; without it
    such jobs are refused unless ``adopt_unconfirmed`` (anyone holding the URL could claim
    any task id, and have us download any URL).
    """
    try:
        claims = signer.verify(token, provider=provider.name)
    except TokenExpired as exc:
        return Rejection(reason="expired_token", message=exc.message, status_code=403)
    except TokenError as exc:
        return Rejection(reason="bad_token", message=exc.message, status_code=403)
    try:
        snapshot = provider.parse_callback(body)
    except ValueError as exc:
        return Rejection(
            reason="malformed",
            message=f"malformed callback body: {exc}",
            status_code=400,
            job_id=claims.job_id,
            authenticated=True,
        )
    if claims.job_id is None:
        if not (confirm or confirm_external or adopt_unconfirmed):
            return Rejection(
                reason="unconfirmable",
                status_code=403,
                message="an unbound callback URL adopts a job only once the provider can "
                "confirm its task: set the provider's API key (or RECEIVER_ADOPT_UNCONFIRMED=1)",
                authenticated=True,
            )
        return Admission(
            snapshot=snapshot,
            job_id=None,
            label=claims.label,
            confirm=confirm or confirm_external,
            adopter=hashlib.sha256(token.encode()).hexdigest()[:32],
        )
    return Admission(snapshot=snapshot, job_id=claims.job_id, confirm=confirm)


def record(
    conn: Connection,
    delivery: IncomingDelivery,
    verdict: Admission | Rejection,
    *,
    adopt_limit: int | None = None,
) -> IntakeResult:
    """Apply a judged callback inside the caller's transaction.

    ``adopt_limit``: how many jobs one unbound URL may adopt in 24 hours (None: no limit).
    """
    if isinstance(verdict, Rejection):
        return _reject_in(conn, delivery, verdict)
    job_id = verdict.job_id
    if job_id is None:
        adopted = _adopt_external_job(conn, delivery.provider, verdict, adopt_limit)
        if isinstance(adopted, Rejection):
            return _reject_in(conn, delivery, adopted)
        job_id = adopted
        if job_id is None:
            # An unbound URL proves nothing about jobs we submitted ourselves.
            return _reject_in(
                conn,
                delivery,
                Rejection(
                    reason="task_mismatch",
                    status_code=409,
                    message="an unbound callback URL cannot report on a job submitted here",
                    authenticated=True,
                ),
            )
    return ingest_in(conn, job_id, verdict.snapshot, delivery, confirm=verdict.confirm)


def receive_callback(
    db: Database,
    signer: CallbackSigner,
    provider: Provider,
    token: str,
    delivery: IncomingDelivery,
    *,
    confirm: bool = False,
    confirm_external: bool = False,
    adopt_unconfirmed: bool = False,
) -> IntakeResult:
    """Judge and record a live callback in a transaction of its own."""
    verdict = judge_callback(
        signer,
        provider,
        token,
        delivery.body,
        confirm=confirm,
        confirm_external=confirm_external,
        adopt_unconfirmed=adopt_unconfirmed,
    )
    with db.transaction() as conn:
        result = record(conn, delivery, verdict)
    log_result(result, delivery)
    return result


def _adopt_external_job(
    conn: Connection, provider: str, verdict: Admission, limit: int | None
) -> str | Rejection | None:
    """The job of a task submitted by other code, created on its first callback.

    None when the task belongs to a job submitted through receiver, which only its own
    bound URL may move; a rejection when the URL has adopted its share of jobs today.
    """
    snapshot, label = verdict.snapshot, verdict.label
    jobs = Jobs(conn)
    job = jobs.task_job(provider, snapshot.task_id)
    if job is None:
        now = clock.now()
        if limit is not None:
            since = now - timedelta(hours=24)
            if jobs.count_adoptions(verdict.adopter, since=since) >= limit:
                return Rejection(
                    reason="adoption_limit",
                    status_code=429,
                    message=f"this callback URL adopted {limit} jobs in 24 hours, its limit "
                    "(RECEIVER_ADOPT_LIMIT); hand out another URL or raise the limit",
                    authenticated=True,
                )
        jobs.adopt_external(
            clock.new_id("job"),
            provider=provider,
            model=snapshot.model or "unknown",
            prompt=f"(submitted elsewhere{f': {label}' if label else ''})",
            params={"external": True, "label": label},
            task_id=snapshot.task_id,
            adopted_via=verdict.adopter,
            now=now,
        )
        job = jobs.task_job(provider, snapshot.task_id)
    assert job is not None
    return job.id if job.external else None


def ingest(
    db: Database,
    job_id: str,
    snapshot: TaskSnapshot,
    delivery: IncomingDelivery,
    *,
    confirm: bool = False,
) -> IntakeResult:
    """Apply ``snapshot`` to job ``job_id`` and record ``delivery``, in one transaction."""
    with db.transaction() as conn:
        result = ingest_in(conn, job_id, snapshot, delivery, confirm=confirm)
    log_result(result, delivery)
    return result


def ingest_in(
    conn: Connection,
    job_id: str,
    snapshot: TaskSnapshot,
    delivery: IncomingDelivery,
    *,
    confirm: bool = False,
) -> IntakeResult:
    """:func:`ingest` inside the caller's transaction."""
    jobs = Jobs(conn)
    job = jobs.state(job_id)
    if job is None:
        # The job id is kept: a replay can succeed once the job exists (a restored backup).
        return _record(
            conn,
            delivery,
            DeliveryOutcome.REJECTED,
            404,
            job_id=job_id,
            snapshot=snapshot,
            reason="unknown_job: no such job",
        )
    if job.task_id is not None and job.task_id != snapshot.task_id:
        return _record(
            conn,
            delivery,
            DeliveryOutcome.REJECTED,
            409,
            job_id=job_id,
            snapshot=snapshot,
            reason="task_mismatch: the body's task id is not this job's",
        )
    return _apply(conn, jobs, job, snapshot, delivery, confirm=confirm)


def reject(
    db: Database,
    delivery: IncomingDelivery,
    reason: str,
    message: str,
    status_code: int,
    *,
    job_id: str | None = None,
) -> IntakeResult:
    """Record a delivery we refuse, so even junk leaves a trace to look at (a summary: it
    comes from no verified token)."""
    rejection = Rejection(reason=reason, message=message, status_code=status_code, job_id=job_id)
    with db.transaction() as conn:
        result = _reject_in(conn, delivery, rejection)
    log_result(result, delivery)
    return result


def _reject_in(conn: Connection, delivery: IncomingDelivery, rejection: Rejection) -> IntakeResult:
    return _record(
        conn,
        delivery,
        DeliveryOutcome.REJECTED,
        rejection.status_code,
        reason=f"{rejection.reason}: {rejection.message}"[:_REASON_KEEP_CHARS],
        job_id=rejection.job_id,
        whole=rejection.authenticated,
    )


def log_result(result: IntakeResult, delivery: IncomingDelivery) -> None:
    """One line (and one count) per delivery, after its transaction committed."""
    metrics.callback_counter(result.outcome.value, delivery.source).inc()
    if result.outcome == DeliveryOutcome.REJECTED:
        log.warning(
            "intake.rejected", reason=result.reason, job_id=result.job_id, source=delivery.source
        )
    else:
        log.info(
            "intake.delivery",
            outcome=result.outcome,
            job_id=result.job_id,
            source=delivery.source,
            reason=result.reason,
        )


def _apply(
    conn: Connection,
    jobs: Jobs,
    job: JobState,
    snapshot: TaskSnapshot,
    delivery: IncomingDelivery,
    *,
    confirm: bool,
) -> IntakeResult:
    moment = clock.now()
    # Formatted once: every write of this delivery stores the same text.
    now = clock.to_db(moment)
    for _ in range(_CAS_ATTEMPTS):
        transition = decide(job.status, snapshot.status)
        if transition.to is None:
            break
        if job.task_id is None:
            # Set apart: writing the column at all rewrites its unique index entry, and
            # nearly every job has its task id from submission.
            jobs.set_task_id(job.id, snapshot.task_id)
        if jobs.advance(
            job.id,
            from_status=job.status,
            to=transition.to,
            provider_status=snapshot.raw_status,
            progress=snapshot.progress,
            error_code=snapshot.error_code,
            error_message=snapshot.error_message,
            finished_at=now if snapshot.status.is_terminal else None,
            now=now,
        ):
            break
        # Someone moved the job between our read and our write: decide again on the news.
        moved = jobs.state(job.id)
        assert moved is not None
        job = moved
    else:  # pragma: no cover - only reachable under pathological contention
        transition = decide(job.status, snapshot.status)

    if transition.to is not None:
        events.append(
            conn,
            job.id,
            f"job.{transition.to}",
            at=now,
            task_id=snapshot.task_id,
            provider_status=snapshot.raw_status,
            source=delivery.source,
            error_code=snapshot.error_code,
            error_message=snapshot.error_message,
        )
        if transition.to == JobStatus.COMPLETED:
            _enqueue_archive(
                conn,
                jobs,
                job.id,
                snapshot,
                received_at=delivery.received_at,
                moment=moment,
                now=now,
                confirm=confirm,
            )
    elif (
        snapshot.status == TaskStatus.COMPLETED and transition.outcome == DeliveryOutcome.DUPLICATE
    ):
        # The video is wanted again while its archive had given up: start it over.
        if ArchiveTasks(conn).requeue_failed(job.id, now=now):
            events.append(conn, job.id, "archive.requeued", at=now, source=delivery.source)
    elif snapshot.status == TaskStatus.UNKNOWN:
        attention = f"the provider reported an unknown status {snapshot.raw_status!r}"
        jobs.flag(job.id, attention, now=moment)
        events.append(
            conn, job.id, "job.attention", at=now, reason=attention, source=delivery.source
        )

    return _record(
        conn,
        delivery,
        transition.outcome,
        200,
        job_id=job.id,
        snapshot=snapshot,
        reason=transition.reason,
    )


def _enqueue_archive(
    conn: Connection,
    jobs: Jobs,
    job_id: str,
    snapshot: TaskSnapshot,
    *,
    received_at: datetime,
    moment: datetime,
    now: Stamp,
    confirm: bool,
) -> None:
    """Queue one archive per result of the completed task (its ``results``, then the media
    of its ``result_data``), and keep what else ``result_data`` holds with the job."""
    if snapshot.result_data is not None:
        jobs.set_result_data(job_id, _result_data_text(snapshot.result_data), now=now)
    if not snapshot.results and not confirm:
        if snapshot.result_data is not None:
            # A task that makes no file (an element, a persona, a voice): what it returned
            # is recorded, and that is all there is to keep.
            if jobs.mark_stored(job_id, now=moment):
                events.append(conn, job_id, "asset.stored", at=now, assets=[])
            return
        attention = "the provider reported the task completed but gave no video URL"
        jobs.flag(job_id, attention, now=moment)
        events.append(conn, job_id, "job.attention", at=now, reason=attention)
        return
    # The links die a lifetime after generation (the task's word, else its model's: 24 h for
    # most) unless a URL says earlier. Neither provider says when generation ended; the
    # task's creation comes shortly before (so the deadline errs early, on the safe side),
    # and the callback's arrival after it, possibly hours after for a callback recovered by
    # the watchdog or replayed.
    generated = received_at
    created = snapshot.created_at
    if created is not None and received_at - _TRUSTED_SKEW_PAST <= created <= received_at:
        generated = created
    lifetime = snapshot.link_lifetime or link_lifetime_for(snapshot.model)
    # With confirmation the worker asks the provider for the URLs; these are hints (and with
    # none, one result is queued, the provider's answer adding any others).
    results = snapshot.results or (TaskResult(url=""),)
    tasks = ArchiveTasks(conn)
    for index, result in enumerate(results):
        kind = media.kind_for(result.url, result.kind)
        tasks.enqueue(
            job_id,
            index,
            result_count=len(results),
            media_kind=kind,
            extension=media.extension_for(result.url, kind),
            source_url=result.url,
            confirm_first=confirm,
            deadline_at=(
                link_deadline(result.url, generated, lifetime)
                if result.url
                else generated + lifetime
            ),
            now=now,
        )


def _result_data_text(result_data: object) -> str:
    """``result_data`` (without its media) as the JSON kept with the job, within bounds."""
    text = json.dumps(result_data, ensure_ascii=True, separators=(",", ":"), default=str)
    if len(text) > RESULT_DATA_KEEP_CHARS:
        return json.dumps({"omitted": f"result_data of {len(text)} characters"})
    return text


def _record(
    conn: Connection,
    delivery: IncomingDelivery,
    outcome: DeliveryOutcome,
    status_code: int,
    *,
    reason: str | None = None,
    job_id: str | None = None,
    snapshot: TaskSnapshot | None = None,
    whole: bool = True,
) -> IntakeResult:
    """Write the delivery down: ``whole`` (headers and body, for replays), or for a request
    anyone could have sent, a summary of a fixed, small size whatever it sent."""
    delivery_id = clock.new_id("dlv")
    deliveries = Deliveries(conn)
    if not whole:
        deliveries.insert(
            delivery_id,
            provider=delivery.provider,
            source=delivery.source,
            job_id=None,
            task_id=None,
            provider_status=None,
            outcome=outcome,
            reason=reason,
            client_addr=(delivery.client_addr or "")[:64] or None,
            headers=orjson.dumps(header_digest(delivery.headers)).decode(),
            body=None,
            body_size=len(delivery.body),
            received_at=clock.to_db(delivery.received_at),
        )
        return IntakeResult(
            delivery_id=delivery_id, outcome=outcome, status_code=status_code, reason=reason
        )
    deliveries.insert(
        delivery_id,
        provider=delivery.provider,
        source=delivery.source,
        job_id=job_id,
        task_id=snapshot.task_id if snapshot else None,
        provider_status=snapshot.raw_status if snapshot else None,
        outcome=outcome,
        reason=reason,
        client_addr=delivery.client_addr,
        # orjson: a tenth of json.dumps's cost, on every delivery.
        headers=orjson.dumps(redact_headers(delivery.headers)).decode(),
        body=delivery.body[:BODY_KEEP_BYTES],
        body_size=len(delivery.body),
        received_at=clock.to_db(delivery.received_at),
    )
    return IntakeResult(
        delivery_id=delivery_id,
        outcome=outcome,
        status_code=status_code,
        job_id=job_id,
        task_id=snapshot.task_id if snapshot else None,
        reason=reason,
    )


def header_digest(headers: Mapping[str, str]) -> dict[str, str | int]:
    """What an unauthenticated request's headers are remembered by: how many and how large,
    and a few that tell who sent it, each cut short (at most about 400 bytes of JSON)."""
    digest: dict[str, str | int] = {
        "_count": len(headers),
        "_bytes": sum(len(name) + len(value) for name, value in headers.items()),
    }
    for name in _DIGEST_HEADERS:
        value = headers.get(name)
        if value is not None:
            digest[name] = _redact_header(name, value)[:_DIGEST_VALUE_CHARS]
    return digest


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: _redact_header(name, value) for name, value in headers.items()}


def _redact_header(name: str, value: str) -> str:
    if name.lower() in _SECRET_HEADERS:
        return "[redacted]"
    value = value[:1024]
    # The substring test spares the regular expression for nearly every header.
    return _TOKEN_IN_VALUE.sub(r"\1[token]", value) if "/callbacks/" in value else value
