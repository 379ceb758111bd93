"""``receiver submit --from FILE``: a batch of jobs from a CSV or JSON Lines file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receiver.cli._common import context, print_json, progress
from receiver.cli.costs import budget_line, budget_state
from receiver.config import Settings
from receiver.errors import ConfigError, ReceiverError, ValidationError
from receiver.terminal import terminal_safe

if TYPE_CHECKING:
    from receiver.submission.batch import BatchReport, Outcome, RowResult
    from receiver.submission.budget import BudgetState

__all__ = ["run_batch"]

#: The outcomes counted in a batch's summary, in the order printed.
_OUTCOMES: tuple[Outcome, ...] = (
    "ready",
    "invalid",
    "refused",
    "submitted",
    "existing",
    "stored",
    "not_stored",
    "skipped",
)
#: Command-line options that act as defaults for the batch's rows.
_DEFAULTABLE = ("image", "duration", "aspect_ratio", "quality", "model", "negative_prompt", "sound")


def run_batch(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import waiting
    from receiver.submission import batch
    from receiver.submission.rows import read_rows

    if args.prompt or args.shot:
        raise ValidationError("--from", "the prompt and shots come from the file's rows")
    if args.download:
        raise ValidationError("--download", "takes one job; a batch's videos stay in the bucket")
    if args.wait and settings.admin_token is None:
        # Checked before anything is sent: the batch must not go out and then fail to wait.
        raise ConfigError("RECEIVER_ADMIN_TOKEN", "is not set: --wait uses the receiver's API")
    defaults = {name: getattr(args, name) for name in _DEFAULTABLE if getattr(args, name)}
    if args.image is not None:
        defaults["image"] = _image_option(args.image)
    rows = read_rows(args.source, defaults=defaults)
    with context(settings) as ctx:
        report = batch.prepare_rows(
            ctx,
            rows,
            base_dir=args.source.parent,
            provider_name=args.provider,
            identity=_batch_identity(args),
        )
        budget = budget_state(ctx)
        if args.dry_run:
            _print_report(report, args, budget=budget, dry_run=True)
            fits = budget is None or (
                budget.fits(report.credits("ready")) and not report.unpriced("ready")
            )
            return 0 if report.all_ok and fits else 1
        # Checked before anything is sent: the batch must not go out and then fail to wait
        # (a wrong token, nothing at RECEIVER_API_URL). The last event's number is where
        # the wait follows the stream from, so no job's end is missed.
        after = waiting.preflight(settings) if args.wait else 0
        with progress(report.count("ready"), "submitting") as bar:
            batch.submit_rows(
                ctx, report, concurrency=args.concurrency, on_done=lambda row: bar.update()
            )
    if args.wait:
        # Only this run's submissions: rows an earlier run made are reported as they stand.
        by_job = {
            row.job_id: row for row in report.rows if row.job_id and row.outcome == "submitted"
        }
        timeout = args.timeout.total_seconds() if args.timeout else None

        def interrupted() -> None:
            # The jobs are submitted whatever happens to the wait: say which they are.
            _print_report(report, args, budget=None, dry_run=False)
            print("receiver: interrupted; the jobs above go on", file=sys.stderr)

        try:
            with (
                progress(len(by_job), "storing") as bar,
                waiting.api(settings) as client,
                waiting.ctrl_c_ends_at_once(interrupted),
            ):
                for job in client.wait_all(list(by_job), timeout=timeout, after=after):
                    row = by_job[job.id]
                    if job.asset is not None:
                        row.outcome, row.uri = "stored", job.asset.uri
                    else:
                        row.outcome, row.error = "not_stored", job.reason
                    bar.update()
        except KeyboardInterrupt:
            interrupted()
            return 130
        except ReceiverError:
            # The jobs are submitted whatever happened to the wait: say which they are.
            _print_report(report, args, budget=None, dry_run=False)
            raise
    _print_report(report, args, budget=None, dry_run=False)
    return 0 if report.all_ok else 1


def _batch_identity(args: argparse.Namespace) -> str:
    """What names the batch in its rows' idempotency keys: ``--idempotency-key`` when given,
    else the file's absolute path (docs/submitting.md, "Running a batch again")."""
    if args.idempotency_key is not None:
        key = args.idempotency_key.strip()
        if not key:
            raise ValidationError("--idempotency-key", "is empty")
        return f"key:{key}"
    return f"file:{args.source.resolve()}"


def _image_option(image: str) -> str:
    """``--image`` as the rows will read it: a local path from the current directory.

    Only the file's own ``image`` cells are relative to the batch file; an option typed on
    the command line means what it means to the shell it was typed in.
    """
    from receiver.submission.spec import is_url

    if not image.strip():
        raise ValidationError("--image", "is empty: give a URL or a file path, or leave it out")
    if is_url(image):
        return image
    try:
        return str(Path(image).expanduser().absolute())
    except RuntimeError:  # "~someone/frame.png" for a user this machine does not know
        raise ValidationError("--image", f"no home directory for {image!r}") from None


def _row_json(row: RowResult) -> dict[str, Any]:
    return {
        "line": row.line,
        "outcome": row.outcome,
        "job_id": row.job_id,
        "credits": row.credits,
        "error": row.error,
        "uri": row.uri,
        "comment": row.comment,
        "note": row.note,
        "status": row.status,
    }


def _print_report(
    report: BatchReport, args: argparse.Namespace, *, budget: BudgetState | None, dry_run: bool
) -> None:
    rows = sorted(report.rows, key=lambda row: row.line)
    spending: tuple[Outcome, ...] = ("ready", "submitted", "stored", "not_stored")
    summary: dict[str, float] = {
        "total": len(rows),
        **{outcome: report.count(outcome) for outcome in _OUTCOMES if report.count(outcome)},
        "credits": report.credits(*spending),
        "unpriced": report.unpriced(*spending),
        "rate_limited": report.rate_limited,
    }
    unpriced = report.unpriced("ready")
    if args.json:
        print_json({"dry_run": dry_run, "rows": [_row_json(row) for row in rows], **summary})
        if budget is not None and dry_run:
            line = budget_line(budget, cost=summary["credits"], unpriced=unpriced)
            print(line, file=sys.stderr)
        return
    for row in rows:
        credits = "-" if row.prepared is None else _credits_text(row.credits)
        what = row.job_id or "-"
        detail = row.error or _detail(row)
        line = f"line {row.line:<5} {row.outcome:<10} {what:<32} {credits:>8}  {detail}"
        print(terminal_safe(line.rstrip()))
    counts = ", ".join(
        f"{count} {outcome.replace('_', ' ')}"
        for outcome, count in summary.items()
        if outcome in _OUTCOMES
    )
    verb = "would cost" if dry_run else "cost"
    print(f"{summary['total']} rows: {counts}; {verb} {summary['credits']:g} credits", end="")
    if summary["unpriced"]:
        print(f" and {summary['unpriced']} jobs of unknown price", end="")
    print(f"; {report.rate_limited} rate limits honoured" if report.rate_limited else "")
    if budget is not None:
        if dry_run:
            print(budget_line(budget, cost=summary["credits"], unpriced=unpriced))
        else:
            print(budget_line(budget))


def _detail(row: RowResult) -> str:
    if row.comment:
        return f"comment: {row.comment[:60]}"
    return " ".join(part for part in (row.note, row.uri) if part)


def _credits_text(credits: float | None) -> str:
    return "n/a" if credits is None else f"{credits:g}"
