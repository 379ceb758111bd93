"""Waiting and downloading from the command line: ``receiver wait``, ``submit --wait``,
``--download`` and ``receiver download``, all through :mod:`receiver.client`.

A job with several stored files (one per result of its task: ``n`` images, Suno's songs)
is saved whole, into a directory, as ``DIR/<job id>/<n>.<ext>``; a file path for such a job
is refused before anything is downloaded. A job with one file is saved as it always was.

The CLI has no protocol of its own: it opens a :class:`~receiver.client.Client` with the
settings' ``RECEIVER_API_URL`` and ``RECEIVER_ADMIN_TOKEN``, turns the client's errors into
the CLI's (a refused token or an unreachable API is a configuration error, exit 2), and
prints. What it adds is the terminal: the elapsed time and the job's last news on one line
of stderr, and on Ctrl-C the ids of the jobs that go on without us.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from receiver.client import (
    Asset,
    Client,
    ClientError,
    ConfigurationError,
    DownloadedFile,
    DownloadError,
    Event,
    Job,
    Unauthorized,
    Unreachable,
)
from receiver.client._download import check_writable, is_directory, stored_assets, target_path
from receiver.config import Settings
from receiver.errors import ConfigError, ReceiverError
from receiver.terminal import terminal_safe

__all__ = [
    "WaitRequest",
    "ctrl_c_ends_at_once",
    "download_command",
    "open_client",
    "preflight",
    "wait_command",
]

#: Statuses of a job that may still end with a stored video (``wait --all-pending``).
PENDING_STATUSES = ("submitting", "pending", "processing", "completed")


def open_client(settings: Settings) -> Client:
    if settings.admin_token is None:
        raise ConfigError(
            "RECEIVER_ADMIN_TOKEN", "is not set: waiting and downloading use the receiver's API"
        )
    try:
        return Client(settings.api_url, settings.admin_token.reveal())
    except ConfigurationError as exc:
        raise ConfigError(exc.variable, exc.message) from exc


@contextmanager
def api(settings: Settings) -> Iterator[Client]:
    """A client whose refusals read as the CLI's: a 401 names the URL that answered it."""
    client = open_client(settings)
    try:
        yield client
    except Unauthorized as exc:
        client.close()
        raise ConfigError(
            "RECEIVER_ADMIN_TOKEN", f"the receiver at {client.base_url} refused it (401)"
        ) from exc
    except KeyboardInterrupt:
        # Not closed: Ctrl-C may have landed inside the connection pool, between taking a
        # lock and the block that gives it back, and close() would then wait on it forever
        # (the likely cause of a `submit --wait` that once ignored Ctrl-C in CI). The process
        # is ending; the system closes its sockets.
        raise
    except BaseException:
        client.close()
        raise
    else:
        client.close()


def preflight(
    settings: Settings, *, download: str | None = None, several_results: bool = False
) -> int:
    """Before anything is paid for: the API answers, takes our token, and the download
    target can be written (a directory when the job will have ``several_results``).
    The number of the last event, to follow the stream from."""
    if download is not None:
        _check_target(download, several=False)
        if several_results and not is_directory(download):
            raise ConfigError("--download", _several_files(download, "this job"))
    with api(settings) as client:
        try:
            return client.check()
        except Unreachable as exc:
            raise ConfigError("RECEIVER_API_URL", f"no answer from {client.base_url}") from exc


def _check_target(text: str, *, several: bool) -> None:
    """Refuse a download target that cannot work, before anything is waited for or paid.

    ``text`` is the option as typed: ``videos/`` (a directory, made if missing) and
    ``videos`` (a file, unless a directory of that name exists) differ by their slash.
    """
    if several and not (Path(text).is_dir() or text.endswith("/")):
        raise ConfigError("--download", f"{text!r}: several jobs need a directory (end it with /)")
    try:
        check_writable(target_path(text, "job", "video.mp4"))
    except DownloadError as exc:
        raise ConfigError("--download", exc.message) from exc


@dataclass(kw_only=True)
class WaitRequest:
    """What to wait for and what to do then (the options of ``wait`` and ``submit``)."""

    job_ids: Sequence[str]
    timeout: float | None = None
    #: Where to save the videos, as typed (a trailing / means a directory).
    download: str | None = None
    as_json: bool = False
    #: Said on Ctrl-C: these jobs were submitted (and paid for) by this command.
    submitted: bool = False
    outcomes: dict[str, Job] = field(default_factory=dict)


