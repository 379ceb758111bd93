"""The watchdog: jobs whose callback never came are asked about, and recovered.

The provider retries a callback only three times within seconds, so a receiver that was
down for a minute loses it for good; the task API is the only way back. A job is *due* once
the provider's estimate plus ``RECEIVER_WATCHDOG_GRACE`` has passed without a final status.
The watchdog then polls ``GET /v1/tasks/{id}`` with a growing backoff, honouring 429s, and
hands a finished task to the very same intake as a callback, with ``source="reconcile"``,
so the difference stays visible in the delivery log.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from receiver import clock
from receiver.config import Settings
from receiver.errors import (
    ConfigError,
    ProviderError,
    ProviderNotFound,
    ProviderRateLimited,
)
from receiver.intake import IncomingDelivery, ingest
from receiver.lifecycle import DeliveryOutcome
from receiver.providers.base import Provider
from receiver.store.database import Database
from receiver.store.jobs import Jobs
from receiver.store.records import Job

__all__ = ["ReconcileSummary", "Watchdog"]

log = structlog.get_logger(__name__)

_BATCH = 50
_MAX_BACKOFF = 1800.0
_NOT_FOUND_BACKOFF = 6 * 3600.0


@dataclass
class ReconcileSummary:
    checked: int = 0
    recovered: int = 0
    still_running: int = 0
    errors: list[str] = field(default_factory=list)
    rate_limited: bool = False


class Watchdog:
    def __init__(
        self, db: Database, settings: Settings, provider_for: Callable[[str], Provider]
    ) -> None:
        self._db = db
        self._settings = settings
        self._provider_for = provider_for

    def run_once(self, *, submitted_before: datetime | None = None) -> ReconcileSummary:
        """Ask about every due job (or, on demand, every unfinished job submitted before a time)."""
        summary = ReconcileSummary()
        now = clock.now()
        first_due = now - timedelta(seconds=self._settings.watchdog_grace)
        with self._db.reading() as conn:
            if submitted_before is None:
                due = Jobs(conn).due_for_check(now=now, first_due=first_due, limit=_BATCH)
            else:
                due = Jobs(conn).running_submitted_before(submitted_before, limit=10_000)
        for job in due:
            if summary.rate_limited:
                break
            with structlog.contextvars.bound_contextvars(job_id=job.id, task_id=job.task_id):
                self._check(job, summary)
        if summary.checked:
            log.info(
                "watchdog.round",
                checked=summary.checked,
                recovered=summary.recovered,
                still_running=summary.still_running,
                errors=len(summary.errors),
            )
        return summary

    def _check(self, job: Job, summary: ReconcileSummary) -> None:
        assert job.task_id is not None
        summary.checked += 1
        provider = self._provider_for(job.provider)
        try:
            snapshot = provider.get_task(job.task_id)
        except ProviderRateLimited as exc:
            summary.rate_limited = True
            summary.errors.append(exc.message)
            self._postpone(job, exc.retry_after)
            log.warning("watchdog.rate_limited", retry_after=exc.retry_after)
            return
        except ProviderNotFound as exc:
            summary.errors.append(f"{job.id}: {exc.message}")
            self._postpone(
                job,
                _NOT_FOUND_BACKOFF,
                attention=f"the provider does not know task {job.task_id} (unknown or expired)",
            )
            return
        except ConfigError:
            raise
        except ProviderError as exc:
            summary.errors.append(f"{job.id}: {exc.message}")
            self._postpone(job, _backoff(job))
            return
        if snapshot.status.is_terminal or snapshot.status.value != job.status.value:
            # The same intake as a callback; the body is the provider's own task object.
            body = json.dumps(dict(snapshot.raw)).encode()
            delivery = IncomingDelivery(provider=job.provider, body=body, source="reconcile")
            result = ingest(
                self._db, job.id, snapshot, delivery, confirm=self._settings.confirm_with_provider
            )
            if snapshot.status.is_terminal and result.outcome == DeliveryOutcome.ACCEPTED:
                summary.recovered += 1
                log.info("watchdog.recovered", status=snapshot.raw_status)
                return
        summary.still_running += 1
        self._postpone(job, _backoff(job))

    def _postpone(self, job: Job, seconds: float, *, attention: str | None = None) -> None:
        now = clock.now()
        with self._db.transaction() as conn:
            jobs = Jobs(conn)
            jobs.postpone_check(job.id, check_after=now + timedelta(seconds=seconds), now=now)
            if attention:
                jobs.flag(job.id, attention, now=now)


def _backoff(job: Job) -> float:
    """30 s, 1 min, 2 min ... capped at 30 minutes."""
    return float(min(_MAX_BACKOFF, 30.0 * 2 ** min(job.check_attempts, 10)))
