"""Submitting many jobs at once: every row checked first, then a few submissions at a time.

Rows are prepared before anything is sent, so a dry run and a real run judge them alike:
checked, priced, local images read; then, given the batch's identity, each row's
idempotency key (:func:`~receiver.submission.idempotency.batch_keys`) is looked up, so rows
an earlier run submitted are reported as ``existing`` and not sent again; then the rows
left are held to the daily budget in file order (:func:`~receiver.submission.budget.allot`),
so which rows fit never depends on which thread runs first. Submissions then run
``concurrency`` at a time, sharing one :class:`~receiver.submission.pacing.Pacer` so a 429
slows every thread. A row that fails (invalid, over the budget, refused by the provider, or
anything unexpected) is reported with its line number; the others go on. Only a missing
setting, the same for every row, stops the batch, and it does so before anything is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import structlog

from receiver.context import Context
from receiver.errors import ConfigError, ReceiverError
from receiver.store.assets import Assets
from receiver.submission import idempotency
from receiver.submission.budget import allot, budget_today
from receiver.submission.idempotency import IdempotencyKey
from receiver.submission.images import ImageFacts
from receiver.submission.pacing import Pacer
from receiver.submission.rows import BatchRow
from receiver.submission.spec import PreparedJob, prepare, submit_once

__all__ = ["BatchReport", "RowResult", "prepare_rows", "submit_rows"]

log = structlog.get_logger(__name__)

Outcome = Literal[
    "ready", "invalid", "refused", "submitted", "existing", "stored", "not_stored", "skipped"
]


@dataclass(kw_only=True)
class RowResult:
    """What became of one row."""

    line: int
    outcome: Outcome
    prepared: PreparedJob | None = None
    job_id: str | None = None
    error: str | None = None
    #: The stored video's S3 URI, once known (``--wait``).
    uri: str | None = None
    #: A skipped comment line's text.
    comment: str | None = None
    #: Why a row was skipped, or what an ``existing`` row's job has become.
    note: str | None = None
    #: The row's idempotency key, when the batch has an identity.
    key: IdempotencyKey | None = None
    #: An ``existing`` row's job status now ("deleted" when it was).
    status: str | None = None

    @property
    def credits(self) -> float | None:
        return self.prepared.credits if self.prepared else None


@dataclass(kw_only=True)
class BatchReport:
    rows: list[RowResult]
    #: 429 answers honoured with a pause.
    rate_limited: int = 0

    def count(self, outcome: Outcome) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    def credits(self, *outcomes: Outcome) -> float:
        """The credits of the priced rows with these outcomes (see :meth:`unpriced`)."""
        return round(sum(row.credits or 0.0 for row in self.rows if row.outcome in outcomes), 2)

    def unpriced(self, *outcomes: Outcome) -> int:
        """Rows with these outcomes whose job has no price: not in :meth:`credits`."""
        return sum(
            1
            for row in self.rows
            if row.outcome in outcomes and row.prepared is not None and row.credits is None
        )

    @property
    def all_ok(self) -> bool:
        return all(
            row.outcome in {"ready", "submitted", "existing", "stored", "skipped"}
            for row in self.rows
        )


def prepare_rows(
    ctx: Context,
    rows: Sequence[BatchRow],
    *,
    base_dir: Path,
    provider_name: str = "evolink",
    identity: str | None = None,
) -> BatchReport:
    """Check and price every row, find the rows an earlier run of the same batch
    (``identity``) submitted, and hold the others to the budget in file order; nothing is
    sent or uploaded."""
    images: dict[Path, ImageFacts] = {}
    results = []
    for row in rows:
        if row.comment is not None:
            results.append(RowResult(line=row.line, outcome="skipped", comment=row.comment))
            continue
        if row.empty:
            results.append(RowResult(line=row.line, outcome="skipped", note="every cell is empty"))
            continue
        if row.spec is None:
            results.append(RowResult(line=row.line, outcome="invalid", error=row.error))
            continue
        try:
            prepared = prepare(
                ctx, row.spec, base_dir=base_dir, provider_name=provider_name, images=images
            )
        except ConfigError:
            raise  # a setting every row needs: nothing has been sent yet
        except Exception as exc:
            # Whatever one row's trouble, the others are still judged and sent.
            error = exc.message if isinstance(exc, ReceiverError) else f"cannot check: {exc!r}"
            if not isinstance(exc, ReceiverError):
                log.warning("batch.row_unexpected_error", line=row.line, error=repr(exc))
            results.append(RowResult(line=row.line, outcome="invalid", error=error))
            continue
        results.append(RowResult(line=row.line, outcome="ready", prepared=prepared))
    report = BatchReport(rows=results)
    if identity is not None:
        _find_earlier(ctx, report, identity)
    _hold_to_budget(ctx, report)
    return report


def _find_earlier(ctx: Context, report: BatchReport, identity: str) -> None:
    """Key every ready row; the rows whose key is bound already are ``existing``."""
    ready = [row for row in report.rows if row.outcome == "ready" and row.prepared]
    keys = idempotency.batch_keys(identity, [row.prepared for row in ready if row.prepared])
    with ctx.db.reading() as conn:
        for row, key in zip(ready, keys, strict=True):
            row.key = key
            earlier = idempotency.lookup(conn, key)
            if earlier is None:
                continue
            row.outcome, row.job_id = "existing", earlier.job_id
            row.status = earlier.job_status or "deleted"
            if earlier.job_status is None:
                row.note = f"submitted by an earlier run; deleted at {earlier.deleted_at}"
                continue
            row.note = f"submitted by an earlier run; {earlier.job_status}"
            asset = Assets(conn).get(earlier.job_id)
            if asset is not None:
                row.uri = asset.uri


def _hold_to_budget(ctx: Context, report: BatchReport) -> None:
    """Refuse, in file order, the ready rows that today's budget cannot hold."""
    if ctx.settings.max_credits_per_day is None:
        return
    budget = budget_today(ctx.db, ctx.settings.max_credits_per_day)
    ready = [row for row in report.rows if row.outcome == "ready"]
    verdicts = allot(budget, [row.credits for row in ready])
    for row, refusal in zip(ready, verdicts, strict=True):
        if refusal is not None:
            row.outcome, row.error = "refused", refusal


