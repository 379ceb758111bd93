"""httpx's internals that receiver relies on (see :mod:`receiver.compat`).

httpx's transport builds its own connection pool and lets no network backend be chosen; the
archiver's SSRF guard is a network backend that checks every address it connects to
(``receiver.guarded_http.GuardedBackend``), so the transport is given a pool built with it.
"""

from __future__ import annotations

import httpcore
import httpx

from receiver.compat import Reach

__all__ = ["REACHES", "transport_over"]

REACHES = (
    Reach(
        name="httpx.HTTPTransport._pool",
        checked="httpx>=0.28.1,<0.29",
        why=(
            "transport_over replaces the pool the transport sends through (handle_request "
            "calls self._pool.handle_request), so that an httpx client connects only "
            "through the SSRF-guarded network backend."
        ),
    ),
)


def transport_over(pool: httpcore.ConnectionPool) -> httpx.HTTPTransport:
    """An httpx transport that sends every request through ``pool``.

    ``trust_env=False``: the transport's own pool (replaced at once, never used) reads no
    proxy or certificate settings from the environment either.
    """
    transport = httpx.HTTPTransport(trust_env=False)
    transport._pool = pool
    return transport
