"""How jobs, assets and deliveries look from outside: JSON for machines, lines for people.

One place, so ``receiver show --json`` and the HTTP API print the same document.

Much of what these show comes from outside: prompts, the provider's statuses and error text,
rejection reasons, codec names read from a downloaded file. The JSON documents keep it
exact (JSON escapes control characters itself); the text for a terminal passes every line
through :func:`terminal_safe`, so an ``ESC [2J`` in a provider's error message is printed as
``\\x1b[2J`` instead of clearing the screen of whoever runs ``receiver show``.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from receiver.jobs import Attention, JobDetails, JobSummary
from receiver.store.records import Asset, Delivery, Event, Job
from receiver.terminal import terminal_safe

if TYPE_CHECKING:
    from receiver.deliveries import StoredDelivery

__all__ = [
    "asset_json",
    "delivery_json",
    "details_json",
    "job_json",
    "stored_delivery_json",
    "summary_json",
    "terminal_safe",
    "text_attention",
    "text_deliveries",
    "text_details",
    "text_stored_delivery",
    "text_table",
]


def _lines(lines: Iterable[str]) -> str:
    """The text output: each line made :func:`terminal_safe`, joined."""
    return "\n".join(terminal_safe(line) for line in lines)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def job_json(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "provider": job.provider,
        "task_id": job.task_id,
        "status": job.status.value,
        "provider_status": job.provider_status,
        "model": job.model,
        "prompt": job.prompt,
        "params": job.params,
        "progress": job.progress,
        "error": {"code": job.error_code, "message": job.error_message}
        if job.error_code or job.error_message
        else None,
        "attention": job.attention,
        "estimated_seconds": job.estimated_seconds,
        "credits_reserved": job.credits_reserved,
        "credits_estimated": job.credits_estimated,
        "created_at": _iso(job.created_at),
        "submitted_at": _iso(job.submitted_at),
        "finished_at": _iso(job.finished_at),
        "stored_at": _iso(job.stored_at),
        "updated_at": _iso(job.updated_at),
    }


def asset_json(asset: Asset | None) -> dict[str, Any] | None:
    if asset is None:
        return None
    return {
        "uri": asset.uri,
        "result_index": asset.result_index,
        "bucket": asset.bucket,
        "key": asset.object_key,
        "size_bytes": asset.size_bytes,
        "sha256": asset.sha256,
        "content_type": asset.content_type,
        "stored_at": _iso(asset.stored_at),
        "duration_seconds": asset.duration_seconds,
        "width": asset.width,
        "height": asset.height,
        "codec": asset.codec,
    }


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "source": delivery.source,
        "outcome": delivery.outcome.value,
        "reason": delivery.reason,
        "provider_status": delivery.provider_status,
        "client_addr": delivery.client_addr,
        "body_size": delivery.body_size,
        "received_at": _iso(delivery.received_at),
    }


def stored_delivery_json(stored: StoredDelivery) -> dict[str, Any]:
    """A delivery as kept: the body as text when it is UTF-8, else in base64."""
    delivery = stored.delivery
    text = _utf8(stored.body)
    return {
        **delivery_json(delivery),
        "provider": delivery.provider,
        "job_id": delivery.job_id,
        "task_id": delivery.task_id,
        "headers": stored.headers,
        "body": text,
        "body_base64": None if text is not None else base64.b64encode(stored.body).decode(),
        "body_complete": stored.body_complete,
    }


def _utf8(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def event_json(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "type": event.type,
        "data": event.data,
        "created_at": _iso(event.created_at),
    }


def summary_json(summary: JobSummary) -> dict[str, Any]:
    return {**job_json(summary.job), "asset": asset_json(summary.asset)}


def details_json(details: JobDetails) -> dict[str, Any]:
    """A job with every stored file (``asset`` is the first, as it was the only one)."""
    assets = details.assets or ([details.asset] if details.asset else [])
    return {
        **job_json(details.job),
        "asset": asset_json(details.asset),
        "assets": [asset_json(asset) for asset in assets],
        "result_data": details.job.result_data,
        "deliveries": [delivery_json(d) for d in details.deliveries],
        "events": [event_json(e) for e in details.events],
    }


def _size(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def text_table(summaries: list[JobSummary]) -> str:
    if not summaries:
        return 'no jobs yet: submit one with  receiver submit "a prompt"'
    rows: list[tuple[str, ...]] = [("JOB", "STATUS", "MODEL", "DUR", "SIZE", "CREATED", "PROMPT")]
    for s in summaries:
        # Escaped before measuring, so that the columns line up with what is printed.
        prompt = terminal_safe(s.job.prompt)
        prompt = prompt if len(prompt) <= 40 else prompt[:39] + "…"
        status = s.job.status.value + (" !" if s.job.attention else "")
        cells = (
            s.job.id,
            status,
            s.job.model,
            f"{s.job.params.get('duration', '-')}s",
            _size(s.asset.size_bytes if s.asset else None),
            s.job.created_at.strftime("%Y-%m-%d %H:%M"),
        )
        rows.append((*map(terminal_safe, cells), prompt))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return _lines(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in rows
    )


def text_deliveries(deliveries: list[Delivery]) -> str:
    if not deliveries:
        return "no deliveries match"
    rows: list[tuple[str, ...]] = [
        ("RECEIVED", "DELIVERY", "JOB", "SOURCE", "STATUS", "OUTCOME", "REASON")
    ]
    rows += [
        tuple(
            terminal_safe(cell)
            for cell in (
                d.received_at.strftime("%Y-%m-%d %H:%M:%S"),
                d.id,
                d.job_id or "-",
                d.source,
                d.provider_status or "-",
                d.outcome.value,
                d.reason or "",
            )
        )
        for d in deliveries
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return _lines(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in rows
    )


def text_stored_delivery(stored: StoredDelivery) -> str:
    d = stored.delivery
    lines = [
        f"delivery  {d.id}",
        f"received  {_iso(d.received_at)}  from {d.client_addr or '-'}  ({d.source})",
        f"outcome   {d.outcome.value}" + (f"  ({d.reason})" if d.reason else ""),
        f"job       {d.job_id or '-'}  task {d.task_id or '-'}  provider {d.provider}",
        "headers",
        *(f"  {name}: {value}" for name, value in sorted(stored.headers.items())),
    ]
    kept = f"{len(stored.body)} of {d.body_size} bytes kept" if not stored.body_complete else ""
    lines.append(f"body      {d.body_size} bytes" + (f" ({kept})" if kept else ""))
    lines += _body_lines(stored.body)
    return _lines(lines)


def _body_lines(body: bytes) -> list[str]:
    """JSON indented, other UTF-8 text as it is, anything else said to be binary."""
    text = _utf8(body)
    if text is None:
        return ["  (not UTF-8 text: `--json` gives it in base64)"]
    with contextlib.suppress(ValueError):  # not JSON: shown as it came
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    return ["  " + line for line in text.splitlines()]


def text_attention(attention: Attention) -> str:
    if not attention.jobs and not attention.rejections:
        return "nothing needs attention"
    lines = []
    if attention.jobs:
        lines.append("jobs")
        lines += [f"  {job.id}  {job.status.value:10}  {reason}" for job, reason in attention.jobs]
    if attention.rejections:
        lines.append("rejected deliveries that look like ours (replay them once fixed)")
        lines += [
            f"  {d.id}  job {d.job_id or '-'}  task {d.task_id or '-'}  {d.reason}"
            for d in attention.rejections
        ]
    return _lines(lines)


def text_details(details: JobDetails) -> str:
    job = details.job
    lines = [
        f"job       {job.id}",
        f"status    {job.status.value}"
        + (f"  (provider: {job.provider_status})" if job.provider_status else ""),
        f"provider  {job.provider}  task {job.task_id or '-'}",
        f"model     {job.model}",
        f"prompt    {job.prompt}",
        f"credits   {_credits(job)}",
        f"created   {_iso(job.created_at)}",
    ]
    if job.error_code or job.error_message:
        lines.append(f"error     {job.error_code or ''} {job.error_message or ''}".rstrip())
    if job.attention:
        lines.append(f"attention {job.attention}")
    assets = details.assets or ([details.asset] if details.asset else [])
    for a in assets:
        # One file: the lines as ever; several: each file's lines, numbered by its result.
        number = f"#{a.result_index} " if len(assets) > 1 else ""
        lines += [
            f"asset     {number}{a.uri}",
            f"size      {a.size_bytes} bytes ({_size(a.size_bytes)})",
            f"sha256    {a.sha256}",
            f"{_kind_label(a):<9} {_video_facts(a)}",
            f"stored    {_iso(a.stored_at)}",
        ]
    if job.result_data is not None:
        lines.append(f"result    {json.dumps(job.result_data, ensure_ascii=False)}")
    if details.events:
        lines.append("events")
        lines += [f"  {_iso(e.created_at)}  #{e.seq}  {e.type}" for e in details.events]
    if details.deliveries:
        lines.append("deliveries")
        lines += [
            f"  {_iso(d.received_at)}  {d.source:9}  {d.provider_status or '-':10}  "
            f"{d.outcome.value}" + (f"  ({d.reason})" if d.reason else "")
            for d in details.deliveries
        ]
    return _lines(lines)


def _credits(job: Job) -> str:
    """What the provider reserved, else our estimate (said so), else that no price is known."""
    if job.credits_reserved is not None:
        return f"{job.credits_reserved:g} (reserved by the provider)"
    if job.credits_estimated is not None:
        return f"{job.credits_estimated:g} (estimated; the provider has not said yet)"
    return "unknown (no price for this model)"


def _kind_label(asset: Asset) -> str:
    """``video``, ``image`` or ``audio``: what the stored file is."""
    kind = asset.content_type.split("/", 1)[0]
    return kind if kind in {"image", "audio"} else "video"


def _video_facts(asset: Asset) -> str:
    """``h264 1920x1080, 5.0 s``, or what is known of it."""
    parts = []
    if asset.codec:
        parts.append(asset.codec)
    if asset.width and asset.height:
        parts.append(f"{asset.width}x{asset.height}")
    facts = " ".join(parts)
    if asset.duration_seconds is not None:
        facts = (
            f"{facts}, {asset.duration_seconds:g} s" if facts else f"{asset.duration_seconds:g} s"
        )
    return facts or "(unknown: the file could not be read)"
