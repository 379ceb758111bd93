"""Streaming a download into a multipart upload, hashing as the bytes go by.

Memory stays at one part (plus the chunk being read) whatever the size of the video. The
object becomes visible only when the upload completes, and completion is conditional: if an
object already sits under the key, it counts as ours only when its SHA-256 matches.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from receiver.errors import FetchError, StorageError
from receiver.storage import ObjectExists, ObjectStore, UploadedPart

__all__ = ["StoredObject", "upload_stream"]

_MP4_SIGNATURE_OFFSET = slice(4, 8)


@dataclass(frozen=True, kw_only=True)
class StoredObject:
    key: str
    size: int
    sha256: str
    etag: str
    #: False when an identical object was already there (a previous attempt finished it).
    created: bool = True


def upload_stream(
    store: ObjectStore,
    key: str,
    chunks: Iterable[bytes],
    *,
    part_size: int,
    content_type: str = "video/mp4",
    max_bytes: int | None = None,
    on_part: Callable[[int], None] | None = None,
    on_start: Callable[[str], None] | None = None,
) -> StoredObject:
    """Upload ``chunks`` to ``key``; aborts the multipart upload on any failure.

    ``on_start`` learns the upload id first, so that a caller killed mid-way (no chance to
    abort) has left a note for whoever takes over.
    """
    upload_id = store.start_upload(key, content_type=content_type)
    try:
        if on_start:
            on_start(upload_id)
        digest, size, parts = _send_parts(
            store, key, upload_id, chunks, part_size=part_size, max_bytes=max_bytes, on_part=on_part
        )
        try:
            etag = store.complete_upload(key, upload_id, parts)
        except ObjectExists:
            store.abort_upload(key, upload_id)
            return _compare_existing(store, key, digest.hexdigest(), size)
        return StoredObject(key=key, size=size, sha256=digest.hexdigest(), etag=etag)
    except BaseException:
        # Never leave an invisible half-object behind to be billed for.
        with contextlib.suppress(StorageError):
            store.abort_upload(key, upload_id)
        raise


def _send_parts(
    store: ObjectStore,
    key: str,
    upload_id: str,
    chunks: Iterable[bytes],
    *,
    part_size: int,
    max_bytes: int | None,
    on_part: Callable[[int], None] | None,
) -> tuple[hashlib._Hash, int, list[UploadedPart]]:
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray()
    parts: list[UploadedPart] = []
    signature_checked = False
    for chunk in chunks:
        buffer += chunk
        size += len(chunk)
        digest.update(chunk)
        if max_bytes is not None and size > max_bytes:
            raise FetchError(f"the video is larger than {max_bytes} bytes", permanent=True)
        # Parts are at least 5 MiB, so the first 8 bytes are still in the buffer here.
        if not signature_checked and size >= 8:
            if bytes(buffer[_MP4_SIGNATURE_OFFSET]) != b"ftyp":
                raise FetchError("the download is not an MP4 file (no 'ftyp' box at the start)")
            signature_checked = True
        while len(buffer) >= part_size:
            parts.append(
                store.upload_part(key, upload_id, len(parts) + 1, bytes(buffer[:part_size]))
            )
            del buffer[:part_size]
            if on_part:
                on_part(size - len(buffer))
    if size == 0:
        raise FetchError("the download was empty")
    if size < 8:
        raise FetchError("the download is too short to be an MP4 file")
    if buffer or not parts:
        parts.append(store.upload_part(key, upload_id, len(parts) + 1, bytes(buffer)))
        if on_part:
            on_part(size)
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
