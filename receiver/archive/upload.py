"""Streaming a download into a multipart upload, hashing as the bytes go by.

Memory stays at one part (plus the chunk being read) whatever the size of the video. The
object becomes visible only when the upload completes, and completion is conditional: if an
object already sits under the key, it counts as ours only when its SHA-256 matches. Parts
are reported as they are stored, so an interrupted upload can be resumed from its last
completed part, the prefix re-read and hashed but not stored again.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from receiver.errors import FetchError, ReceiverError, StorageError
from receiver.storage import ObjectExists, ObjectStore, UploadedPart

__all__ = ["BadContent", "Resume", "StoredObject", "UploadPaused", "upload_stream"]

_MP4_SIGNATURE_OFFSET = slice(4, 8)


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

    @property
    def offset(self) -> int:
        return sum(part.size for part in self.parts)


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
    max_bytes: int | None = None,
    resume: Resume | None = None,
    on_start: Callable[[str], None] | None = None,
    on_part: Callable[[UploadedPart], None] | None = None,
) -> StoredObject:
    """Upload ``chunks`` (the whole file, from its first byte) to ``key``.

    With ``resume`` the parts already stored are not sent again: their bytes are only
    hashed, so the SHA-256 is still that of the whole file. ``on_start`` learns a new
    upload's id and ``on_part`` each part once stored (the caller's journal; it may raise
    :class:`UploadPaused` to stop at this part boundary). A failure leaves the upload open
    for the next attempt to resume, except when the content itself is wrong.
    """
    if resume is None:
        upload_id = store.start_upload(key, content_type=content_type)
        if on_start:
            try:
                on_start(upload_id)
            except BaseException:
                # Nobody else knows this upload exists: abort it or it would never be.
                with contextlib.suppress(StorageError):
                    store.abort_upload(key, upload_id)
                raise
        resume = Resume(upload_id=upload_id, part_size=part_size, parts=())
    upload_id = resume.upload_id
    try:
        digest, size, parts = _send_parts(
            store, key, chunks, resume=resume, max_bytes=max_bytes, on_part=on_part
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
    on_part: Callable[[UploadedPart], None] | None,
) -> tuple[hashlib._Hash, int, list[UploadedPart]]:
    digest = hashlib.sha256()
    skip = resume.offset
    size = 0
    head = bytearray()
    buffer = bytearray()
    parts = list(resume.parts)

    def send(data: bytes) -> None:
        part = store.upload_part(key, resume.upload_id, len(parts) + 1, data)
        parts.append(part)
        if on_part:
            on_part(part)

    for chunk in chunks:
        digest.update(chunk)
        if size < skip:
            # Already stored by an earlier attempt: hash it, do not send it again.
            buffer += chunk[skip - size :]
        else:
            buffer += chunk
        if len(head) < 8:
            head += chunk[: 8 - len(head)]
            if len(head) == 8 and bytes(head[_MP4_SIGNATURE_OFFSET]) != b"ftyp":
                # Retried (the source may serve the right bytes next time), never resumed.
                raise BadContent("the download is not an MP4 file (no 'ftyp' box at the start)")
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise BadContent(f"the video is larger than {max_bytes} bytes", permanent=True)
        while len(buffer) >= resume.part_size:
            send(bytes(buffer[: resume.part_size]))
            del buffer[: resume.part_size]
    if size == 0:
        raise BadContent("the download was empty")
    if size < 8:
        raise BadContent("the download is too short to be an MP4 file")
    if size < skip:
        raise FetchError(f"the download ended after {size} bytes, before the {skip} already stored")
    if buffer or not parts:
        send(bytes(buffer))
    return digest, size, parts


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
    raise StorageError(
        f"s3://{store.bucket}/{key} already holds a different object; refusing to overwrite it"
    )
