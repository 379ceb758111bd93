"""Downloading a provider's video: ranged and conditional, checked, read off the socket.

The callback body is unsigned, so its video URL is attacker-controlled until proven
otherwise: every request, and every redirect (followed here, by hand), goes through the
guard of :mod:`receiver.guarded_http`. A :class:`Download` is lazy and says what it opened
(:class:`Opened`) once the source answered, so a resumed archive can tell whether the
source still serves the same file before it reads on.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from receiver.errors import FetchError, LinkExpired, UnsafeURL
from receiver.guarded_http import FetchPolicy, check_url

__all__ = [
    "Download",
    "DownloadLimits",
    "Opened",
    "RateFloor",
    "open_video",
    "stream_video",
    "validator",
]

_PERMANENT_STATUSES = frozenset({401, 404})
#: A presigned link past its expiry answers these (S3: 403 "Request has expired").
_EXPIRED_STATUSES = frozenset({403, 410})
_NOT_VIDEO = frozenset({"application/json", "application/xml", "application/xhtml+xml"})
#: Bytes asked of the socket at once for a body read raw: fewer, larger pieces, each still
#: under the size glibc would map fresh pages for (see :mod:`receiver.archive.memory`).
_RECV_BYTES = 256 * 1024
_CONTENT_RANGE = re.compile(r"bytes (?P<first>\d+)-(?P<last>\d+)/(?P<total>\d+|\*)")


@dataclass(frozen=True, kw_only=True)
class DownloadLimits:
    """What a video download may cost: its size, and how slowly its source may send it."""

    max_bytes: int = 2 * 1024**3
    #: Bytes a second a source must average over each ``rate_window`` (0: no floor). The
    #: read timeout alone lets a source that sends a byte just before it holds an archive
    #: thread for as long as the link lives.
    min_rate: int = 0
    rate_window: float = 60.0


class RateFloor:
    """Fails a download whose source sends less than ``min_rate`` bytes a second, averaged
    over each ``window`` seconds. Pure: the caller passes the time."""

    def __init__(self, min_rate: int, window: float, now: float) -> None:
        self.min_rate = min_rate
        self.window = window
        self._since = now
        self._bytes = 0

    def add(self, size: int, now: float) -> None:
        self._bytes += size
        elapsed = now - self._since
        if elapsed < self.window:
            return
        if self._bytes < self.min_rate * elapsed:
            raise FetchError(
                f"download failed: the source sent {self._bytes} bytes in {elapsed:.0f} s, "
                f"slower than RECEIVER_FETCH_MIN_RATE ({self.min_rate} bytes/s)"
            )
        self._since, self._bytes = now, 0


@dataclass(frozen=True, kw_only=True)
class Opened:
    """What a response says about the body that follows, before its first byte."""

    #: What identifies this exact file at the source (see :func:`validator`).
    validator: str | None
    #: The whole file's length, when the source says it.
    length: int | None
    #: Where in the file the body starts: the asked offset for a 206, else 0.
    offset: int


@contextmanager
def open_video(
    client: httpx.Client,
    url: str,
    policy: FetchPolicy,
    *,
    limits: DownloadLimits,
    start: int = 0,
    if_range: str | None = None,
) -> Iterator[httpx.Response]:
    """A streaming 200 (or 206) response for ``url``, redirects followed by hand and checked.

    With ``if_range`` (a validator from :func:`validator`) the file is asked for from byte
    ``start`` on, but only if it is still that file: a source that changed it, or that does
    not do ranges, answers 200 with the whole of it instead.
    ``client`` must come from :func:`~receiver.guarded_http.guarded_client`: it checks every
    address it connects to.
    """
    # The bytes as stored at the source: a compressed transfer would be decoded and no
    # longer match its Content-Length, and its hash would not be the file's.
    headers = {"accept-encoding": "identity"}
    condition = _if_range_header(if_range)
    if condition is not None:
        headers |= {"range": f"bytes={start}-", "if-range": condition}
    for _ in range(policy.max_redirects + 1):
        check_url(url, policy)
        try:
            with client.stream("GET", url, headers=headers, follow_redirects=False) as response:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("location", ""))
                    continue
                _check_response(response, limits, start=start if condition else None)
                yield response
                return
        except httpx.InvalidURL as exc:
            raise UnsafeURL(f"not a valid URL: {exc}") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"download failed: {type(exc).__name__}: {exc}") from exc
        except UnicodeError as exc:
            raise UnsafeURL(f"not a valid host name: {exc}") from exc
    raise UnsafeURL(f"more than {policy.max_redirects} redirects")


class Download(Iterator[bytes]):
    """A video's bytes, lazily: nothing is requested until :meth:`open` or the first chunk.

    :attr:`opened` is what the answer says about the file (its validator, whole length and
    where the body starts), known before the first byte is handed over, so a resumed upload
    can tell whether the source is still the same file (and served the rest of it), and
    progress can be reported against the whole. Chunks come as the network hands them over
    unless ``chunk_size`` asks otherwise (any re-chunking is a copy of every byte). Ends with
    :class:`FetchError` if the body stops short of its ``Content-Length``.
    """

    def __init__(
        self,
        client: httpx.Client,
        url: str,
        policy: FetchPolicy,
        *,
        limits: DownloadLimits | None = None,
        chunk_size: int | None = None,
        start: int = 0,
        if_range: str | None = None,
    ) -> None:
        #: What the source opened; None until it answered.
        self.opened: Opened | None = None
        #: The first chunk, when :meth:`open` had to read it to see the answer.
        self._peeked: bytes | None = None
        self._chunks = self._stream(
            client,
            url,
            policy,
            limits or DownloadLimits(),
            chunk_size=chunk_size,
            start=start,
            if_range=if_range,
        )

    def open(self) -> Opened:
        """Send the request now and read the answer's head: what the source opened."""
        if self.opened is None:
            # The answer's head comes before the body's first chunk: it is read (and held
            # for the iteration) to learn it.
            self._peeked = next(self._chunks, b"")
        assert self.opened is not None
        return self.opened

    def __next__(self) -> bytes:
        if self._peeked:
            chunk, self._peeked = self._peeked, None
            return chunk
        return next(self._chunks)

    def close(self) -> None:
        """Close the response now, not whenever the download is collected."""
        self._chunks.close()

    def _stream(
        self,
        client: httpx.Client,
        url: str,
        policy: FetchPolicy,
        limits: DownloadLimits,
        *,
        chunk_size: int | None,
        start: int,
        if_range: str | None,
    ) -> Generator[bytes, None, None]:
        with open_video(
            client, url, policy, limits=limits, start=start, if_range=if_range
        ) as response:
            length = response.headers.get("content-length")
            expected = int(length) if length and length.isdigit() else None
            self.opened = _opened(response, expected)
            received = 0
            # Raw: the bytes as sent (identity was asked for and is checked), with no decoder
            # between the socket and the hash.
            body = (
                response.iter_raw(chunk_size)
                if chunk_size is not None or expected is None
                else _body_from_socket(response, expected, timeout=client.timeout.read)
            )
            floor = (
                RateFloor(limits.min_rate, limits.rate_window, time.monotonic())
                if limits.min_rate
                else None
            )
            for chunk in body:
                received += len(chunk)
                if floor is not None:
                    floor.add(len(chunk), time.monotonic())
                yield chunk
            if expected is not None and received != expected:
                raise FetchError(f"the download ended after {received} of {expected} bytes")


