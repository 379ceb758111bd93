"""Waiting for a job without polling: ``receiver wait`` and ``receiver submit --wait``.

The client follows the receiver's live event stream (``GET /v1/events?job=…``), resuming with
``Last-Event-ID`` if the connection drops, and returns when the job's fate is known: its
video stored, or the reason it never will be.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from receiver.config import Settings
from receiver.errors import ConfigError, NotFoundError, ReceiverError

__all__ = ["Outcome", "download", "wait_for_job", "wait_for_jobs"]

_SUCCESS = {"asset.stored"}
_FAILURE = {"job.failed", "job.cancelled", "job.expired", "job.submit_failed", "archive.failed"}
_RECONNECT_PAUSE = 1.0


@dataclass(frozen=True, kw_only=True)
class Outcome:
    stored: bool
    job: dict[str, Any]
    reason: str | None = None
    video_url: str | None = None


def _client(settings: Settings) -> httpx.Client:
    if settings.admin_token is None:
        raise ConfigError("RECEIVER_ADMIN_TOKEN", "is not set: waiting uses the receiver's API")
    return httpx.Client(
        base_url=settings.api_url,
        headers={"Authorization": f"Bearer {settings.admin_token.reveal()}"},
        timeout=httpx.Timeout(30.0, read=60.0),
    )


def wait_for_job(
    settings: Settings,
    job_id: str,
    *,
    timeout: float | None = None,
    on_event: Callable[[str, dict[str, Any]], None] | None = None,
) -> Outcome:
    deadline = time.monotonic() + timeout if timeout else None
    with _client(settings) as client:
        job = _job(client, job_id)
        seq = max((event["seq"] for event in job["events"]), default=0)
        ended = _ended(job)
        while ended is None:
            if deadline is not None and time.monotonic() > deadline:
                raise ReceiverError(f"gave up waiting for {job_id} after {timeout:.0f} s")
            try:
                for event_type, data in _events(client, job_id, seq):
                    seq = int(data["seq"])
                    if on_event:
                        on_event(event_type, data)
                    if event_type in _SUCCESS | _FAILURE:
                        ended = event_type
                        break
                    if deadline is not None and time.monotonic() > deadline:
                        break
            except httpx.TransportError:
                # The stream dropped (a restart, a proxy timeout): resume where it stopped.
                time.sleep(_RECONNECT_PAUSE)
        return _outcome(client, job_id, ended)


def wait_for_jobs(
    settings: Settings,
    job_ids: Iterable[str],
    *,
    after: int,
    timeout: float | None = None,
    on_outcome: Callable[[str, Outcome], None] | None = None,
) -> dict[str, Outcome]:
    """Wait for many jobs (a batch) on one stream of every job's events, from event ``after``.

    ``after`` must be read before the jobs were submitted, so none of their events is missed.
    """
    deadline = time.monotonic() + timeout if timeout else None
    pending = set(job_ids)
    outcomes: dict[str, Outcome] = {}
    seq = after
    with _client(settings) as client:
        while pending:
            if deadline is not None and time.monotonic() > deadline:
                raise ReceiverError(
                    f"gave up waiting after {timeout:.0f} s; {len(pending)} jobs undecided"
                )
            try:
                for event_type, data in _events(client, None, seq):
                    seq = int(data["seq"])
                    job_id = data.get("job_id")
                    if job_id in pending and event_type in _SUCCESS | _FAILURE:
                        pending.discard(job_id)
                        outcomes[job_id] = _outcome(client, job_id, event_type)
                        if on_outcome:
                            on_outcome(job_id, outcomes[job_id])
                    if not pending or (deadline is not None and time.monotonic() > deadline):
                        break
            except httpx.TransportError:
                time.sleep(_RECONNECT_PAUSE)
    return outcomes


def _outcome(client: httpx.Client, job_id: str, ended: str | None) -> Outcome:
    job = _job(client, job_id)
    if ended not in _SUCCESS:
        reason = (job.get("error") or {}).get("message") or job.get("attention") or ended
        return Outcome(stored=False, job=job, reason=f"{job['status']}: {reason}")
    response = client.get(f"/v1/jobs/{job_id}/video", follow_redirects=False)
    return Outcome(stored=True, job=job, video_url=response.headers.get("location"))


def _job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    try:
        response = client.get(f"/v1/jobs/{job_id}")
    except httpx.HTTPError as exc:
        raise ReceiverError(f"cannot reach the receiver at {client.base_url}: {exc}") from exc
    if response.status_code == 404:
        raise NotFoundError(f"no job {job_id!r}")
    if response.status_code == 401:
        raise ConfigError("RECEIVER_ADMIN_TOKEN", "the receiver refused it (401)")
    response.raise_for_status()
    job: dict[str, Any] = response.json()
    return job


def _ended(job: dict[str, Any]) -> str | None:
    """The deciding event when the job's fate is already known."""
    if job["asset"] is not None:
        return "asset.stored"
    types = [event["type"] for event in job["events"]]
    return next((kind for kind in reversed(types) if kind in _FAILURE), None)


def _events(
    client: httpx.Client, job_id: str | None, after: int
) -> Iterator[tuple[str, dict[str, Any]]]:
    headers = {"Last-Event-ID": str(after), "Accept": "text/event-stream"}
    with client.stream(
        "GET",
        "/v1/events",
        params={"job": job_id} if job_id else {},
        headers=headers,
        timeout=httpx.Timeout(30.0, read=None),
    ) as response:
        response.raise_for_status()
        event_type, data = "message", ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                event_type = line[6:].strip()
            elif line.startswith("data:"):
                data += line[5:].strip()
            elif not line and data:
                yield event_type, json.loads(data)
                event_type, data = "message", ""


def download(url: str, path: Path) -> int:
    """Save the stored video at ``path`` (written to a temp file, then renamed); its size."""
    partial = path.with_name(path.name + ".partial")
    size = 0
    with httpx.stream("GET", url, timeout=httpx.Timeout(30.0)) as response:
        response.raise_for_status()
        with partial.open("wb") as out:
            for chunk in response.iter_bytes(1024 * 1024):
                out.write(chunk)
                size += len(chunk)
    os.replace(partial, path)
    return size
