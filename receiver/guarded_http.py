"""An HTTP client that cannot be turned into a proxy into our own network.

Both the archiver (a video URL from an unsigned callback body) and the notifier (a
subscriber's URL) fetch from addresses someone else chose. Before every request, and again
for every redirect the caller follows, the URL must be https (outside insecure mode), on an
allowed host when an allow-list is set, and resolve only to globally routable addresses
(loopback is tolerated in insecure mode, for local runs). Addresses are checked when the
socket connects, so DNS cannot answer one thing to the check and another to the connection.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from receiver.compat.httpx_internals import transport_over
from receiver.errors import FetchError, UnsafeURL

__all__ = [
    "FetchPolicy",
    "GuardedBackend",
    "allowed_addresses",
    "check_url",
    "guarded_client",
]


@dataclass(frozen=True, kw_only=True)
class FetchPolicy:
    """Where an outbound request may go."""

    allow_insecure: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    #: Redirects a caller that follows them by hand (a video download) follows at most.
    max_redirects: int = 5


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
    transport = transport_over(
        httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=20,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(policy),
        )
    )
    return httpx.Client(transport=transport, trust_env=False, timeout=httpx.Timeout(timeout))
