"""Submitting many jobs at once: every row checked first, then a few submissions at a time.

Rows are prepared (checked, priced, local images read) before anything is sent, so a dry
run and a real run judge them alike. Submissions then run ``concurrency`` at a time, sharing
one :class:`~receiver.submission.pacing.Pacer` so a 429 slows every thread. A row that fails
(invalid, over the budget, refused by the provider, or anything unexpected) is reported with
its line number; the others go on. Only a missing setting, the same for every row, stops the
batch, and it does so before anything is sent.
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
from receiver.submission.images import ImageFacts
from receiver.submission.pacing import Pacer
from receiver.submission.rows import BatchRow
from receiver.submission.spec import PreparedJob, prepare, submit_prepared

__all__ = ["BatchReport", "RowResult", "prepare_rows", "submit_rows"]

log = structlog.get_logger(__name__)

Outcome = Literal["ready", "invalid", "refused", "submitted", "stored", "not_stored", "skipped"]


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
        return all(row.outcome in {"ready", "submitted", "stored", "skipped"} for row in self.rows)


def prepare_rows(
    ctx: Context, rows: Sequence[BatchRow], *, base_dir: Path, provider_name: str = "evolink"
) -> BatchReport:
    """Check and price every row; nothing is sent or uploaded."""
    images: dict[Path, ImageFacts] = {}
    results = []
    for row in rows:
        if row.comment is not None:
            results.append(RowResult(line=row.line, outcome="skipped", comment=row.comment))
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
    return BatchReport(rows=results)


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
            job = submit_prepared(ctx, row.prepared, pacer=pacer)
        except Exception as exc:
            # One row's trouble, even an unexpected one, must not lose the others' report.
            row.outcome = "refused"
            row.error = exc.message if isinstance(exc, ReceiverError) else repr(exc)
            log.warning("batch.row_refused", line=row.line, error=row.error)
            return row
        row.outcome, row.job_id = "submitted", job.id
        return row

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="batch") as pool:
        for future in as_completed([pool.submit(submit, row) for row in ready]):
            row = future.result()
            if on_done is not None:
                on_done(row)
    report.rate_limited = pacer.rate_limited
    return report
