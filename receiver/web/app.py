"""The Starlette application factory."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from receiver import metrics
from receiver.context import Context
from receiver.store.group_commit import GroupCommitter
from receiver.web.access_log import AccessLogMiddleware
from receiver.web.api import api_routes
from receiver.web.body_limit import BodyLimit
from receiver.web.callbacks import CallbackRoutes
from receiver.web.error_json import EXCEPTION_HANDLERS
from receiver.web.gallery import gallery_routes
from receiver.web.jobs_api import job_routes
from receiver.web.openapi import openapi_routes
from receiver.web.security_headers import SecurityHeaders
from receiver.web.sessions import SessionMiddleware
from receiver.web.sse import event_routes

if TYPE_CHECKING:
    from receiver.runtime import Parts

__all__ = ["create_app"]


async def healthz(_request: Request) -> JSONResponse:
    """Alive: the process answers. Says nothing about its dependencies (see /readyz)."""
    return JSONResponse({"status": "ok"})


class Readiness:
    """The last answer of /readyz, reused for a second.

    /readyz costs a database query and an S3 request; anyone who can reach it could
    otherwise make us send the store as many requests as they send us. Concurrent checks
    share one probe.
    """

    def __init__(self, ctx: Context, *, ttl: float = 1.0) -> None:
        self._ctx = ctx
        self._ttl = ttl
        self._lock = asyncio.Lock()
        self._answer: tuple[float, dict[str, str]] | None = None

    async def checks(self) -> dict[str, str]:
        async with self._lock:
            now = time.monotonic()
            if self._answer is None or now - self._answer[0] >= self._ttl:
                self._answer = (now, await self._probe())
            return self._answer[1]

    async def _probe(self) -> dict[str, str]:
        ctx = self._ctx
        checks: dict[str, str] = {}
        # Lambdas, not bound methods: building ctx.db or ctx.store may itself fail, and must
        # fail inside the check.
        probes = (("database", lambda: ctx.db.ping()), ("bucket", lambda: ctx.store.ping()))  # noqa: PLW0108
        for name, ping in probes:
            try:
                await run_in_threadpool(ping)
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = f"failing: {type(exc).__name__}"
        return checks


async def readyz(request: Request) -> JSONResponse:
    """Ready: the database and the bucket answer, so callbacks can be taken and archived."""
    readiness: Readiness = request.state.readiness
    checks = await readiness.checks()
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", **checks}, 200 if ready else 503
    )


async def metrics_endpoint(request: Request) -> Response:
    body = await run_in_threadpool(generate_latest, request.state.metrics)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def create_app(
    ctx: Context,
    *,
    committer: GroupCommitter,
    parts: Parts,
    wake: Callable[[], None] | None = None,
) -> Starlette:
    """The receiver app. ``parts`` (the committer among them) start and stop with it;
    ``wake`` tells an in-process archiver that a callback enqueued work.

    Assembled by :mod:`receiver.runtime`. Handlers find ``ctx`` and the metrics registry in
    the lifespan state (``request.state``), handed to them, never looked up in globals.
    """

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        # Fail at start-up, not at the first callback, when the database or keys are wrong.
        await run_in_threadpool(lambda: (ctx.db, ctx.signer))
        await run_in_threadpool(parts.start)
        try:
            yield {
                "ctx": ctx,
                "metrics": metrics.registry_for(ctx.db),
                "readiness": Readiness(ctx),
            }
        finally:
            await run_in_threadpool(parts.stop)

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            *api_routes(),
            *job_routes(),
            *event_routes(),
            *openapi_routes(),
            *gallery_routes(),
        ],
        middleware=[
            Middleware(AccessLogMiddleware, trusted_proxies=ctx.settings.trusted_proxies),
            # The callback route, served in front of the router (see its docstring).
            Middleware(CallbackRoutes, ctx=ctx, committer=committer, wake=wake),
            # Inside CallbackRoutes: the callback route pays for none of these.
            Middleware(SecurityHeaders, settings=ctx.settings),
            Middleware(BodyLimit, settings=ctx.settings),
            Middleware(SessionMiddleware, ctx=ctx),
        ],
        # Every error answer is JSON {"error", "message"}: 404, 405, 413, 500 included.
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
