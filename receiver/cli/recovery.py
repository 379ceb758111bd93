"""Commands that bring videos back: replay, reconcile, retry, notifications."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta

from receiver.cli._common import context, duration, progress
from receiver.cli.lifecycle import add_import
from receiver.config import Settings
from receiver.errors import ReceiverError, ValidationError
from receiver.terminal import terminal_safe

__all__ = ["add_recovery"]


def add_recovery(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    replay = commands.add_parser(
        "replay", help="re-run stored deliveries through the intake (after fixing a failure)"
    )
    replay.add_argument("delivery_ids", nargs="*", metavar="DELIVERY_ID")
    replay.add_argument(
        "--failed",
        action="store_true",
        help="every rejected delivery naming a job, and every delivery whose job's archive failed",
    )
    replay.add_argument("--since", type=duration, help="with --failed: only newer ones")
    replay.add_argument("--job", help="with --failed: only this job's deliveries")
    replay.add_argument("--dry-run", action="store_true", help="list what would be replayed")
    replay.add_argument("--json", action="store_true", help="print one JSON line per delivery")
    replay.set_defaults(run=_replay)

    reconcile = commands.add_parser(
        "reconcile", help="ask the provider about unfinished jobs now (what the watchdog does)"
    )
    reconcile.add_argument(
        "--older-than",
        type=duration,
        default=timedelta(0),
        help="only jobs submitted longer ago than this (default: all)",
    )
    reconcile.set_defaults(run=_reconcile)

    notifications = commands.add_parser(
        "notifications",
        help="outbound notifications: list them, or `notifications replay ID...` to resend",
    )
    notifications.add_argument("action", nargs="?", choices=["replay"])
    notifications.add_argument("ids", nargs="*", metavar="ID")
    notifications.add_argument("--failed", action="store_true", help="only those that gave up")
    notifications.add_argument("--limit", type=int, default=100)
    notifications.add_argument("--json", action="store_true", help="print JSON lines")
    notifications.set_defaults(run=_notifications)

    retry = commands.add_parser("retry", help="queue failed or expired archives again")
    retry.add_argument("job_ids", nargs="+", metavar="JOB")
    retry.set_defaults(run=_retry)

    add_import(commands)


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import replay

    if bool(args.delivery_ids) == bool(args.failed):
        raise ValidationError("replay", "give DELIVERY_IDs or --failed (one of the two)")
    if not args.failed and (args.since or args.job):
        raise ValidationError("replay", "--since and --job go with --failed")
    with context(settings) as ctx:
        ids = args.delivery_ids or list(
            replay.failed_delivery_ids(ctx, since=args.since, job_id=args.job)
        )
        if args.dry_run:
            for delivery_id in ids:
                print(delivery_id)
            print(f"{len(ids)} deliveries would be replayed", file=sys.stderr)
            return 0
        with progress(len(ids), "replaying") as bar:
            summary = replay.replay_many(ctx, ids, on_result=lambda _r: bar.update())
    for result in summary.results:
        if args.json:
            print(json.dumps(result.__dict__))
        elif result.verdict == "still_failing":
            print(
                terminal_safe(
                    f"still failing  {result.delivery_id}  job {result.job_id}: {result.reason}"
                )
            )
    print(
        f"replayed {summary.count('replayed')}, already done {summary.count('already_done')}, "
        f"still failing {summary.count('still_failing')}",
        file=sys.stderr,
    )
    return 1 if summary.failures else 0


def _reconcile(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import clock
    from receiver.watchdog import Watchdog

    with context(settings) as ctx:
        watchdog = Watchdog(ctx.db, settings, ctx.provider)
        summary = watchdog.run_once(submitted_before=clock.now() - args.older_than)
    for error in summary.errors:
        print(terminal_safe(f"error  {error}"))
    print(
        f"checked {summary.checked}, recovered {summary.recovered}, "
        f"still running {summary.still_running}, errors {len(summary.errors)}"
        + (" (rate limited: try again later)" if summary.rate_limited else "")
    )
    return 1 if summary.errors else 0


def _notifications(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import clock

    if args.action is None and args.ids:
        raise ValidationError("notifications", "IDs go with `notifications replay ID...`")
    if args.action == "replay" and not args.ids:
        raise ValidationError("notifications replay", "give the IDs of the notifications")
    with context(settings) as ctx:
        if args.action == "replay":
            with ctx.db.transaction() as conn:
                missing = [
                    nid
                    for nid in args.ids
                    if not conn.execute("resend_notification", id=nid, now=clock.to_db(clock.now()))
                ]
            for nid in missing:
                print(f"receiver: no notification {nid!r}", file=sys.stderr)
            print(f"queued {len(args.ids) - len(missing)} notification(s) to send again")
            return 1 if missing else 0
        with ctx.db.reading() as conn:
            rows = conn.fetch_all(
                "list_notifications", limit=args.limit, state="failed" if args.failed else None
            )
    for row in rows:
        if args.json:
            print(
                json.dumps(
                    {
                        key: row[key]
                        for key in (
                            "id",
                            "url",
                            "job_id",
                            "type",
                            "state",
                            "attempts",
                            "last_status",
                            "last_error",
                            "created_at",
                        )
                    }
                )
            )
        else:
            print(
                terminal_safe(
                    f"{row['id']}  {row['state']:9}  {row['type']:14}  job {row['job_id']}  "
                    f"attempts {row['attempts']}  {row['url']}  {row['last_error'] or ''}"
                )
            )
    if not rows and not args.json:
        print("no notifications")
    return 0


def _retry(settings: Settings, args: argparse.Namespace) -> int:
    from receiver.archive.retry import retry_archive

    failed = 0
    with context(settings) as ctx:
        for job_id in args.job_ids:
            try:
                retry_archive(ctx, job_id)
                print(f"queued  {job_id}")
            except ReceiverError as exc:
                failed += 1
                print(f"receiver: {exc.message}", file=sys.stderr)
    return 1 if failed else 0
