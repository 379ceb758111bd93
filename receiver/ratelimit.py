"""A token bucket: at most ``rate`` events a second on average, ``burst`` at once.

Used where anyone on the internet can make us do something (write a row about a rejected
request, try a sign-in): past the budget, the request is still answered, but costs nothing
more. Pure: the caller passes the time, so tests need no clock.
"""

from __future__ import annotations

import threading

__all__ = ["TokenBucket"]


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._at: float | None = None
        self._lock = threading.Lock()

    def take(self, now: float) -> bool:
        """Spend one token if there is one; ``now`` in seconds from any fixed origin."""
        with self._lock:
            if self._at is not None and now > self._at:
                self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now if self._at is None else max(self._at, now)
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True
