"""Commands that bring videos back: replay, reconcile, retry, notifications."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta

from receiver.cli._common import context, duration, positive, print_json, progress
from receiver.cli.lifecycle import add_import
from receiver.compat.stdlib_internals import SubParsers
from receiver.config import Settings
from receiver.errors import ReceiverError, ValidationError
from receiver.terminal import terminal_safe

__all__ = ["add_recovery"]


def add_recovery(commands: SubParsers) -> None:
    replay = commands.add_parser(
        "replay", help="re-run stored deliveries through the intake (after fixing a failure)"
    )
    replay.add_argument(
        "delivery_ids", nargs="*", metavar="DELIVERY_ID", help="deliveries to run again (dlv_...)"
    )
    replay.add_argument(
        "--failed",
        action="store_true",
        help="every rejected delivery naming a job, and every delivery whose job's archive failed",
    )
    replay.add_argument("--since", type=duration, help="with --failed: only newer ones")
    replay.add_argument("--job", help="with --failed: only this job's deliveries")
    replay.add_argument("--dry-run", action="store_true", help="list what would be replayed")
    replay.add_argument(
        "--json",
        action="store_true",
        help="print one JSON line per delivery (with --dry-run too: what would be replayed)",
    )
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
    reconcile.add_argument(
        "--json",
        action="store_true",
        help="print {checked, recovered, still_running, errors, rate_limited} as JSON",
    )
    reconcile.set_defaults(run=_reconcile)

    notifications = commands.add_parser(
        "notifications",
        help="outbound notifications: list them, or `notifications replay ID...` to resend",
    )
    notifications.add_argument(
        "action", nargs="?", choices=["replay"], help="replay: send these notifications again"
    )
    notifications.add_argument(
        "ids", nargs="*", metavar="ID", help="with replay: the notifications' ids"
    )
    notifications.add_argument("--failed", action="store_true", help="only those that gave up")
    notifications.add_argument(
        "--limit", type=positive, default=100, metavar="N", help="show at most N (default 100)"
    )
    notifications.add_argument(
        "--json", action="store_true", help="print JSON lines (with replay: one per queued ID)"
    )
    notifications.set_defaults(run=_notifications)

    retry = commands.add_parser("retry", help="queue failed or expired archives again")
    retry.add_argument("job_ids", nargs="+", metavar="JOB", help="the jobs to archive again")
    retry.add_argument("--json", action="store_true", help="print one JSON line per queued job")
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
                print(
                    json.dumps({"delivery_id": delivery_id, "would_replay": True})
                    if args.json
                    else delivery_id
                )
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
    if args.json:
        print_json(
            {
                "checked": summary.checked,
                "recovered": summary.recovered,
                "still_running": summary.still_running,
                "errors": [str(error) for error in summary.errors],
                "rate_limited": summary.rate_limited,
            }
        )
        return 1 if summary.errors else 0
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
    from receiver.store.notifications import Notifications

    if args.action is None and args.ids:
        raise ValidationError("notifications", "IDs go with `notifications replay ID...`")
    if args.action == "replay" and not args.ids:
        raise ValidationError("notifications replay", "give the IDs of the notifications")
    with context(settings) as ctx:
        if args.action == "replay":
            with ctx.db.transaction() as conn:
                notifications = Notifications(conn)
                missing = [
                    nid for nid in args.ids if not notifications.resend(nid, now=clock.now())
                ]
            for nid in missing:
                print(f"receiver: no notification {nid!r}", file=sys.stderr)
            if args.json:
                for nid in args.ids:
                    if nid not in missing:
                        print(json.dumps({"id": nid, "queued": True}))
            else:
                print(f"queued {len(args.ids) - len(missing)} notification(s) to send again")
            return 1 if missing else 0
        with ctx.db.reading() as conn:
            listed = Notifications(conn).newest(
                state="failed" if args.failed else None, limit=args.limit
            )
    for notification in listed:
        if args.json:
            print(
                json.dumps(
                    {
                        "id": notification.id,
                        "url": notification.url,
                        "job_id": notification.job_id,
                        "type": notification.type,
                        "state": notification.state,
                        "attempts": notification.attempts,
                        "last_status": notification.last_status,
                        "last_error": notification.last_error,
                        "created_at": clock.to_db(notification.created_at),
                    }
                )
            )
        else:
            print(
                terminal_safe(
                    f"{notification.id}  {notification.state:9}  {notification.type:14}  "
                    f"job {notification.job_id}  attempts {notification.attempts}  "
                    f"{notification.url}  {notification.last_error or ''}"
                )
            )
    if not listed and not args.json:
        print("no notifications")
    return 0


def _retry(settings: Settings, args: argparse.Namespace) -> int:
    from receiver.archive.retry import retry_archive

    failed = 0
    with context(settings) as ctx:
        for job_id in args.job_ids:
            try:
                retry_archive(ctx, job_id)
                print(
                    json.dumps({"job_id": job_id, "queued": True})
                    if args.json
                    else f"queued  {job_id}"
                )
            except ReceiverError as exc:
                failed += 1
                print(f"receiver: {exc.message}", file=sys.stderr)
    return 1 if failed else 0
