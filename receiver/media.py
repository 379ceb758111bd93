"""What a result's bytes are: its kind (video, image, audio), content type and file extension.

Pure functions on a URL and the first bytes of a file. The intake picks each result's kind
(what the task says, else what its URL's extension says, else video) and the extension of
its object key (the URL's, if it is one of that kind's, else the kind's usual one) before a
byte is downloaded, since the key must be fixed for every attempt to aim at the same object.
The upload then holds the bytes to the kind (:func:`refusal`: an error page served with 200
is never stored), and the stored object's content type is read from its own first bytes
(:func:`sniff`), never believed from the source's headers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import get_args

from receiver.providers.base import MediaKind

__all__ = [
    "HEAD_BYTES",
    "KINDS",
    "MediaType",
    "extension_for",
    "kind_for",
    "refusal",
    "sniff",
]

#: The bytes :func:`sniff` needs from the start of a file.
HEAD_BYTES = 12
KINDS: tuple[MediaKind, ...] = get_args(MediaKind)


@dataclass(frozen=True, kw_only=True)
class MediaType:
    content_type: str
    extension: str
    kind: MediaKind


MP4 = MediaType(content_type="video/mp4", extension="mp4", kind="video")
MOV = MediaType(content_type="video/quicktime", extension="mov", kind="video")
PNG = MediaType(content_type="image/png", extension="png", kind="image")
JPEG = MediaType(content_type="image/jpeg", extension="jpg", kind="image")
WEBP = MediaType(content_type="image/webp", extension="webp", kind="image")
MP3 = MediaType(content_type="audio/mpeg", extension="mp3", kind="audio")
WAV = MediaType(content_type="audio/wav", extension="wav", kind="audio")
OGG = MediaType(content_type="audio/ogg", extension="ogg", kind="audio")

#: The extensions a result's URL may give its key, per kind (the first is the default).
_EXTENSIONS: dict[MediaKind, tuple[str, ...]] = {
    "video": ("mp4", "mov"),
    "image": ("png", "jpg", "jpeg", "webp"),
    "audio": ("mp3", "wav", "ogg"),
}
#: What each kind accepts, as the refusal says it.
_ACCEPTED: dict[MediaKind, str] = {
    "video": "an MP4 file (no 'ftyp' box at the start)",
    "image": "a PNG, JPEG or WebP image",
    "audio": "an MP3, WAV or OGG file",
}


def _is_mp3(head: bytes) -> bool:
    # An ID3 tag, or an MPEG audio frame's sync word (11 bits set) with layer III.
    return head.startswith(b"ID3") or (
        len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06 == 0x02
    )


_SIGNATURES: tuple[tuple[Callable[[bytes], bool], MediaType], ...] = (
    (lambda head: head[4:8] == b"ftyp" and head[8:12] == b"qt  ", MOV),
    (lambda head: head[4:8] == b"ftyp", MP4),
    (lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"), PNG),
    (lambda head: head.startswith(b"\xff\xd8\xff"), JPEG),
    (lambda head: head.startswith(b"RIFF") and head[8:12] == b"WEBP", WEBP),
    (lambda head: head.startswith(b"RIFF") and head[8:12] == b"WAVE", WAV),
    (lambda head: head.startswith(b"OggS"), OGG),
    (_is_mp3, MP3),
)


def sniff(head: bytes) -> MediaType | None:
    """The media type the first bytes of a file show, or None for none we store."""
    return next((media for matches, media in _SIGNATURES if matches(head)), None)


def refusal(kind: MediaKind, head: bytes) -> str | None:
    """Why a file starting with ``head`` is not a ``kind`` we store, or None when it is."""
    found = sniff(head)
    if found is not None and found.kind == kind:
        return None
    return f"the download is not {_ACCEPTED[kind]}"


def kind_for(url: str, stated: MediaKind | None) -> MediaKind:
    """A result's kind: what the task stated, else what the URL's extension says, else video
    (what most of the catalogue makes)."""
    if stated is not None:
        return stated
    extension = _extension(url)
    for kind, extensions in _EXTENSIONS.items():
        if extension in extensions:
            return kind
    return "video"


def extension_for(url: str, kind: MediaKind) -> str:
    """The extension of a result's object key: its URL's, if one of ``kind``'s, else the
    kind's usual one (``mp4``, ``png``, ``mp3``)."""
    extension = _extension(url)
    if extension == "jpeg":
        extension = "jpg"
    return extension if extension in _EXTENSIONS[kind] else _EXTENSIONS[kind][0]


def _extension(url: str) -> str:
    """The extension of the last segment of an http(s) ``url``'s path, lower case; "" when
    none (and for "", the placeholder of a result the provider has yet to name).

    Read by hand rather than with ``urlsplit`` (on the callback path, for every result):
    the path of an http(s) URL ends at its first ``?`` or ``#``. Held to the ``urlsplit``
    reading by tests/unit/test_task_results.py.
    """
    end = len(url)
    for mark in ("?", "#"):
        at = url.find(mark)
        if 0 <= at < end:
            end = at
    scheme_end = url.find("://")
    start = url.find("/", scheme_end + 3) if scheme_end >= 0 else 0
    if start < 0 or start >= end:
        return ""
    name = url[start:end].rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""
