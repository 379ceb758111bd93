"""Downloading a provider's video without becoming a proxy into our own network.

The callback body is unsigned, so its video URL is attacker-controlled until proven
otherwise. Before every request, and again for every redirect, the URL must be https
(outside insecure mode), on an allowed host when an allow-list is set, and resolve only to
globally routable addresses (loopback is tolerated in insecure mode, for local runs).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from receiver.errors import FetchError, LinkExpired, UnsafeURL

__all__ = [
    "FetchPolicy",
    "GuardedBackend",
    "Opened",
    "allowed_addresses",
    "check_url",
    "guarded_client",
    "open_video",
    "stream_video",
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
class FetchPolicy:
    allow_insecure: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    max_redirects: int = 5
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


# Global by the ipaddress module's tables, yet a way back into private space.
_TRANSLATED = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def check_url(url: str, policy: FetchPolicy) -> None:
    """Raise :class:`UnsafeURL` unless ``url``'s scheme and host may be fetched from.

    Addresses are checked when connecting (:class:`GuardedBackend`), so that DNS cannot
    answer one thing to the check and another to the connection.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise UnsafeURL(f"not a valid URL: {exc}") from None
    if parts.scheme not in {"https", "http"} or not host:
        raise UnsafeURL(f"not an http(s) URL: {parts.scheme}://{host or ''}")
    if parts.scheme == "http" and not policy.allow_insecure:
        raise UnsafeURL(f"refusing plain http for {host} (https only outside insecure mode)")
    if policy.allowed_hosts and host.lower() not in policy.allowed_hosts:
        raise UnsafeURL(f"{host} is not in RECEIVER_FETCH_ALLOWED_HOSTS")


def allowed_addresses(host: str, port: int, policy: FetchPolicy) -> list[str]:
    """Every address ``host`` resolves to, if all of them are ones we may connect to."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    for address in addresses:
        if address.is_loopback and policy.allow_insecure:
            continue
        if not _public(address):
            raise UnsafeURL(f"{host} resolves to {address}, which is not a public address")
    return [str(address) for address in addresses]


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    # ``is_global`` alone lets multicast through (224.0.0.0/4 and ff00::/8 are in no
    # "private" table), and NAT64, 6to4 and Teredo addresses lead back into IPv4 space.
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.sixtofour or (address.teredo[1] if address.teredo else None)
        if address.is_site_local or (embedded is not None and not _public(embedded)):
            return False
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not any(address in net for net in _TRANSLATED)
    )


class GuardedBackend(httpcore.NetworkBackend):
    """Connects only to addresses :func:`allowed_addresses` approves, resolved right here.

    The URL keeps its host name, so TLS verification, SNI, the Host header and connection
    pooling all stay those of the name; only the socket goes to the checked address.
    """

    def __init__(self, policy: FetchPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception | None = None
        for address in allowed_addresses(host, port, self._policy):
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # try the next address, as a browser would
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise UnsafeURL("unix sockets are never fetched from")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def guarded_client(policy: FetchPolicy, *, timeout: float) -> httpx.Client:
    """An httpx client that can only reach what ``policy`` allows, at connection time.

    ``trust_env=False``: an egress proxy would connect on our behalf to addresses we never
    checked, so none is used.
    """
    transport = httpx.HTTPTransport(trust_env=False)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=20,
        max_keepalive_connections=10,
        keepalive_expiry=5.0,
        network_backend=GuardedBackend(policy),
    )
    return httpx.Client(transport=transport, trust_env=False, timeout=httpx.Timeout(timeout))


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
    start: int = 0,
    if_range: str | None = None,
) -> Iterator[httpx.Response]:
    """A streaming 200 (or 206) response for ``url``, redirects followed by hand and checked.

    With ``if_range`` (a validator from :func:`validator`) the file is asked for from byte
    ``start`` on, but only if it is still that file: a source that changed it, or that does
    not do ranges, answers 200 with the whole of it instead.
    ``client`` must come from :func:`guarded_client`: it checks every address it connects to.
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
                _check_response(response, policy, start=start if condition else None)
                yield response
                return
        except httpx.InvalidURL as exc:
            raise UnsafeURL(f"not a valid URL: {exc}") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"download failed: {type(exc).__name__}: {exc}") from exc
        except UnicodeError as exc:
            raise UnsafeURL(f"not a valid host name: {exc}") from exc
    raise UnsafeURL(f"more than {policy.max_redirects} redirects")


def stream_video(
    client: httpx.Client,
    url: str,
    policy: FetchPolicy,
    *,
    chunk_size: int | None = None,
    start: int = 0,
    if_range: str | None = None,
    on_open: Callable[[Opened], None] | None = None,
) -> Generator[bytes, None, None]:
    """The video's bytes, lazily: nothing is requested until the first chunk is wanted.

    Chunks come as the network hands them over unless ``chunk_size`` asks otherwise (any
    re-chunking is a copy of every byte).

    ``on_open`` learns the response's validator, the file's length and where the body starts
    before the first byte, so a resumed upload can tell whether the source is still the same
    file (and served the rest of it), and progress can be reported against the whole.
    Ends with :class:`FetchError` if the body stops short of its ``Content-Length``.
    """
    with open_video(client, url, policy, start=start, if_range=if_range) as response:
        length = response.headers.get("content-length")
        expected = int(length) if length and length.isdigit() else None
        if on_open is not None:
            on_open(_opened(response, expected))
        received = 0
        # Raw: the bytes as sent (identity was asked for and is checked), with no decoder
        # between the socket and the hash.
        body = (
            response.iter_raw(chunk_size)
            if chunk_size is not None or expected is None
            else _body_from_socket(response, expected, timeout=client.timeout.read)
        )
        floor = (
            RateFloor(policy.min_rate, policy.rate_window, time.monotonic())
            if policy.min_rate
            else None
        )
        for chunk in body:
            received += len(chunk)
            if floor is not None:
                floor.add(len(chunk), time.monotonic())
            yield chunk
        if expected is not None and received != expected:
            raise FetchError(f"the download ended after {received} of {expected} bytes")


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


def _check_response(response: httpx.Response, policy: FetchPolicy, *, start: int | None) -> None:
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
        if total > policy.max_bytes:
            raise FetchError(
                f"the video is {total} bytes, over RECEIVER_MAX_VIDEO_BYTES ({policy.max_bytes})",
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
    if length is not None and length.isdigit() and int(length) > policy.max_bytes:
        raise FetchError(
            f"the video is {int(length)} bytes, over RECEIVER_MAX_VIDEO_BYTES ({policy.max_bytes})",
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
