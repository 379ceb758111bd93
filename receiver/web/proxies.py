"""The real client address behind trusted reverse proxies.

``X-Forwarded-For`` is only believed when the peer is a proxy we trust
(``RECEIVER_TRUSTED_PROXIES``), and then read from the right: each trusted hop is skipped,
and the first address that is not a trusted proxy is the client. Anything left of it was
written by the client itself and proves nothing.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

__all__ = ["client_address"]


def _trusted(
    address: str, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: Sequence[str]
) -> str | None:
    networks = _networks(tuple(trusted))
    if peer is None or not networks or not _trusted(peer, networks) or not forwarded_for:
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_ip(hop):
            # A hop that is not an address was not written by a proxy of ours.
            return peer
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer


@functools.cache
def _networks(
    trusted: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    # Asked on every request, with the same few settings every time.
    return tuple(ipaddress.ip_network(item) for item in trusted)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
