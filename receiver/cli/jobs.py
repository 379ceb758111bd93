"""Commands about jobs: submit, wait, list, show, callback URLs, the delivery log."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from receiver import clock
from receiver.cli._common import context, duration, positive, print_details, print_json
from receiver.cli.costs import add_costs
from receiver.cli.lifecycle import add_delete
from receiver.compat.stdlib_internals import SubParsers
from receiver.config import Settings
from receiver.errors import ValidationError
from receiver.lifecycle import DeliveryOutcome, JobStatus
from receiver.providers import PROVIDER_NAMES

if TYPE_CHECKING:
    from receiver.context import Context
    from receiver.submission.spec import PreparedJob

__all__ = ["add_inspection", "add_submit"]


def add_submit(commands: SubParsers) -> None:
    submit = commands.add_parser(
        "submit",
        help="submit a text- or image-to-video job, or a batch of them (--from)",
        description="Submit one job, or with --from FILE one job per row of a CSV or JSON "
        "Lines file (columns: prompt, shots, image, duration, aspect_ratio, quality, model, "
        "negative_prompt, sound; the options below fill the columns a row leaves empty).",
    )
    submit.add_argument(
        "prompt",
        nargs="?",
        default="",
        help="what the video should show (at most 2500 characters, shots included)",
    )
    submit.add_argument(
        "--image",
        metavar="URL|FILE",
        help="first frame (image-to-video): a URL, or a local jpg/png uploaded to the bucket",
    )
    submit.add_argument(
        "--shot",
        action="append",
        default=[],
        metavar="SECONDS:TEXT",
        help="one shot of a multi-shot video (repeat, up to 6; they add up to --duration)",
    )
    submit.add_argument(
        "--duration", type=int, help="seconds, 3-15 (default: the shots' total, else 5)"
    )
    submit.add_argument("--aspect-ratio", help="16:9 (default), 9:16 or 1:1")
    submit.add_argument(
        "--quality", help="the model's quality (Kling 3.0: 720p, the default, or 1080p at 1.25x)"
    )
    submit.add_argument(
        "--model",
        help="model id (default: Kling 3.0 Turbo on EvoLink, kling-v3 on Kling); "
        "`receiver models` lists EvoLink's",
    )
    submit.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another field of the model's request, under EvoLink's name (repeat); VALUE is "
        "JSON or text, a dotted KEY is nested: --param n=2 --param model_params.web_search=true",
    )
    submit.add_argument(
        "--allow-unknown-model",
        action="store_true",
        help="send a model `receiver models` does not list: unchecked, and unpriced (so "
        "refused under RECEIVER_MAX_CREDITS_PER_DAY)",
    )
    submit.add_argument(
        "--provider",
        choices=PROVIDER_NAMES,
        default="evolink",
        help="the API that makes the video: EvoLink (default) or Kling's own (KLING_* settings)",
    )
    submit.add_argument("--negative-prompt", help="what the video should avoid")
    submit.add_argument("--sound", choices=["on", "off"], help="sound, on models that have it")
    submit.add_argument("--json", action="store_true", help="print the job as JSON")
    submit.add_argument(
        "--dry-run",
        action="store_true",
        help="check everything and print what it would cost in credits; submit nothing",
    )
    submit.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="FILE",
        help="submit one job per row of a CSV or JSON Lines (.jsonl) file",
    )
    submit.add_argument(
        "--concurrency",
        type=positive,
        default=4,
        metavar="N",
        help="with --from: submissions in flight at once (default 4)",
    )
    submit.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="submit once per KEY: the same KEY again prints the job it made, sends nothing "
        "(refused for a different request); with --from, names the batch instead of its path",
    )
    _add_wait_options(submit, flag=True)
    submit.set_defaults(run=_submit)

    wait = commands.add_parser(
        "wait",
        help="block until jobs' videos are stored (follows the live event stream)",
        description="Wait for each JOB (or every pending job) until its video is stored or "
        "will not be. Exit 0 when all are stored, 1 when one is not or on --timeout, "
        "130 on Ctrl-C (the jobs go on). With several jobs, --json prints one line each.",
    )
    wait.add_argument("job_ids", metavar="JOB", nargs="*", help="the jobs to wait for")
    wait.add_argument(
        "--all-pending", action="store_true", help="every job whose video may still come"
    )
    wait.add_argument("--json", action="store_true", help="print the outcome as JSON")
    _add_wait_options(wait, flag=False)
    wait.set_defaults(run=_wait)

    download = commands.add_parser(
        "download",
        help="save a job's stored video (checked against its SHA-256)",
        description="Save JOB's stored video as DIR/JOB.mp4 (or at --to FILE); a download "
        "that was interrupted continues where it stopped. Prints the path.",
    )
    download.add_argument("job_id", metavar="JOB", help="the job whose video to save")
    download.add_argument(
        "--to",
        default=".",
        metavar="DIR|FILE",
        help="where to save it (default: the current directory)",
    )
    download.add_argument(
        "--json", action="store_true", help="print {path, size_bytes, sha256} as JSON"
    )
    download.set_defaults(run=_download)


def _add_wait_options(parser: argparse.ArgumentParser, *, flag: bool) -> None:
    if flag:
        parser.add_argument(
            "--wait",
            action="store_true",
            help="block until the video is stored (exit 1 if it never will be)",
        )
    parser.add_argument(
        "--download",
        metavar="PATH",  # a string: a Path would drop the trailing / that means a directory
        help="also save the stored video here: a file, or a directory (DIR/ is made if "
        "missing) to hold JOB.mp4; checked against its SHA-256",
    )
    parser.add_argument("--timeout", type=duration, help="give up after this long, e.g. 30m")


def add_inspection(commands: SubParsers) -> None:
    jobs = commands.add_parser(
        "jobs",
        help="list jobs, newest first",
        description="List jobs, newest first. When more match than --limit shows, stderr "
        'says how many ("50 of 1234 shown").',
    )
    jobs.add_argument("--status", help="only jobs in this status (" + ", ".join(JobStatus) + ")")
    jobs.add_argument("--model", help="only jobs of this model")
    jobs.add_argument(
        "--since", type=duration, help="only jobs created this recently, e.g. 24h, 7d"
    )
    jobs.add_argument(
        "--limit", type=positive, default=50, metavar="N", help="show at most N (default 50)"
    )
    jobs.add_argument("--json", action="store_true", help="print JSON lines, one job each")
    jobs.add_argument(
        "--needs-attention",
        action="store_true",
        help="only what a person must look at: failed archives, unknown statuses, overdue "
        "callbacks, and rejected deliveries that look like ours",
    )
    jobs.set_defaults(run=_jobs)

    show = commands.add_parser("show", help="one job with its asset, events and deliveries")
    show.add_argument("job_id", metavar="JOB", help="the job's id (job_...)")
    show.add_argument(
        "--json", action="store_true", help="print the job document (as GET /v1/jobs/{id})"
    )
    show.set_defaults(run=_show)

    callback_url = commands.add_parser(
        "callback-url",
        help="print a signed callback URL for jobs you submit from your own code",
        description="A callback on this URL creates the job on arrival (task id from the body, "
        "confirmed with the provider when an API key is configured). Valid for "
        "RECEIVER_TOKEN_MAX_AGE.",
    )
    callback_url.add_argument("--label", help="a name shown on the jobs it creates")
    callback_url.add_argument(
        "--provider", choices=PROVIDER_NAMES, default="evolink", help="whose callbacks it takes"
    )
    callback_url.add_argument(
        "--json", action="store_true", help="print {callback_url, provider, label} as JSON"
    )
    callback_url.set_defaults(run=_callback_url)

    deliveries = commands.add_parser(
        "deliveries",
        help="the raw delivery log: every request to a callback route",
        description="List the delivery log, newest first; `deliveries show ID` prints one "
        "delivery as it was kept: its headers (secrets redacted on arrival) and its body.",
    )
    deliveries.add_argument(
        "action", nargs="?", choices=["show"], help="show: one delivery with headers and body"
    )
    deliveries.add_argument(
        "ids", nargs="*", metavar="ID", help="with show: the deliveries' ids (dlv_...)"
    )
    deliveries.add_argument("--job", help="only deliveries of this job")
    deliveries.add_argument("--outcome", help="only this outcome: " + ", ".join(DeliveryOutcome))
    deliveries.add_argument("--since", type=duration, help="only newer ones, e.g. 30m, 24h, 7d")
    deliveries.add_argument(
        "--limit", type=positive, default=100, metavar="N", help="show at most N (default 100)"
    )
    deliveries.add_argument(
        "--json", action="store_true", help="print JSON lines (with show: one document each)"
    )
    deliveries.set_defaults(run=_deliveries)

    add_costs(commands)
    add_delete(commands)


def _submit(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import jobs, waiting
    from receiver.cli.batches import run_batch
    from receiver.cli.models import parse_params
    from receiver.submission.idempotency import client_key
    from receiver.submission.shots import parse_shot
    from receiver.submission.spec import JobSpec, prepare, submit_once

    if args.source is not None:
        if args.param or args.allow_unknown_model:
            raise ValidationError(
                "--param", "--param and --allow-unknown-model apply to one job, not to --from"
            )
        return run_batch(settings, args)
    spec = JobSpec(
        prompt=args.prompt,
        shots=tuple(parse_shot(shot) for shot in args.shot),
        image=args.image,
        duration=args.duration,
        aspect_ratio=args.aspect_ratio,
        quality=args.quality,
        model=args.model,
        negative_prompt=args.negative_prompt,
        sound=args.sound,
        params=parse_params(args.param),
        allow_unknown_model=args.allow_unknown_model,
    )
    with context(settings) as ctx:
        prepared = prepare(ctx, spec, provider_name=args.provider)
        if args.dry_run:
            return _dry_run(ctx, prepared, as_json=args.json)
        if args.wait or args.download:
            # Before paying: the API must answer and take our token, the target be writable.
            several = _may_make_several_files(prepared)
            waiting.preflight(settings, download=args.download, several_results=several)
        key = None
        if args.idempotency_key is not None:
            key = client_key(args.idempotency_key, prepared, field="--idempotency-key")
        submitted = submit_once(ctx, prepared, key=key)
        job = submitted.job
        if submitted.replayed:
            print(f"idempotency key seen before: {job.id} (nothing sent)", file=sys.stderr)
        details = jobs.get_job(ctx, job.id)
    if args.wait or args.download:
        print(f"submitted {job.id}; waiting for its video ...", file=sys.stderr)
        return _wait_and_report(settings, [job.id], args, submitted=True)
    print_details(details, as_json=args.json)
    return 0


def _may_make_several_files(prepared: PreparedJob) -> bool:
    """Whether the task may end with several files (so ``--download`` must be a directory):
    ``n`` above 1, or a model that makes several by itself (Suno's songs, Midjourney's
    grids)."""
    request = prepared.request
    count = request.params.get("n", 1)
    several_by_model = (request.model or "").startswith(("suno-", "mj-"))
    return several_by_model or (isinstance(count, int) and count > 1)


def _dry_run(ctx: Context, prepared: PreparedJob, *, as_json: bool) -> int:
    from receiver.cli.costs import budget_line, budget_state, price_line

    budget = budget_state(ctx)
    fits = budget is None or budget.fits(prepared.credits)
    if as_json:
        print_json(
            {
                "dry_run": True,
                "model": prepared.request.model,
                "duration": prepared.request.duration,
                "quality": prepared.request.quality,
                "prompt": prepared.request.prompt,
                "provider": prepared.provider,
                # A catalogue model's body fields (empty for the named fields above).
                "params": dict(prepared.request.params),
                "credits": prepared.credits,
                "budget": budget.as_json() if budget else None,
                "within_budget": fits,
            }
        )
    else:
        print(price_line(prepared))
        if budget is not None:
            unpriced = int(prepared.credits is None)
            print(budget_line(budget, cost=prepared.credits, unpriced=unpriced))
    return 0 if fits else 1


def _wait(settings: Settings, args: argparse.Namespace) -> int:
    if bool(args.job_ids) == bool(args.all_pending):
        raise ValidationError("wait", "name the jobs to wait for, or give --all-pending")
    return _wait_and_report(settings, args.job_ids, args, all_pending=args.all_pending)


def _wait_and_report(
    settings: Settings,
    job_ids: list[str],
    args: argparse.Namespace,
    *,
    submitted: bool = False,
    all_pending: bool = False,
) -> int:
    from receiver import waiting

    request = waiting.WaitRequest(
        job_ids=job_ids,
        timeout=args.timeout.total_seconds() if args.timeout else None,
        download=args.download,
        as_json=args.json,
        submitted=submitted,
    )
    return waiting.wait_command(settings, request, all_pending=all_pending)


def _download(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import waiting

    return waiting.download_command(settings, args.job_id, args.to, as_json=args.json)


def _jobs(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import jobs, presenters

    if args.needs_attention:
        if args.status or args.model or args.since:
            raise ValidationError(
                "--needs-attention", "goes alone: --status, --model and --since do not apply"
            )
        return _needs_attention(settings, args)
    if args.status is not None and args.status not in set(JobStatus):
        raise ValidationError(
            "--status", f"no such status {args.status!r}; one of " + ", ".join(JobStatus)
        )
    since = clock.now() - args.since if args.since is not None else None
    filters = {"status": args.status, "model": args.model, "since": since}
    with context(settings) as ctx:
        summaries = jobs.list_jobs(ctx, limit=args.limit, **filters)
        total = jobs.count_jobs(ctx, **filters) if len(summaries) == args.limit else len(summaries)
    if args.json:
        for summary in summaries:
            print(json.dumps(presenters.summary_json(summary)))
    else:
        print(presenters.text_table(summaries))
    if total > len(summaries):
        # stderr: stdout stays the list itself, so `| jq` and `| wc -l` keep working.
        print(f"{len(summaries)} of {total} shown (--limit N for more)", file=sys.stderr)
    return 0


def _needs_attention(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import jobs, presenters

    with context(settings) as ctx:
        found = jobs.needs_attention(ctx, limit=args.limit)
    if args.json:
        for job, reason in found.jobs:
            print(json.dumps({"kind": "job", **presenters.job_json(job), "reason": reason}))
        for delivery in found.rejections:
            print(json.dumps({"kind": "rejected_delivery", **presenters.delivery_json(delivery)}))
    else:
        print(presenters.text_attention(found))
    return 0


def _show(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import jobs

    with context(settings) as ctx:
        details = jobs.get_job(ctx, args.job_id)
    print_details(details, as_json=args.json)
    return 0


def _callback_url(settings: Settings, args: argparse.Namespace) -> int:
    from receiver.tokens import CallbackClaims

    ctx = context(settings)
    claims = CallbackClaims(provider=args.provider, label=args.label)
    url = ctx.signer.callback_url(settings.require_public_url(), claims)
    if args.json:
        print_json({"callback_url": url, "provider": args.provider, "label": args.label})
    else:
        print(url)
    return 0


def _deliveries(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import deliveries, presenters

    if args.action == "show":
        return _show_deliveries(settings, args)
    if args.ids:
        raise ValidationError("deliveries", "IDs go with `deliveries show ID...`")
    if args.outcome is not None and args.outcome not in set(DeliveryOutcome):
        raise ValidationError(
            "--outcome", f"no such outcome {args.outcome!r}; one of " + ", ".join(DeliveryOutcome)
        )
    with context(settings) as ctx:
        found = deliveries.list_deliveries(
            ctx, job_id=args.job, outcome=args.outcome, since=args.since, limit=args.limit
        )
    if args.json:
        for delivery in found:
            print(json.dumps(presenters.delivery_json(delivery)))
    else:
        print(presenters.text_deliveries(found))
    return 0


def _show_deliveries(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import deliveries, presenters
    from receiver.errors import NotFoundError

    if not args.ids:
        raise ValidationError("deliveries show", "give the IDs of the deliveries")
    if args.job or args.outcome or args.since:
        raise ValidationError(
            "deliveries show", "--job, --outcome and --since list; show takes IDs"
        )
    missing = 0
    with context(settings) as ctx:
        for delivery_id in args.ids:
            try:
                stored = deliveries.get_delivery(ctx, delivery_id)
            except NotFoundError as exc:
                missing += 1
                print(f"receiver: {presenters.terminal_safe(exc.message)}", file=sys.stderr)
                continue
            if args.json:
                print(json.dumps(presenters.stored_delivery_json(stored)))
            else:
                print(presenters.text_stored_delivery(stored))
    return 1 if missing else 0