def submit_rows(
    ctx: Context,
    report: BatchReport,
    *,
    concurrency: int = 4,
    pacer: Pacer | None = None,
    on_done: Callable[[RowResult], None] | None = None,
) -> BatchReport:
    """Submit every ready row, ``concurrency`` at a time; rows are updated in place."""
    pacer = pacer or Pacer()
    # Built before the threads start, so they share one of each.
    _ = ctx.db, ctx.signer
    ready = [row for row in report.rows if row.outcome == "ready"]
    if any(row.prepared and row.prepared.image for row in ready):
        _ = ctx.store

    def submit(row: RowResult) -> RowResult:
        assert row.prepared is not None
        try:
            submitted = submit_once(ctx, row.prepared, pacer=pacer, key=row.key)
        except Exception as exc:
            # One row's trouble, even an unexpected one, must not lose the others' report.
            row.outcome = "refused"
            row.error = exc.message if isinstance(exc, ReceiverError) else repr(exc)
            log.warning("batch.row_refused", line=row.line, error=row.error)
            return row
        row.job_id = submitted.job.id
        if submitted.replayed:
            # Another run of the same batch submitted it since this one looked.
            row.outcome, row.status = "existing", submitted.job.status.value
            row.note = f"submitted by another run; {row.status}"
        else:
            row.outcome = "submitted"
        return row

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="batch") as pool:
        for future in as_completed([pool.submit(submit, row) for row in ready]):
            row = future.result()
            if on_done is not None:
                on_done(row)
    report.rate_limited = pacer.rate_limited
    return report
