"""Media facts (content type; duration, width, height, codec) read from the stored object.

The content type comes from the object's first bytes (:func:`receiver.media.sniff`).
FFmpeg's demuxer (through PyAV) reads a video's or an audio file's headers (duration, and
for a video its size and codec), Pillow an image's (width and height); both seek about the
file as players do, so the object is read through ranged GETs, a few blocks of it, never
downloaded whole. Facts are a description, not a check (the upload checked the kind): a file
they cannot be read from is stored all the same, its facts left empty and the reason logged.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import structlog

from receiver.errors import StorageError
from receiver.media import HEAD_BYTES, sniff
from receiver.storage import ObjectStore

__all__ = ["MediaFacts", "VideoFacts", "probe", "probe_media"]

log = structlog.get_logger(__name__)

#: Each ranged read of the object fetches at least this much (the demuxer reads in small bits).
_BLOCK = 256 * 1024
_HEADER_ONLY = {"probesize": "65536", "analyzeduration": "0"}


@dataclass(frozen=True, kw_only=True)
class VideoFacts:
    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None
    codec: str | None = None


@dataclass(frozen=True, kw_only=True)
class MediaFacts:
    """What a stored file is (None: its first bytes are none we know) and what it says."""

    content_type: str | None
    facts: VideoFacts


def probe_media(store: ObjectStore, key: str, size: int) -> MediaFacts:
    """The content type and facts of the file stored at ``key`` (``size`` bytes)."""
    try:
        head = store.read_range(key, 0, min(size, HEAD_BYTES) - 1) if size else b""
    except StorageError as exc:
        log.warning("archive.probe_failed", key=key, error=str(exc))
        return MediaFacts(content_type=None, facts=VideoFacts())
    found = sniff(head)
    if found is None:
        return MediaFacts(content_type=None, facts=VideoFacts())
    if found.kind == "image":
        return MediaFacts(content_type=found.content_type, facts=_image_facts(store, key, size))
    return MediaFacts(content_type=found.content_type, facts=probe(store, key, size))


def _image_facts(store: ObjectStore, key: str, size: int) -> VideoFacts:
    # Pillow reads the header only (no pixel is decoded): the width and height.
    from PIL import Image, UnidentifiedImageError

    reader = io.BufferedReader(_RangedObject(store, key, size), buffer_size=_BLOCK)
    try:
        with Image.open(reader) as image:
            width, height = image.size
            return VideoFacts(width=width, height=height, codec=(image.format or "").lower())
    except (UnidentifiedImageError, StorageError, OSError, ValueError) as exc:
        log.warning("archive.probe_failed", key=key, error=str(exc))
        return VideoFacts()


def probe(store: ObjectStore, key: str, size: int) -> VideoFacts:
    """The facts of the video stored at ``key`` (``size`` bytes); empty ones if unreadable."""
    # FFmpeg's libraries take ~20 MB: only a process that archives a video loads them.
    import av

    reader = io.BufferedReader(_RangedObject(store, key, size), buffer_size=_BLOCK)
    try:
        # The container's header says all we ask; FFmpeg would otherwise read and decode up
        # to 5 MB of the video per probe to guess what the header already states.
        with av.open(reader, mode="r", options=_HEADER_ONLY) as container:
            return _facts(container, av.time_base)
    except (av.FFmpegError, StorageError, OSError, ValueError) as exc:
        log.warning("archive.probe_failed", key=key, error=str(exc))
        return VideoFacts()


def _facts(container: Any, time_base: int) -> VideoFacts:
    duration = container.duration / time_base if container.duration else None
    if not container.streams.video:
        # An audio file: its length, and its codec.
        audio = container.streams.audio
        return VideoFacts(
            duration_seconds=round(duration, 3) if duration is not None else None,
            codec=audio[0].codec_context.name if audio else None,
        )
    stream = container.streams.video[0]
    if duration is None and stream.duration and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    context = stream.codec_context
    return VideoFacts(
        duration_seconds=round(duration, 3) if duration is not None else None,
        width=context.width or None,
        height=context.height or None,
        codec=context.name,
    )


class _RangedObject(io.RawIOBase):
    """A read-only, seekable file over an S3 object, each read one ranged GET."""

    def __init__(self, store: ObjectStore, key: str, size: int) -> None:
        self._store = store
        self._key = key
        self._size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self._size - self._position)
        if wanted <= 0:
            return 0
        data = self._store.read_range(self._key, self._position, self._position + wanted - 1)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)