def wait_command(settings: Settings, request: WaitRequest, *, all_pending: bool = False) -> int:
    """``receiver wait``: 0 when every video is stored, 1 when one will not be, or on a
    timeout; 130 on Ctrl-C, after saying which jobs go on."""
    if request.download is not None:
        _check_target(request.download, several=len(request.job_ids) > 1 or all_pending)
    status = _Status(sys.stderr)
    try:
        with api(settings) as client:
            after = None
            if all_pending:
                # Read before the list: a listed job's end is after it on the stream, so the
                # jobs need not be read one by one.
                after = client.check()
                request.job_ids = _pending_jobs(client)
                if not request.job_ids:
                    print("receiver: no job is pending", file=sys.stderr)
                    return 0
            with (
                ctrl_c_ends_at_once(lambda: _interrupted(request)),
                status.running(request.job_ids),
            ):
                decided = client.wait_all(
                    request.job_ids, timeout=request.timeout, on_event=status.event, after=after
                )
                for job in decided:
                    request.outcomes[job.id] = job
                    status.decided(job)
            return _report(client, request, status)
    except KeyboardInterrupt:
        _interrupted(request)
        return 130
    except ClientError as exc:
        _say_undecided(request, exc)
        raise _cli_error(exc) from exc


def _several_files(target: str, whose: str, count: int | None = None) -> str:
    files = f"{count} files" if count is not None else "several files"
    return (
        f"{target!r}: {whose} has {files} (one per result); save them in a directory "
        f"(end it with /), as DIR/<job id>/<n>.<ext>"
    )


def _refuse_a_file_for_several(target: str, jobs: Sequence[Job]) -> None:
    """A file path holds one file: refuse it for a job with several, before any download."""
    if is_directory(target):
        return
    for job in jobs:
        count = len(stored_assets(job))
        if count > 1:
            raise ConfigError("--download", _several_files(target, f"job {job.id}", count))


def _pending_jobs(client: Client) -> list[str]:
    return [job.id for status in PENDING_STATUSES for job in client.jobs(status=status)]


def _report(client: Client, request: WaitRequest, status: _Status) -> int:
    several = len(request.job_ids) > 1
    jobs = [request.outcomes[job_id] for job_id in request.job_ids]
    if request.download is not None:
        _refuse_a_file_for_several(request.download, [job for job in jobs if job.stored])
    failed = 0
    for job in jobs:
        saved: list[str] = []
        urls = [client.video_url(job, a.result_index) for a in stored_assets(job)]
        if job.stored and request.download is not None:
            for result in client.download_all(job, request.download):
                saved.append(str(result.path))
                status.say(f"saved {result.size_bytes} bytes to {result.path} (SHA-256 checked)")
        if not job.stored:
            failed += 1
            status.say(f"receiver: job {job.id} will not be stored: {job.reason}")
        _print_outcome(job, urls, saved, as_json=request.as_json, several=several)
    return 1 if failed else 0


def _print_outcome(
    job: Job, urls: list[str], saved: list[str], *, as_json: bool, several: bool
) -> None:
    assets = stored_assets(job)
    if as_json:
        document = {
            "job_id": job.id,
            "stored": job.stored,
            "reason": job.reason,
            # The first file, as when a job had one; then every file, in the results' order.
            "asset": _asset_json(assets[0]) if assets else None,
            "video_url": urls[0] if urls else None,
            "saved_to": saved[0] if saved else None,
            "assets": [_asset_json(asset) for asset in assets],
            "video_urls": urls,
            "saved": saved,
        }
        # One job: the document as before; several: one line each (JSON Lines).
        print(json.dumps(document) if several else json.dumps(document, indent=2))
    elif several:
        for asset, url in zip(assets, urls, strict=True):
            print(f"{job.id}\t{asset.uri}\t{url}")
    elif len(assets) == 1:
        print(assets[0].uri)
        print(urls[0])
    elif saved:
        # A job's several files, saved: where each one is.
        for path in saved:
            print(path)
    else:
        for asset, url in zip(assets, urls, strict=True):
            print(f"{asset.uri}\t{url}")


def _asset_json(asset: Asset) -> dict[str, Any]:
    return {
        "result_index": asset.result_index,
        "uri": asset.uri,
        "bucket": asset.bucket,
        "key": asset.key,
        "size_bytes": asset.size_bytes,
        "sha256": asset.sha256,
        "content_type": asset.content_type,
        "duration_seconds": asset.duration_seconds,
        "width": asset.width,
        "height": asset.height,
        "codec": asset.codec,
    }


