"""Commands about the life of stored assets: ``delete``, ``deletions`` and ``import``."""

from __future__ import annotations

import argparse
import json
import sys

from receiver.cli._common import context, positive
from receiver.compat.stdlib_internals import SubParsers
from receiver.config import Settings
from receiver.errors import ReceiverError
from receiver.providers import PROVIDER_NAMES
from receiver.terminal import terminal_safe

__all__ = ["add_delete", "add_import"]


def add_delete(commands: SubParsers) -> None:
    delete = commands.add_parser(
        "delete",
        help="delete settled jobs: their stored video and their records (audited)",
        description="Delete each JOB's video from the bucket, then the job and its events and "
        "deliveries. Only settled jobs (stored, failed, cancelled, expired, submit_failed) go. "
        "An audit row stays (receiver deletions): who, when, why, and what the job cost, "
        "which still counts against the day's budget.",
    )
    delete.add_argument("job_ids", nargs="+", metavar="JOB", help="the settled jobs to delete")
    delete.add_argument("--reason", help="why, for the audit")
    delete.add_argument("--json", action="store_true", help="print one JSON line per job")
    delete.set_defaults(run=_delete)

    deletions = commands.add_parser(
        "deletions", help="the audit of deleted jobs: who deleted what, when, and why"
    )
    deletions.add_argument(
        "--limit", type=positive, default=100, metavar="N", help="show at most N (default 100)"
    )
    deletions.add_argument("--json", action="store_true", help="print JSON lines")
    deletions.set_defaults(run=_deletions)


def add_import(commands: SubParsers) -> None:
    imports = commands.add_parser(
        "import",
        help="adopt tasks submitted elsewhere: ask the provider, archive their videos",
        description="Ask the provider about each TASK_ID (submitted by other code, or from "
        "the provider's own console) and take it in as a job: a completed task's video is "
        "archived while its link lives, a running one followed until it ends.",
    )
    imports.add_argument(
        "task_ids", nargs="+", metavar="TASK_ID", help="the provider's task ids to adopt"
    )
    imports.add_argument(
        "--provider", choices=PROVIDER_NAMES, default="evolink", help="whose task it is"
    )
    imports.add_argument("--json", action="store_true", help="print one JSON line per task")
    imports.set_defaults(run=_import)


def _delete(settings: Settings, args: argparse.Namespace) -> int:
    from receiver.deletion import delete_job, operator

    failed = 0
    by = operator()
    with context(settings) as ctx:
        for job_id in args.job_ids:
            try:
                deleted = delete_job(ctx, job_id, by=by, reason=args.reason)
            except ReceiverError as exc:
                failed += 1
                print(f"receiver: {terminal_safe(exc.message)}", file=sys.stderr)
                continue
            if args.json:
                print(json.dumps({"deleted": True, **deleted.__dict__, "by": by}))
            else:
                what = f" and {deleted.object_uri}" if deleted.object_uri else ""
                print(terminal_safe(f"deleted {job_id} ({deleted.status}){what}"))
    return 1 if failed else 0


def _deletions(settings: Settings, args: argparse.Namespace) -> int:
    from receiver.deletion import list_deletions

    with context(settings) as ctx:
        rows = list_deletions(ctx, limit=args.limit)
    for row in rows:
        if args.json:
            print(json.dumps(row))
            continue
        print(
            terminal_safe(
                f"{row['deleted_at']}  {row['job_id']}  {row['status']:13}  by {row['deleted_by']}"
                + (f"  ({row['reason']})" if row["reason"] else "")
                + (f"  {row['object_uri']}" if row["object_uri"] else "")
            )
        )
    if not rows and not args.json:
        print("no deletions")
    return 0


def _import(settings: Settings, args: argparse.Namespace) -> int:
    from receiver.importing import import_task

    failed = 0
    with context(settings) as ctx:
        for task_id in args.task_ids:
            try:
                imported = import_task(ctx, task_id, provider_name=args.provider)
            except ReceiverError as exc:
                failed += 1
                print(f"receiver: task {terminal_safe(task_id)}: {exc.message}", file=sys.stderr)
                continue
            if args.json:
                print(json.dumps(imported.__dict__))
                continue
            verb = "imported" if imported.created else "known already as"
            line = f"{verb} {imported.job_id}  task {imported.task_id}  {imported.status}"
            if imported.archive_deadline:
                line += f"; archiving (its link lives until {imported.archive_deadline})"
            print(terminal_safe(line))
    return 1 if failed else 0
