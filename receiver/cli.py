"""``receiver``: the command line. Thin: each command parses, calls one service, prints.

Settings come from the environment (see ``docs/configuration.md``) and are read once, here.
stdout carries only a command's output; logs go to stderr. Exit status: 0 success,
1 the operation failed (provider refused, job not found, ...), 2 bad usage or settings.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from receiver import logs
from receiver.config import Settings, parse_duration
from receiver.errors import ConfigError, ReceiverError, ValidationError
from receiver.lifecycle import DeliveryOutcome, JobStatus

__all__ = ["main"]

_ENV_HELP = """\
configuration (environment):
  RECEIVER_DATABASE_URL     sqlite:///var/receiver.db (default) or postgresql://...
  RECEIVER_S3_ENDPOINT_URL  S3 endpoint (empty for AWS); RECEIVER_S3_BUCKET, RECEIVER_S3_PREFIX
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION
  RECEIVER_PUBLIC_URL       https base URL the provider calls back
  RECEIVER_SECRET_KEYS      comma-separated signing keys, newest first
  EVOLINK_API_KEY, EVOLINK_BASE_URL
  RECEIVER_INSECURE=1       development only: http URLs and loopback downloads
  full list: docs/configuration.md
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        logs.configure(settings.log_level, settings.log_format)
        if settings.insecure and args.command not in {"simulator"}:
            import structlog

            structlog.get_logger("receiver").warning(
                "insecure_mode",
                message="RECEIVER_INSECURE=1: http URLs and loopback downloads are allowed. "
                "Never run like this in production.",
            )
        command: Callable[[Settings, argparse.Namespace], int] = args.run
        return command(settings, args)
    except ConfigError as exc:
        print(f"receiver: configuration error: {exc.message}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        print(f"receiver: invalid request: {exc.message}", file=sys.stderr)
        return 2
    except ReceiverError as exc:
        print(f"receiver: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="receiver",
        description="Submit AI video jobs, receive their callbacks, archive the videos to S3.",
        epilog=_ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_submit(commands)
    _add_inspection(commands)
    _add_recovery(commands)
    _add_services(commands)
    return parser


def _add_submit(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    submit = commands.add_parser("submit", help="submit a text- or image-to-video job")
    submit.add_argument("prompt", help="what the video should show (at most 2500 characters)")
    submit.add_argument("--image", metavar="URL", help="first-frame image URL (image-to-video)")
    submit.add_argument("--duration", type=int, default=5, help="seconds, 3-15 (default 5)")
    submit.add_argument("--aspect-ratio", default="16:9", help="16:9 (default), 9:16 or 1:1")
    submit.add_argument("--quality", default="720p", help="720p (default) or 1080p")
    submit.add_argument("--model", help="model id (default: Kling 3.0 Turbo for the input)")
    submit.add_argument("--negative-prompt", help="what the video should avoid")
    submit.add_argument("--sound", choices=["on", "off"], help="sound, on models that have it")
    submit.add_argument("--json", action="store_true", help="print the job as JSON")
    _add_wait_options(submit, flag=True)
    submit.set_defaults(run=_submit)

    wait = commands.add_parser(
        "wait", help="block until a job's video is stored (follows the live event stream)"
    )
    wait.add_argument("job_id", metavar="JOB")
    wait.add_argument("--json", action="store_true", help="print the outcome as JSON")
    _add_wait_options(wait, flag=False)
    wait.set_defaults(run=_wait)


def _add_wait_options(parser: argparse.ArgumentParser, *, flag: bool) -> None:
    if flag:
        parser.add_argument(
            "--wait",
            action="store_true",
            help="block until the video is stored (exit 1 if it never will be)",
        )
    parser.add_argument(
        "--download", type=Path, metavar="PATH", help="also save the stored video here"
    )
    parser.add_argument("--timeout", type=_duration, help="give up after this long, e.g. 30m")


def _add_inspection(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    jobs = commands.add_parser("jobs", help="list jobs, newest first")
    jobs.add_argument("--status", help="only jobs in this status")
    jobs.add_argument("--limit", type=int, default=50)
    jobs.add_argument("--json", action="store_true", help="print JSON lines, one job each")
    jobs.add_argument(
        "--needs-attention",
        action="store_true",
        help="only what a person must look at: failed archives, unknown statuses, overdue "
        "callbacks, and rejected deliveries that look like ours",
    )
    jobs.set_defaults(run=_jobs)

    show = commands.add_parser("show", help="one job with its asset, events and deliveries")
    show.add_argument("job_id", metavar="JOB")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=_show)

    callback_url = commands.add_parser(
        "callback-url",
        help="print a signed callback URL for jobs you submit from your own code",
        description="A callback on this URL creates the job on arrival (task id from the body, "
        "confirmed with the provider when an API key is configured). Valid for "
        "RECEIVER_TOKEN_MAX_AGE.",
    )
    callback_url.add_argument("--label", help="a name shown on the jobs it creates")
    callback_url.set_defaults(run=_callback_url)

    deliveries = commands.add_parser(
        "deliveries", help="the raw delivery log: every request to a callback route"
    )
    deliveries.add_argument("--job", help="only deliveries of this job")
    deliveries.add_argument(
        "--outcome", help="accepted, duplicate, stale, unknown_status or rejected"
    )
    deliveries.add_argument("--since", type=_duration, help="only newer ones, e.g. 30m, 24h, 7d")
    deliveries.add_argument("--limit", type=int, default=100)
    deliveries.add_argument("--json", action="store_true", help="print JSON lines")
    deliveries.set_defaults(run=_deliveries)


def _add_recovery(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    replay = commands.add_parser(
        "replay", help="re-run stored deliveries through the intake (after fixing a failure)"
    )
    replay.add_argument("delivery_ids", nargs="*", metavar="DELIVERY_ID")
    replay.add_argument(
        "--failed",
        action="store_true",
        help="every rejected delivery naming a job, and every delivery whose job's archive failed",
    )
    replay.add_argument("--since", type=_duration, help="with --failed: only newer ones")
    replay.add_argument("--job", help="with --failed: only this job's deliveries")
    replay.add_argument("--dry-run", action="store_true", help="list what would be replayed")
    replay.add_argument("--json", action="store_true", help="print one JSON line per delivery")
    replay.set_defaults(run=_replay)

    reconcile = commands.add_parser(
        "reconcile", help="ask the provider about unfinished jobs now (what the watchdog does)"
    )
    reconcile.add_argument(
        "--older-than",
        type=_duration,
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


def _add_services(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="run the receiver (and, by default, a worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-worker", action="store_true", help="receive only; archive elsewhere")
    serve.set_defaults(run=_serve)

    worker = commands.add_parser("worker", help="run an archive worker alone")
    worker.add_argument(
        "--metrics-port", type=int, help="serve Prometheus metrics on 127.0.0.1:PORT/metrics"
    )
    worker.set_defaults(run=_worker)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(run=_migrate)

    simulator = commands.add_parser("simulator", help="run the provider simulator")
    simulator.add_argument("--host", default="127.0.0.1")
    simulator.add_argument("--port", type=int, default=8010)
    simulator.add_argument("--delay", type=float, default=3.0, help="seconds until a task ends")
    simulator.add_argument(
        "--outcome", default="completed", choices=["completed", "failed", "cancelled", "unknown"]
    )
    simulator.add_argument("--video-bytes", type=int, help="pad videos to this size (bytes)")
    simulator.add_argument("--api-key", help="the only API key accepted (default: any)")
    simulator.add_argument(
        "--allow-http-callbacks",
        action="store_true",
        help="accept http and loopback callback URLs (local use)",
    )
    simulator.set_defaults(run=_simulator)

    dev = commands.add_parser("dev", help="SeaweedFS + simulator + receiver + worker, one command")
    dev.add_argument("--port", type=int, default=8000, help="receiver port (default 8000)")
    dev.add_argument("--no-demo", action="store_true", help="do not submit a demo job")
    dev.set_defaults(run=_dev)


# ── commands ──


def _context(settings: Settings) -> Any:
    from receiver.context import Context

    return Context(settings)


def _submit(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import jobs
    from receiver.providers.base import JobRequest

    request = JobRequest(
        prompt=args.prompt,
        model=args.model,
        duration=args.duration,
        aspect_ratio=args.aspect_ratio,
        quality=args.quality,
        image_url=args.image,
        negative_prompt=args.negative_prompt,
        sound=args.sound,
    )
    ctx = _context(settings)
    try:
        job = jobs.submit_job(ctx, request)
        details = jobs.get_job(ctx, job.id)
    finally:
        ctx.close()
    if args.wait or args.download:
        print(f"submitted {job.id}; waiting for its video ...", file=sys.stderr)
        return _wait_and_report(settings, job.id, args)
    _print_details(details, as_json=args.json)
    return 0


def _wait(settings: Settings, args: argparse.Namespace) -> int:
    return _wait_and_report(settings, args.job_id, args)


def _wait_and_report(settings: Settings, job_id: str, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from receiver import waiting

    on_terminal = sys.stderr.isatty()
    bar: tqdm[Any] | None = None

    def progress(event_type: str, data: dict[str, Any]) -> None:
        nonlocal bar
        if not on_terminal:
            return
        if event_type == "archive.progress":
            # Bytes archived, part by part, against the video's size when the source told it.
            if bar is None:
                bar = tqdm(
                    total=data.get("total"),
                    unit="B",
                    unit_scale=True,
                    desc="archiving",
                    file=sys.stderr,
                )
            bar.update(int(data["bytes"]) - bar.n)
            return
        status = data.get("provider_status") or ""
        print(f"  {event_type} {status}".rstrip(), file=sys.stderr)

    timeout = args.timeout.total_seconds() if args.timeout else None
    try:
        outcome = waiting.wait_for_job(settings, job_id, timeout=timeout, on_event=progress)
    finally:
        if bar is not None:
            bar.close()
    asset = outcome.job.get("asset")
    saved = None
    if outcome.stored and args.download and outcome.video_url:
        size = waiting.download(outcome.video_url, args.download)
        saved = str(args.download)
        print(f"saved {size} bytes to {saved}", file=sys.stderr)
    if args.json:
        _print_json(
            {
                "job_id": job_id,
                "stored": outcome.stored,
                "reason": outcome.reason,
                "asset": asset,
                "video_url": outcome.video_url,
                "saved_to": saved,
            }
        )
    elif outcome.stored and asset:
        print(asset["uri"])
        print(outcome.video_url or "")
    if not outcome.stored:
        print(f"receiver: job {job_id} will not be stored: {outcome.reason}", file=sys.stderr)
        return 1
    return 0


def _jobs(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import jobs, presenters

    if args.needs_attention:
        return _needs_attention(settings, args)
    if args.status is not None and args.status not in set(JobStatus):
        raise ValidationError(
            "--status", f"no such status {args.status!r}; one of " + ", ".join(JobStatus)
        )
    ctx = _context(settings)
    try:
        summaries = jobs.list_jobs(ctx, status=args.status, limit=args.limit)
    finally:
        ctx.close()
    if args.json:
        for summary in summaries:
            print(json.dumps(presenters.summary_json(summary)))
    else:
        print(presenters.text_table(summaries))
    return 0


def _needs_attention(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import jobs, presenters

    ctx = _context(settings)
    try:
        found = jobs.needs_attention(ctx, limit=args.limit)
    finally:
        ctx.close()
    if args.json:
        for job, reason in found.jobs:
            print(json.dumps({"kind": "job", **presenters.job_json(job), "reason": reason}))
        for delivery in found.rejections:
            print(json.dumps({"kind": "rejected_delivery", **presenters.delivery_json(delivery)}))
    else:
        print(presenters.text_attention(found))
    return 0


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import replay

    if bool(args.delivery_ids) == bool(args.failed):
        raise ValidationError("replay", "give DELIVERY_IDs or --failed (one of the two)")
    if not args.failed and (args.since or args.job):
        raise ValidationError("replay", "--since and --job go with --failed")
    ctx = _context(settings)
    try:
        ids = args.delivery_ids or list(
            replay.failed_delivery_ids(ctx, since=args.since, job_id=args.job)
        )
        if args.dry_run:
            for delivery_id in ids:
                print(delivery_id)
            print(f"{len(ids)} deliveries would be replayed", file=sys.stderr)
            return 0
        with _progress(len(ids), "replaying") as bar:
            summary = replay.replay_many(ctx, ids, on_result=lambda _r: bar.update())
    finally:
        ctx.close()
    for result in summary.results:
        if args.json:
            print(json.dumps(result.__dict__))
        elif result.verdict == "still_failing":
            print(f"still failing  {result.delivery_id}  job {result.job_id}: {result.reason}")
    print(
        f"replayed {summary.count('replayed')}, already done {summary.count('already_done')}, "
        f"still failing {summary.count('still_failing')}",
        file=sys.stderr,
    )
    return 1 if summary.failures else 0


def _reconcile(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import clock
    from receiver.watchdog import Watchdog

    ctx = _context(settings)
    try:
        watchdog = Watchdog(ctx.db, settings, ctx.provider)
        summary = watchdog.run_once(submitted_before=clock.now() - args.older_than)
    finally:
        ctx.close()
    for error in summary.errors:
        print(f"error  {error}")
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
    ctx = _context(settings)
    try:
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
    finally:
        ctx.close()
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
                f"{row['id']}  {row['state']:9}  {row['type']:14}  job {row['job_id']}  "
                f"attempts {row['attempts']}  {row['url']}  {row['last_error'] or ''}"
            )
    if not rows and not args.json:
        print("no notifications")
    return 0


def _retry(settings: Settings, args: argparse.Namespace) -> int:
    from receiver.archive.retry import retry_archive

    ctx = _context(settings)
    failed = 0
    try:
        for job_id in args.job_ids:
            try:
                retry_archive(ctx, job_id)
                print(f"queued  {job_id}")
            except ReceiverError as exc:
                failed += 1
                print(f"receiver: {exc.message}", file=sys.stderr)
    finally:
        ctx.close()
    return 1 if failed else 0


@contextmanager
def _progress(total: int, what: str) -> Iterator[Any]:
    """A progress bar on a terminal (stderr), nothing otherwise."""
    from tqdm import tqdm

    with tqdm(
        total=total, desc=what, unit="", file=sys.stderr, disable=not sys.stderr.isatty()
    ) as bar:
        yield bar


def _show(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import jobs

    ctx = _context(settings)
    try:
        details = jobs.get_job(ctx, args.job_id)
    finally:
        ctx.close()
    _print_details(details, as_json=args.json)
    return 0


def _callback_url(settings: Settings, args: argparse.Namespace) -> int:
    from receiver.tokens import CallbackClaims

    ctx = _context(settings)
    claims = CallbackClaims(provider="evolink", label=args.label)
    print(ctx.signer.callback_url(settings.require_public_url(), claims))
    return 0


def _deliveries(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import deliveries, presenters

    if args.outcome is not None and args.outcome not in set(DeliveryOutcome):
        raise ValidationError(
            "--outcome", f"no such outcome {args.outcome!r}; one of " + ", ".join(DeliveryOutcome)
        )
    ctx = _context(settings)
    try:
        found = deliveries.list_deliveries(
            ctx, job_id=args.job, outcome=args.outcome, since=args.since, limit=args.limit
        )
    finally:
        ctx.close()
    if args.json:
        for delivery in found:
            print(json.dumps(presenters.delivery_json(delivery)))
    else:
        print(presenters.text_deliveries(found))
    return 0


def _duration(text: str) -> timedelta:
    try:
        return timedelta(seconds=parse_duration(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from receiver.archive.worker import ArchiveWorker
    from receiver.web import create_app
    from receiver.web.server import serve

    ctx = _context(settings)
    worker = (
        None
        if args.no_worker
        else ArchiveWorker(ctx.db, ctx.store, settings, provider_for=ctx.provider)
    )
    try:
        serve(create_app(ctx, worker=worker), settings, host=args.host, port=args.port)
    finally:
        ctx.close()
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from receiver.archive.runner import run_worker

    ctx = _context(settings)
    try:
        run_worker(ctx, metrics_port=args.metrics_port)
    finally:
        ctx.close()
    return 0


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from receiver.store.database import open_database
    from receiver.store.migrate import migrate

    db = open_database(settings.database_url)
    try:
        applied = migrate(db)
    finally:
        db.close()
    print(f"applied {len(applied)} migration(s)" if applied else "the schema is up to date")
    return 0


def _simulator(_settings: Settings, args: argparse.Namespace) -> int:
    from receiver import simulator

    config = simulator.SimulatorConfig(
        delay=args.delay,
        outcome=args.outcome,
        video_bytes=args.video_bytes,
        api_key=args.api_key,
        allow_http_callbacks=args.allow_http_callbacks,
        allow_private_callbacks=args.allow_http_callbacks,
    )
    simulator.serve(config, args.host, args.port)
    return 0


def _dev(settings: Settings, args: argparse.Namespace) -> int:
    from receiver.dev import run_dev

    return run_dev(settings, port=args.port, demo=not args.no_demo)


def _print_details(details: Any, *, as_json: bool) -> None:
    from receiver import presenters

    if as_json:
        _print_json(presenters.details_json(details))
    else:
        print(presenters.text_details(details))


def _print_json(document: Any) -> None:
    print(json.dumps(document, indent=2))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
