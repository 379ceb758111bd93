"""/readyz probes the database and the bucket at most once a second, however often it is asked."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import cast

from receiver.context import Context
from receiver.web.app import Readiness


def test_concurrent_and_repeated_checks_share_one_probe() -> None:
    calls = {"database": 0, "bucket": 0}

    def ping(name: str) -> None:
        calls[name] += 1
        if name == "bucket":
            raise ConnectionError("the store is down")

    ctx = SimpleNamespace(
        db=SimpleNamespace(ping=lambda: ping("database")),
        store=SimpleNamespace(ping=lambda: ping("bucket")),
    )
    readiness = Readiness(cast(Context, ctx), ttl=60.0)

    async def ask(times: int) -> list[dict[str, str]]:
        return await asyncio.gather(*(readiness.checks() for _ in range(times)))

    answers = asyncio.run(ask(50))
    assert answers[0] == {"database": "ok", "bucket": "failing: ConnectionError"}
    assert all(answer == answers[0] for answer in answers)
    assert calls == {"database": 1, "bucket": 1}
    expired = Readiness(cast(Context, ctx), ttl=0.0)
    asyncio.run(expired.checks())
    asyncio.run(expired.checks())
    assert calls == {"database": 3, "bucket": 3}
