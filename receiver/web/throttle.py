"""Sign-in throttling: a few wrong admin tokens per client address, then a pause.

After ``failures`` wrong tokens within ``window`` seconds from one address, every sign-in
from it (a right token too, or the answers would still tell guesses apart) is refused until
the oldest of those failures leaves the window. A sign-in that succeeds clears the address.

The count is kept in memory, per process: each replica (and each restart) counts on its own.
It is bounded: at most ``max_clients`` addresses are remembered, and the one whose last
failure is the oldest is forgotten first. IPv6 clients are counted by their /64 network,
which one host usually holds whole. A wrong bearer token on ``/v1`` is not counted: there,
the token's minimum length (24 characters, checked at start-up) is what defeats guessing.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["SignInThrottle"]


def _client_key(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else ip)


class SignInThrottle:
    """Failed sign-ins per client address. Used from the event loop only: no lock."""

    def __init__(
        self,
        *,
        failures: int = 5,
        window: float = 15 * 60.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures = failures
        self.window = window
        self.max_clients = max_clients
        self._clock = clock
        #: Address → the times of its last ``failures`` failures, oldest first.
        self._failed: OrderedDict[str, tuple[float, ...]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._failed)

    def _recent(self, key: str, now: float) -> tuple[float, ...]:
        return tuple(t for t in self._failed.get(key, ()) if t > now - self.window)

    def retry_after(self, address: str) -> float:
        """Seconds until ``address`` may try again: 0 when it may now."""
        now = self._clock()
        recent = self._recent(_client_key(address), now)
        if len(recent) < self.failures:
            return 0.0
        return recent[-self.failures] + self.window - now

    def failed(self, address: str) -> None:
        key, now = _client_key(address), self._clock()
        self._failed[key] = (*self._recent(key, now), now)[-self.failures :]
        self._failed.move_to_end(key)
        while len(self._failed) > self.max_clients:
            self._failed.popitem(last=False)

    def succeeded(self, address: str) -> None:
        self._failed.pop(_client_key(address), None)
