"""Honouring the provider's 429 for many submissions at once.

The threads of a batch share one :class:`Pacer`. A 429 answer pauses *all* of them until the
provider's ``Retry-After`` has passed (hammering it from the other threads would only earn
more 429s), and a job refused again waits twice as long as before, with jitter so the
threads do not return in lockstep. A 429 means the provider created nothing, so sending the
same create again cannot make a second video.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

__all__ = ["Pacer"]


class Pacer:
    def __init__(
        self,
        *,
        max_retries: int = 8,
        max_pause: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_retries = max_retries
        self.max_pause = max_pause
        self._sleep = sleep
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._resume_at = 0.0
        #: How many 429 answers were honoured (for the batch's summary).
        self.rate_limited = 0

    def wait_turn(self) -> None:
        """Block while a 429 pause is on."""
        while True:
            with self._lock:
                remaining = self._resume_at - self._monotonic()
            if remaining <= 0:
                return
            self._sleep(remaining)

    def back_off(self, attempt: int, retry_after: float) -> bool:
        """Record a 429 on the ``attempt``-th retry (0 first); False when retries are spent."""
        if attempt >= self.max_retries:
            return False
        pause = min(self.max_pause, max(retry_after, 0.1) * 2**attempt)
        pause *= 1 + random.random() / 5  # noqa: S311 (jitter, not secrecy)
        with self._lock:
            self.rate_limited += 1
            self._resume_at = max(self._resume_at, self._monotonic() + pause)
        return True
