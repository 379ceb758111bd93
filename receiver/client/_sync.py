"""The blocking client: :class:`Client`, a thin shell of httpx calls around the protocol."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType

import httpx

from receiver.client import _protocol as protocol
from receiver.client._download import (
    DownloadedFile,
    Saving,
    StartOver,
    choose_asset,
    every_target,
    one_target,
)
from receiver.client._exceptions import (
    ChecksumMismatch,
    ServerError,
    Unreachable,
)
from receiver.client._models import (
    Asset,
    Costs,
    Estimate,
    Event,
    Job,
    ReplayResult,
    ReplaySummary,
)
from receiver.client._protocol import Call, ClientSettings, Shot
from receiver.client._protocol import job_id as _job_id
from receiver.client._sse import EventCursor
from receiver.client._wait import WaitPlan

__all__ = ["DOWNLOAD_TRIES", "STREAM_SILENCE", "Client"]

log = logging.getLogger("receiver.client")

#: The server sends a keep-alive every 15 s: a stream silent for this long is dead.
STREAM_SILENCE = 45.0
#: Tries of one download (each continues what the last one saved).
DOWNLOAD_TRIES = 3

OnEvent = Callable[[Event], None]


class Client:
    """The receiver's HTTP API, blocking. Use it as a context manager, or call ``close()``.

    ``base_url`` and ``token`` default to ``RECEIVER_API_URL`` (else
    ``http://127.0.0.1:8000``) and ``RECEIVER_ADMIN_TOKEN``, as for the CLI. ``timeout``
    bounds each ordinary request; a broken event stream is retried for
    ``reconnect_limit`` seconds (None: for ever) before :class:`Unreachable` is raised.
    """

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        reconnect_limit: float | None = 300.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._settings = ClientSettings.resolve(
            base_url, token, timeout=timeout, reconnect_limit=reconnect_limit
        )
        self._http = httpx.Client(
            base_url=self._settings.base_url,
            headers=self._settings.headers(),
            timeout=httpx.Timeout(timeout),
            transport=transport,
        )
        # Videos come from presigned URLs: no admin token may travel there.
        self._files = httpx.Client(timeout=httpx.Timeout(timeout), transport=transport)

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    def close(self) -> None:
        self._http.close()
        self._files.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # ── requests ──

    def _send(
        self,
        call: Call,
        *,
        ok: Iterable[int] = (200,),
        missing: str | None = None,
        within: float | None = None,
    ) -> httpx.Response:
        timeout = self._settings.timeout if within is None else min(within, self._settings.timeout)
        try:
            response = self._http.request(
                call.method,
                call.path,
                params=dict(call.params),
                json=call.json,
                headers=dict(call.headers),
                timeout=timeout,
            )
        except httpx.TransportError as exc:
            raise protocol.unreachable(self.base_url, exc) from exc
        return protocol.check(response, ok=ok, missing=missing)

    def check(self, *, within: float | None = None) -> int:
        """Ask the API whether it answers and takes the token; the last event's number.

        Cheap (one page of one job): call it before something that costs money and then
        needs the API, so a wrong URL or token fails before anything is paid for.
        """
        page = self._send(protocol.check_call(), within=within)
        return protocol.parse(protocol.read_last_seq, page)

    def submit(
        self,
        prompt: str = "",
        *,
        shots: Iterable[Shot] = (),
        image: str | os.PathLike[str] | None = None,
        duration: int | None = None,
        aspect_ratio: str | None = None,
        quality: str | None = None,
        model: str | None = None,
        negative_prompt: str | None = None,
        sound: bool | str | None = None,
        provider: str | None = None,
        idempotency_key: str | None = None,
    ) -> Job:
        """Submit one job (the options of ``receiver submit``); the job as created.

        ``image`` is a URL, or a local JPEG/PNG file sent with the request. With an
        ``idempotency_key``, sending the same request again returns the same job instead of
        submitting (and paying for) a second one.
        """
        call = protocol.submit_call(
            prompt,
            shots=shots,
            image=image,
            duration=duration,
            aspect_ratio=aspect_ratio,
            quality=quality,
            model=model,
            negative_prompt=negative_prompt,
            sound=sound,
            provider=provider,
            dry_run=False,
            idempotency_key=idempotency_key,
        )
        return protocol.parse(Job.from_json, self._send(call, ok=(200, 201)))

    def estimate(
        self,
        prompt: str = "",
        *,
        shots: Iterable[Shot] = (),
        image: str | os.PathLike[str] | None = None,
        duration: int | None = None,
        aspect_ratio: str | None = None,
        quality: str | None = None,
        model: str | None = None,
        negative_prompt: str | None = None,
        sound: bool | str | None = None,
        provider: str | None = None,
    ) -> Estimate:
        """What ``submit`` with the same arguments would cost (a dry run: nothing is sent)."""
        call = protocol.submit_call(
            prompt,
            shots=shots,
            image=image,
            duration=duration,
            aspect_ratio=aspect_ratio,
            quality=quality,
            model=model,
            negative_prompt=negative_prompt,
            sound=sound,
            provider=provider,
            dry_run=True,
            idempotency_key=None,
        )
        return protocol.parse(Estimate.from_json, self._send(call))

    def get(self, job: str | Job) -> Job:
        """The job with its asset, events and deliveries."""
        return self._get(_job_id(job), within=None)

    def _get(self, job_id: str, *, within: float | None) -> Job:
        call = Call(method="GET", path=protocol.job_path(job_id))
        response = self._send(call, missing=f"no job {job_id!r}", within=within)
        return protocol.parse(Job.from_json, response)

    def jobs(
        self,
        *,
        status: str | None = None,
        model: str | None = None,
        since: str | None = None,
        page_size: int = protocol.PAGE_SIZE,
    ) -> Iterator[Job]:
        """Every job, newest first, page after page (``since`` is a duration: ``"24h"``)."""
        cursor: str | None = None
        while True:
            call = protocol.list_call(
                status=status, model=model, since=since, cursor=cursor, limit=page_size
            )
            jobs, cursor = protocol.parse(protocol.read_page, self._send(call))
            yield from jobs
            if cursor is None:
                return

    def retry(self, job: str | Job) -> None:
        """Queue a failed or expired archive again (:class:`Conflict` if there is none)."""
        job_id = _job_id(job)
        call = Call(method="POST", path=protocol.job_path(job_id, "/retry"))
        self._send(call, missing=f"no job {job_id!r}")

    def replay(self, delivery_id: str) -> ReplayResult:
        """Replay one stored delivery through the intake; the verdict."""
        return protocol.parse(ReplayResult.from_json, self._send(protocol.replay_call(delivery_id)))

    def replay_failed(
        self, *, since: str | None = None, job: str | Job | None = None, dry_run: bool = False
    ) -> ReplaySummary:
        """Replay every failed delivery (younger than ``since``, of ``job``)."""
        call = protocol.replay_failed_call(
            since=since, job=_job_id(job) if job is not None else None, dry_run=dry_run
        )
        return protocol.parse(ReplaySummary.from_json, self._send(call))

    def costs(self, *, since: str = "30d", by: str = "model") -> Costs:
        """Credits spent since ``since``, by ``"model"`` or ``"day"``, and today's budget."""
        return protocol.parse(Costs.from_json, self._send(protocol.costs_call(since=since, by=by)))

    def video_url(self, job: str | Job, index: int = 0) -> str:
        """A presigned URL of the stored file of result ``index`` (0: the first, the only
        one of most jobs); :class:`Conflict` while nothing is stored for it."""
        job_id = _job_id(job)
        call = protocol.video_call(job_id, index)
        return protocol.location(self._send(call, ok=(302,), missing=f"no job {job_id!r}"))

    # ── waiting ──

    def wait(
        self, job: str | Job, *, timeout: float | None = None, on_event: OnEvent | None = None
    ) -> Job:
        """Block until the job's video is stored or will not be; the job then.

        Follows the event stream (no polling). Check ``job.stored``; ``job.reason`` says why
        not. Raises :class:`WaitTimeout` after ``timeout`` seconds, events or none.
        """
        for decided in self.wait_all([job], timeout=timeout, on_event=on_event):
            return decided
        raise AssertionError("wait_all ended without the job")  # pragma: no cover

    def wait_all(
        self,
        jobs: Iterable[str | Job],
        *,
        timeout: float | None = None,
        on_event: OnEvent | None = None,
        after: int | None = None,
    ) -> Iterator[Job]:
        """Each job once decided, in the order they are decided; one stream for all.

        Raises :class:`WaitTimeout` (``.pending``: the undecided ids) when time runs out.
        ``after``: the number of an event read before the jobs were submitted (``check()``
        answers it): every deciding event is then still ahead on the stream, and the jobs
        are not read one by one first (a batch of thousands starts at once).
        """
        plan = WaitPlan(list(dict.fromkeys(_job_id(job) for job in jobs)), timeout)
        if not plan.pending:
            return
        single, read_first = plan.single, after is None
        if read_first and single is None:
            # Read before the jobs: whatever decides one of them later is after this point.
            after = self.check(within=plan.remaining())
        for job_id in list(plan.pending) if read_first else ():
            job = self._get(job_id, within=plan.remaining())
            if single:
                after = max((event.seq for event in job.events), default=0)
            if plan.settle(job):
                yield job
        if not plan.pending:
            return
        cursor = EventCursor(
            job=single, after=after, reconnect_limit=self._settings.reconnect_limit
        )
        for event in self._follow(cursor, plan):
            if on_event is not None:
                on_event(event)
            if plan.deciding(event):
                job = self._get(event.job_id, within=plan.remaining())
                if plan.settle(job):
                    yield job
                    if not plan.pending:
                        return

    def events(self, job: str | Job | None = None, *, after: int | None = None) -> Iterator[Event]:
        """Every event (of ``job``), from just after event ``after`` (None: from the start),
        then live, for ever. A broken stream is resumed where it stopped (Last-Event-ID):
        nothing missed, nothing repeated."""
        cursor = EventCursor(
            job=_job_id(job) if job is not None else None,
            after=after,
            reconnect_limit=self._settings.reconnect_limit,
        )
        yield from self._follow(cursor, WaitPlan([], None))

    def _follow(self, cursor: EventCursor, plan: WaitPlan) -> Iterator[Event]:
        while True:
            remaining = plan.remaining()
            try:
                with self._http.stream(
                    "GET",
                    "/v1/events",
                    params=cursor.params(),
                    headers=cursor.headers(),
                    timeout=httpx.Timeout(self._settings.timeout, read=STREAM_SILENCE),
                ) as response:
                    if response.status_code != 200:
                        response.read()
                        protocol.check(response)
                    cursor.connected()
                    with _Alarm(response, remaining):
                        for line in response.iter_lines():
                            event = cursor.feed(line)
                            if event is not None:
                                yield event
                            plan.remaining()
                problem = "the receiver ended the stream"
            except httpx.TransportError as exc:
                if plan.expired():
                    raise plan.timed_out() from None
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            except ServerError as exc:
                problem = exc.message
            delay = cursor.broke(problem, time.monotonic())
            log.warning("event stream broke (%s); resuming in %.1f s", problem, delay)
            left = plan.remaining()
            time.sleep(delay if left is None else min(delay, left))

    # ── downloading ──

    def download(
        self, job: str | Job, path_or_dir: str | os.PathLike[str], index: int | None = None
    ) -> DownloadedFile:
        """Save one stored file of the job at ``path_or_dir``: result ``index``, or the job's
        only file (a job with several needs ``index``, or :meth:`download_all`).

        ``path_or_dir`` is a file, or a directory to hold ``<job id>.mp4`` (``.png``, ...;
        ``<job id>/<n>.<ext>`` for result ``n`` of a job with several). Streamed, continued
        after an interruption, and checked against the SHA-256 the receiver recorded before
        it is renamed into place."""
        details = self._details(job)
        asset = choose_asset(details, index)
        return self._fetch(details, asset, one_target(path_or_dir, details, asset))

    def download_all(
        self, job: str | Job, path_or_dir: str | os.PathLike[str]
    ) -> tuple[DownloadedFile, ...]:
        """Save every stored file of the job, in the order of its task's results, each as
        :meth:`download` saves one: a job with one file as ``<job id>.<ext>`` (or at a file
        path), a job with several as ``<job id>/<n>.<ext>`` in the directory
        ``path_or_dir``; a file path for several is refused before anything is fetched."""
        details = self._details(job)
        return tuple(
            [
                self._fetch(details, asset, target)
                for target, asset in every_target(path_or_dir, details)
            ]
        )

    def _details(self, job: str | Job) -> Job:
        # A job read whole (get, wait) lists every file; one from jobs() or a notification
        # may not (a page carries the first file only): read it again.
        if isinstance(job, Job) and job.stored and job.events:
            return job
        return self.get(job)

    def _fetch(self, job: Job, asset: Asset, target: Path) -> DownloadedFile:
        saving = Saving(target, asset)
        problem = ""
        for attempt in range(1, DOWNLOAD_TRIES + 1):
            try:
                return self._save(job, saving, asset.result_index)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
                log.warning("download interrupted (%s); continuing (try %d)", problem, attempt)
            except ChecksumMismatch:
                # Bytes continued from an older .partial may be another file's: once more
                # from nothing. A fresh download that does not match is the answer.
                if not saving.resumed or attempt == DOWNLOAD_TRIES:
                    raise
            finally:
                saving.close()
        raise Unreachable(f"could not download the file {target.name} of {job.id}: {problem}")

    def _save(self, job: Job, saving: Saving, index: int) -> DownloadedFile:
        headers = saving.start()
        if headers is None:
            return saving.finish()
        url = self.video_url(job.id, index)
        try:
            with self._files.stream("GET", url, headers=headers) as response:
                saving.begin(response)
                for chunk in response.iter_bytes():
                    saving.write(chunk)
        except StartOver:
            return self._save(job, saving, index)
        return saving.finish()


class _Alarm:
    """Ends a blocking read of ``response`` at the deadline, events or none.

    A read timeout cannot do it: the server's keep-alives restart it every 15 s. So a timer
    shuts the socket down, which wakes the blocked read with an error the caller turns into
    :class:`WaitTimeout`.
    """

    def __init__(self, response: httpx.Response, seconds: float | None) -> None:
        stream = response.extensions.get("network_stream")
        self._socket: socket.socket | None = (
            stream.get_extra_info("socket") if stream is not None else None
        )
        self._timer = (
            threading.Timer(seconds, self._ring)
            if seconds is not None and self._socket is not None
            else None
        )

    def _ring(self) -> None:
        assert self._socket is not None
        with contextlib.suppress(OSError):  # already closed: nothing is blocked on it
            self._socket.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _Alarm:
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