@contextmanager
def ctrl_c_ends_at_once(say: Callable[[], None]) -> Iterator[None]:
    """While blocked on the receiver, Ctrl-C calls ``say`` and ends the process at once
    (exit 130), instead of unwinding a KeyboardInterrupt through the HTTP client.

    The unwinding can hang: the interrupt may land inside the connection pool, between
    taking a lock and the block that gives it back, and closing the stream then waits on
    that lock forever (the likely cause of a `submit --wait` that twice ignored Ctrl-C for
    30 s in CI). The jobs go on without us, so there is nothing to clean up but what is said.
    A Ctrl-C the caller chose to ignore (``nohup``) stays ignored.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    ):
        yield
        return

    def interrupted(_number: int, _frame: FrameType | None) -> None:
        try:
            say()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(130)

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupted(request: WaitRequest) -> None:
    undecided = [job_id for job_id in request.job_ids if job_id not in request.outcomes]
    if not undecided:
        print("receiver: interrupted", file=sys.stderr)
        return
    what = "submitted and go on" if request.submitted else "go on without us"
    print(f"\nreceiver: interrupted; these jobs were {what}:", file=sys.stderr)
    for job_id in undecided:
        print(f"  {job_id}", file=sys.stderr)
    print(f"wait for them again with: receiver wait {' '.join(undecided)}", file=sys.stderr)


def _say_undecided(request: WaitRequest, exc: ClientError) -> None:
    undecided = [job_id for job_id in request.job_ids if job_id not in request.outcomes]
    if request.submitted and undecided and not isinstance(exc, DownloadError):
        print(
            f"receiver: submitted, not yet stored: {' '.join(undecided)}",
            file=sys.stderr,
        )


def _cli_error(exc: ClientError) -> ReceiverError:
    if isinstance(exc, ConfigurationError):
        return ConfigError(exc.variable, exc.message)
    return exc


def download_command(settings: Settings, job_id: str, to: str, *, as_json: bool = False) -> int:
    """``receiver download JOB --to DIR``: every stored file of the job, checked; their
    paths on stdout, one per line (a job with several: ``DIR/<job id>/<n>.<ext>``)."""
    _check_target(to, several=False)
    with api(settings) as client:
        job = client.get(job_id)
        if job.asset is None:
            reason = job.reason or f"it is {job.status}"
            raise ReceiverError(f"job {job_id} has no stored video: {terminal_safe(reason)}")
        _refuse_a_file_for_several(to, [job])
        try:
            results = client.download_all(job, to)
        except KeyboardInterrupt:
            print("\nreceiver: interrupted; run it again to continue", file=sys.stderr)
            return 130
    if as_json:
        first = results[0]
        document = {
            "job_id": job_id,
            # The first file, as when a job had one; then every file, in the results' order.
            "path": str(first.path),
            "size_bytes": first.size_bytes,
            "sha256": first.sha256,
            "files": [_file_json(result) for result in results],
        }
        print(json.dumps(document))
        return 0
    for result in results:
        print(result.path)
        print(f"saved {result.size_bytes} bytes (SHA-256 {result.sha256} checked)", file=sys.stderr)
    return 0


def _file_json(result: DownloadedFile) -> dict[str, Any]:
    return {
        "result_index": result.result_index,
        "path": str(result.path),
        "size_bytes": result.size_bytes,
        "sha256": result.sha256,
    }


class _Status:
    """One line on a terminal's stderr: elapsed time and the last news; nothing elsewhere.

    A thread redraws it every second, so the clock moves while no event arrives; lines
    printed through :meth:`say` go above it.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._on = stream.isatty()
        self._lock = threading.Lock()
        self._text = ""
        self._start = time.monotonic()
        self._stop = threading.Event()
        self._waiting: Sequence[str] = ()
        self._done = 0

    @contextmanager
    def running(self, job_ids: Sequence[str]) -> Iterator[None]:
        self._waiting = job_ids
        self._start = time.monotonic()
        ticker = threading.Thread(target=self._tick, name="wait-status", daemon=True)
        if self._on:
            ticker.start()
        try:
            yield
        finally:
            self._stop.set()
            if self._on:
                ticker.join()
                self._draw(clear=True)

    def event(self, event: Event) -> None:
        if not self._on:
            return
        data = event.data
        if event.type == "archive.progress":
            done, total = int(data.get("bytes") or 0), data.get("total")
            news = f"archiving {done / 1e6:.1f}"
            news += f"/{int(total) / 1e6:.1f} MB" if total else " MB"
        else:
            news = f"{event.type} {data.get('provider_status') or ''}".rstrip()
            whose = f"{event.job_id} " if len(self._waiting) > 1 else ""
            self.say(f"  {whose}{news}")
        with self._lock:
            self._text = news

    def decided(self, job: Job) -> None:
        self._done += 1

    def say(self, line: str) -> None:
        with self._lock:
            if self._on:
                self._stream.write("\r\x1b[K")
            self._stream.write(terminal_safe(line) + "\n")
            self._stream.flush()
        if self._on and not self._stop.is_set():
            self._draw()

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            self._draw()

    def _draw(self, *, clear: bool = False) -> None:
        with self._lock:
            if clear:
                self._stream.write("\r\x1b[K")
            else:
                elapsed = int(time.monotonic() - self._start)
                clock = f"{elapsed // 60}:{elapsed % 60:02d}"
                count = len(self._waiting)
                what = self._waiting[0] if count == 1 else f"{self._done}/{count} jobs decided"
                line = f"waiting {clock}  {what}  {self._text}".rstrip()
                self._stream.write("\r\x1b[K" + terminal_safe(line))
            self._stream.flush()