def stream_video(
    client: httpx.Client,
    url: str,
    policy: FetchPolicy,
    *,
    limits: DownloadLimits | None = None,
    chunk_size: int | None = None,
    start: int = 0,
    if_range: str | None = None,
) -> Download:
    """The video at ``url``, as a lazy :class:`Download`."""
    return Download(
        client,
        url,
        policy,
        limits=limits,
        chunk_size=chunk_size,
        start=start,
        if_range=if_range,
    )


def _body_from_socket(
    response: httpx.Response, length: int, *, timeout: float | None
) -> Iterator[bytes]:
    """A body of ``length`` bytes, read from the connection's socket once its framing allows.

    httpx hands a body over in the pieces its parser makes of each 64 KiB read, and the
    layers in between cost more CPU than the kernel's receiving the bytes (here 0.6 against
    0.26 CPU-seconds per GB for the whole download, parser and raw). A body framed by
    ``Content-Length`` alone needs no parser: after the bytes the parser already holds (the
    first chunk: it hands over all it buffered past the headers), the rest is read here in
    larger pieces. The parser then never sees the end of the body, so the connection is
    closed with the response rather than reused: one connection per video.
    """
    raw = response.iter_raw()
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if (
        not isinstance(sock, socket.socket)
        or "transfer-encoding" in response.headers
        or response.http_version not in {"HTTP/1.1", "HTTP/1.0"}
    ):
        yield from raw
        return
    received = 0
    if length:
        first = next(raw, b"")
        received = len(first)
        if first:
            yield first
    try:
        sock.settimeout(timeout)
        while 0 < received < length:
            chunk = sock.recv(min(_RECV_BYTES, length - received))
            if not chunk:
                raise FetchError(
                    "download failed: the source closed the connection after "
                    f"{received} of {length} bytes"
                )
            received += len(chunk)
            yield chunk
    except TimeoutError as exc:
        raise FetchError(f"download failed: ReadTimeout: {exc}") from exc
    except OSError as exc:
        raise FetchError(f"download failed: ReadError: {exc}") from exc


