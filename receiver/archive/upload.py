"""Streaming a download into a multipart upload, hashing as the bytes go by.

Reading part n+1 from the source overlaps sending part n to the store, with a bounded
number of parts in flight, so memory stays at a few parts whatever the size of the video. The
object becomes visible only when the upload completes, and completion is conditional: if an
object already sits under the key, it counts as ours only when its SHA-256 matches. Parts
are reported as they are stored, so an interrupted upload can be resumed from its last
completed part, the prefix re-read and hashed but not stored again. Whoever drives an
upload hears of it through one :class:`UploadObserver`.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import structlog

from receiver import media
from receiver.compat.stdlib_internals import Hash
from receiver.errors import FetchError, ObjectConflict, ReceiverError, StorageError, UploadGone
from receiver.providers.base import MediaKind
from receiver.storage import ObjectExists, ObjectStore, UploadedPart

__all__ = [
    "BadContent",
    "Checkpoint",
    "Resume",
    "StoredObject",
    "UploadObserver",
    "UploadPaused",
    "upload_stream",
]

log = structlog.get_logger(__name__)

#: While waiting out a store outage, the tries come at most this far apart.
_MAX_PATIENT_DELAY = 15.0


@dataclass(frozen=True, kw_only=True)
class StoredObject:
    key: str
    size: int
    sha256: str
    etag: str
    #: False when an identical object was already there (a previous attempt finished it).
    created: bool = True


@dataclass(frozen=True, kw_only=True)
class Resume:
    """An open upload to continue: its id, part size and the parts already in the store."""

    upload_id: str
    part_size: int
    parts: tuple[UploadedPart, ...]
    #: The SHA-256 state after those parts, when this process still holds it: then the
    #: chunks start right after them (a ranged download) instead of at the first byte.
    digest: Hash | None = None

    @property
    def offset(self) -> int:
        return sum(part.size for part in self.parts)


@dataclass(frozen=True, kw_only=True)
class Checkpoint:
    """Where an upload stands after a stored part: enough to resume without re-reading."""

    upload_id: str
    parts: tuple[UploadedPart, ...]
    digest: Hash


class UploadObserver:
    """What an upload tells the one who drives it (the archive attempt), in this order:

    1. :meth:`upload_started`, for a new upload only, before any part is sent;
    2. :meth:`part_stored`, for each part once the store has it, in part order, on the
       caller's thread (the journal writes it down there);
    3. :meth:`announced_size`, asked once every byte is read, before the last part goes up.

    :meth:`store_unavailable` comes between tries while a part waits out a store outage, on
    an upload thread. Every method may raise to stop the upload. Each does nothing unless a
    subclass overrides it.
    """

    def upload_started(self, upload_id: str) -> None:
        """A new upload is open. Raising aborts it: nobody else knows it exists."""

    def part_stored(self, part: UploadedPart, checkpoint: Checkpoint) -> None:
        """``part`` is stored; ``checkpoint`` is where the upload stands after it. Raising
        :class:`UploadPaused` stops at this part boundary, the upload left open."""

    def announced_size(self) -> int | None:
        """The size the source announced for the whole file: any other is never completed."""
        return None

    def store_unavailable(self) -> None:
        """A part is waiting for the store to come back (the worker renews its lease)."""


class UploadPaused(ReceiverError):
    """Stopped at a part boundary on purpose; the upload stays open to be resumed."""


class BadContent(FetchError):
    """The bytes are not the video they claim to be: nothing of this upload is worth keeping."""


def upload_stream(
    store: ObjectStore,
    key: str,
    chunks: Iterable[bytes],
    *,
    part_size: int,
    content_type: str = "video/mp4",
    kind: MediaKind = "video",
    max_bytes: int | None = None,
    resume: Resume | None = None,
    observer: UploadObserver | None = None,
    in_flight: int = 1,
    patience: float = 0.0,
) -> StoredObject:
    """Upload ``chunks`` (the whole file, from its first byte) to ``key``.

    With ``resume`` the parts already stored are not sent again: their bytes are only
    hashed, so the SHA-256 is still that of the whole file; with ``resume.digest`` they are
    not even read, and ``chunks`` start right after them. ``observer`` hears of the upload
    as it goes (:class:`UploadObserver`). A part upload waits out a store that is down for up
    to ``patience`` seconds, holding the part's bytes: failing the attempt instead would drop
    bytes already read, and the retry would read them from the source again. A failure
    leaves the upload open for the next attempt to resume, except when the content itself is
    wrong.
    """
    observer = observer or UploadObserver()
    if resume is None:
        upload_id = store.start_upload(key, content_type=content_type)
        try:
            observer.upload_started(upload_id)
        except BaseException:
            # Nobody else knows this upload exists: abort it or it would never be.
            with contextlib.suppress(StorageError):
                store.abort_upload(key, upload_id)
            raise
        resume = Resume(upload_id=upload_id, part_size=part_size, parts=())
    upload_id = resume.upload_id
    try:
        digest, size, parts = _send_parts(
            store,
            key,
            chunks,
            resume=resume,
            max_bytes=max_bytes,
            observer=observer,
            in_flight=in_flight,
            patience=patience,
            kind=kind,
        )
    except BadContent:
        with contextlib.suppress(StorageError):
            store.abort_upload(key, upload_id)
        raise
    try:
        etag = store.complete_upload(key, upload_id, parts)
    except ObjectExists:
        store.abort_upload(key, upload_id)
        return _compare_existing(store, key, digest.hexdigest(), size)
    return StoredObject(key=key, size=size, sha256=digest.hexdigest(), etag=etag)


def _send_parts(
    store: ObjectStore,
    key: str,
    chunks: Iterable[bytes],
    *,
    resume: Resume,
    max_bytes: int | None,
    observer: UploadObserver,
    in_flight: int,
    patience: float,
    kind: MediaKind = "video",
) -> tuple[Hash, int, list[UploadedPart]]:
    if resume.digest is not None:
        # A ranged download: the bytes before the offset are already hashed and stored.
        digest, skip = resume.digest.copy(), 0
        check = _MediaCheck(max_bytes, at=resume.offset, kind=kind)
    else:
        digest, skip = hashlib.sha256(), resume.offset
        check = _MediaCheck(max_bytes, at=0, kind=kind)
    sender = _PipelinedSender(
        store,
        key,
        resume.upload_id,
        part_size=resume.part_size,
        done=resume.parts,
        in_flight=in_flight,
        observer=observer,
        patience=patience,
    )
    # The part being filled, in a buffer no part in flight is using. It is written through a
    # memoryview: assigning a memoryview to a slice of a bytearray copies the bytes twice.
    filling = sender.free_buffer()
    into, filled = memoryview(filling), 0

    def send(data: bytearray) -> None:
        digest.update(data)
        sender.send(data, digest.copy())

    with sender:
        for chunk in chunks:
            stored_from = max(0, skip - check.size)
            check.see(chunk)
            if stored_from:
                # Already stored by an earlier attempt: hashed, not sent again.
                digest.update(chunk[:stored_from])
            view = memoryview(chunk)[stored_from:]
            while view:
                # Each byte is copied once, into the part it belongs to, cut exactly at the
                # part boundary (every part but the last has the same size).
                take = view[: resume.part_size - filled]
                into[filled : filled + len(take)] = take
                filled += len(take)
                view = view[len(take) :]
                if filled == resume.part_size:
                    send(filling)
                    filling = sender.free_buffer()
                    into, filled = memoryview(filling), 0
        check.end(stored=skip, expected=observer.announced_size())
        if filled:  # the last, shorter part (an empty file never gets here)
            into.release()  # (a bytearray with a view on it cannot be resized)
            del filling[filled:]
            send(filling)
        parts = sender.finish()
    return digest, check.size, parts


class _MediaCheck:
    """What the bytes must be: a file of the result's kind (for a video an MP4, an ``ftyp``
    box first; :func:`receiver.media.refusal`), within the size cap, whole."""

    def __init__(self, max_bytes: int | None, *, at: int, kind: MediaKind = "video") -> None:
        self._max_bytes = max_bytes
        self._kind: MediaKind = kind
        #: Bytes of the file seen so far (a ranged download starts past the signature).
        self.size = at
        self._head = b"" if at == 0 else None

    def see(self, chunk: bytes) -> None:
        if self._head is not None and len(self._head) < media.HEAD_BYTES:
            self._head += chunk[: media.HEAD_BYTES - len(self._head)]
            if len(self._head) == media.HEAD_BYTES:
                self._check_head()
        self.size += len(chunk)
        if self._max_bytes is not None and self.size > self._max_bytes:
            raise BadContent(f"the video is larger than {self._max_bytes} bytes", permanent=True)

    def end(self, *, stored: int, expected: int | None) -> None:
        if self.size == 0:
            raise BadContent("the download was empty")
        if self.size < 8:
            kind = "an MP4" if self._kind == "video" else f"an {self._kind}"
            raise BadContent(f"the download is too short to be {kind} file")
        if self._head is not None and len(self._head) < media.HEAD_BYTES:
            self._check_head()
        if self.size < stored:
            raise FetchError(
                f"the download ended after {self.size} bytes, before the {stored} already stored"
            )
        if expected is not None and self.size != expected:
            raise FetchError(f"the download came to {self.size} of the {expected} bytes announced")

    def _check_head(self) -> None:
        assert self._head is not None
        refusal = media.refusal(self._kind, self._head)
        if refusal is not None:
            # Retried (the source may serve the right bytes next time), never resumed.
            raise BadContent(refusal)


class _PipelinedSender:
    """Sends parts on a small pool while the caller reads the next one from the source.

    At most ``in_flight`` parts are on their way at once, so memory is bounded by
    ``in_flight + 1`` parts whatever the file's size; the observer hears of each stored part
    in order, on the caller's thread (the journal writes them down there).

    The buffers of stored parts are filled again rather than freed: a fresh buffer of a
    part's size is fresh pages from the kernel (glibc maps it, see
    :mod:`receiver.archive.memory`), and faulting them in cost four times the CPU of copying
    the bytes into them (0.42 against 0.09 CPU-seconds per GB).
    """

    def __init__(
        self,
        store: ObjectStore,
        key: str,
        upload_id: str,
        *,
        part_size: int,
        done: tuple[UploadedPart, ...],
        in_flight: int,
        observer: UploadObserver,
        patience: float,
    ) -> None:
        self._store = store
        self._patience = patience
        self._key = key
        self._upload_id = upload_id
        self._in_flight = max(1, in_flight)
        self._observer = observer
        self.parts = list(done)
        self._next_number = len(done) + 1
        self._part_size = part_size
        self._pending: deque[tuple[Future[UploadedPart], Hash, bytearray]] = deque()
        #: Buffers whose parts are stored: no thread reads them any more.
        self._spare: list[bytearray] = []
        self._journal_failed = False
        self._pool = ThreadPoolExecutor(self._in_flight, thread_name_prefix="part-upload")

    def send(self, data: bytearray, digest_after: Hash) -> None:
        while len(self._pending) >= self._in_flight:
            self._collect_oldest()
        number = self._next_number
        self._next_number += 1
        future = self._pool.submit(self._upload, number, data)
        self._pending.append((future, digest_after, data))

    def free_buffer(self) -> bytearray:
        """A part-sized buffer to fill; call it after :meth:`send`, which frees one."""
        return self._spare.pop() if self._spare else bytearray(self._part_size)

    def _upload(self, number: int, data: bytearray) -> UploadedPart:
        give_up = time.monotonic() + self._patience
        delay = 1.0
        while True:
            try:
                return self._store.upload_part(self._key, self._upload_id, number, data)
            except UploadGone:
                raise  # no wait brings it back
            except StorageError as exc:
                if time.monotonic() + delay > give_up:
                    raise
                log.warning(
                    "archive.store_unavailable", part=number, retry_in=delay, error=exc.message
                )
            time.sleep(delay)
            delay = min(delay * 2, _MAX_PATIENT_DELAY)
            self._observer.store_unavailable()

    def finish(self) -> list[UploadedPart]:
        while self._pending:
            self._collect_oldest()
        return self.parts

    def _collect_oldest(self) -> None:
        future, digest_after, data = self._pending.popleft()
        part = future.result()
        if len(data) == self._part_size:  # (the last part's is cut short: not reused)
            self._spare.append(data)
        self.parts.append(part)
        checkpoint = Checkpoint(
            upload_id=self._upload_id, parts=tuple(self.parts), digest=digest_after
        )
        try:
            self._observer.part_stored(part, checkpoint)
        except BaseException:
            self._journal_failed = True
            raise

    def __enter__(self) -> _PipelinedSender:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _tb: object
    ) -> None:
        try:
            if error is not None and not self._journal_failed and not isinstance(error, BadContent):
                # The source failed mid-way: the parts already on their way are good, and
                # once written down a resume starts after them rather than before.
                with contextlib.suppress(Exception):
                    self.finish()
        finally:
            for future, _, _ in self._pending:
                future.cancel()
            self._pool.shutdown(wait=True)
            self._pending.clear()


def _compare_existing(store: ObjectStore, key: str, sha256: str, size: int) -> StoredObject:
    existing = store.head(key)
    if existing is not None and int(existing.get("ContentLength", -1)) == size:
        digest = hashlib.sha256()
        for chunk in store.read(key):
            digest.update(chunk)
        if digest.hexdigest() == sha256:
            return StoredObject(
                key=key,
                size=size,
                sha256=sha256,
                etag=str(existing.get("ETag", "")),
                created=False,
            )
    raise ObjectConflict(
        f"s3://{store.bucket}/{key} already holds a different object; refusing to overwrite it"
    )
