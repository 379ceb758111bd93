"""Downloading a provider's video without becoming a proxy into our own network.

The callback body is unsigned, so its video URL is attacker-controlled until proven
otherwise. Before every request, and again for every redirect, the URL must be https
(outside insecure mode), on an allowed host when an allow-list is set, and resolve only to
globally routable addresses (loopback is tolerated in insecure mode, for local runs).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from receiver.errors import FetchError, UnsafeURL

__all__ = ["FetchPolicy", "check_url", "open_video"]

_PERMANENT_STATUSES = frozenset({401, 403, 404, 410})


@dataclass(frozen=True, kw_only=True)
class FetchPolicy:
    allow_insecure: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    max_redirects: int = 5
    max_bytes: int = 2 * 1024**3


def check_url(url: str, policy: FetchPolicy) -> None:
    """Raise :class:`UnsafeURL` unless ``url`` is somewhere we may fetch from."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in {"https", "http"} or not host:
        raise UnsafeURL(f"not an http(s) URL: {parts.scheme}://{host or ''}")
    if parts.scheme == "http" and not policy.allow_insecure:
        raise UnsafeURL(f"refusing plain http for {host} (https only outside insecure mode)")
    if policy.allowed_hosts and host.lower() not in policy.allowed_hosts:
        raise UnsafeURL(f"{host} is not in RECEIVER_FETCH_ALLOWED_HOSTS")
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_global:
            continue
        if address.is_loopback and policy.allow_insecure:
            continue
        raise UnsafeURL(f"{host} resolves to {address}, which is not a public address")


@contextmanager
def open_video(client: httpx.Client, url: str, policy: FetchPolicy) -> Iterator[httpx.Response]:
    """A streaming 200 response for ``url``, redirects followed by hand and each one checked."""
    for _ in range(policy.max_redirects + 1):
        check_url(url, policy)
        try:
            with client.stream("GET", url, follow_redirects=False) as response:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("location", ""))
                    continue
                _check_response(response, policy)
                yield response
                return
        except httpx.HTTPError as exc:
            raise FetchError(f"download failed: {type(exc).__name__}: {exc}") from exc
    raise UnsafeURL(f"more than {policy.max_redirects} redirects")


def _check_response(response: httpx.Response, policy: FetchPolicy) -> None:
    status = response.status_code
    if status != 200:
        raise FetchError(
            f"the video source answered {status}"
            + (" (the link has probably expired)" if status in {403, 410} else ""),
            permanent=status in _PERMANENT_STATUSES,
        )
    length = response.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > policy.max_bytes:
        raise FetchError(
            f"the video is {int(length)} bytes, over RECEIVER_MAX_VIDEO_BYTES ({policy.max_bytes})",
            permanent=True,
        )