def _opened(response: httpx.Response, body_length: int | None) -> Opened:
    if response.status_code == 206:
        first, total = _content_range(response.headers.get("content-range", ""))
        return Opened(validator=validator(response.headers, total), length=total, offset=first)
    return Opened(validator=validator(response.headers, body_length), length=body_length, offset=0)


def _content_range(value: str) -> tuple[int, int]:
    """``bytes FIRST-LAST/TOTAL`` as (FIRST, TOTAL), if it runs to the end of the file.

    We only ever ask for the rest of a file: an answer that stops short of its end (some
    servers cap open ranges) or does not say the total would store a truncated video.
    """
    match = _CONTENT_RANGE.fullmatch(value.strip())
    if match is None or match.group("total") == "*":
        raise FetchError(f"the video source answered 206 with an unusable Content-Range: {value!r}")
    first, last, total = (int(match.group(name)) for name in ("first", "last", "total"))
    if last != total - 1 or first > last:
        raise FetchError(f"the video source answered only bytes {first}-{last} of {total}")
    return first, total


def _if_range_header(source_validator: str | None) -> str | None:
    """The If-Range value for one of our validators: the strong ETag, else the date."""
    if not source_validator:
        return None
    kind, _, value = source_validator.partition(":")
    if kind == "etag":
        return value
    if kind == "modified":
        return value.rpartition(":")[0] or None
    return None


def validator(headers: httpx.Headers, length: int | None) -> str | None:
    """What identifies this exact file at the source: a strong ETag, else Last-Modified.

    ``length`` is the whole file's (not a 206 body's), so that both answers agree.
    """
    etag = headers.get("etag")
    if etag and not etag.startswith("W/"):
        return f"etag:{etag}"
    modified = headers.get("last-modified")
    return f"modified:{modified}:{length}" if modified else None


def _check_response(response: httpx.Response, limits: DownloadLimits, *, start: int | None) -> None:
    status = response.status_code
    if status == 206 and start is not None:
        first, total = _content_range(response.headers.get("content-range", ""))
        if first != start:
            raise FetchError(f"asked for the video from byte {start}, got it from byte {first}")
        length = response.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) != total - first):
            raise FetchError(
                f"the video source's 206 says {length} bytes for bytes {first}-{total - 1}"
            )
        _check_content_type(response)
        _check_identity(response)
        if total > limits.max_bytes:
            raise FetchError(
                f"the video is {total} bytes, over RECEIVER_MAX_VIDEO_BYTES ({limits.max_bytes})",
                permanent=True,
            )
        return
    if status in _EXPIRED_STATUSES:
        raise LinkExpired(f"the video source answered {status}: the link has expired")
    if status != 200:
        raise FetchError(
            f"the video source answered {status}", permanent=status in _PERMANENT_STATUSES
        )
    _check_content_type(response)
    _check_identity(response)
    length = response.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limits.max_bytes:
        raise FetchError(
            f"the video is {int(length)} bytes, over RECEIVER_MAX_VIDEO_BYTES ({limits.max_bytes})",
            permanent=True,
        )


def _check_content_type(response: httpx.Response) -> None:
    """An error page (HTML, JSON, text) served with 200 is not a video, whatever its size."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind.startswith("text/") or kind in _NOT_VIDEO:
        raise FetchError(f"the video source answered {kind}, not a video")


def _check_identity(response: httpx.Response) -> None:
    """A body compressed in transit (though we asked for identity) is not the file's bytes."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in {"", "identity"}:
        raise FetchError(f"the video source sent the video {encoding}-encoded")
