"""The Starlette application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from receiver import metrics
from receiver.archive.worker import ArchiveWorker
from receiver.context import Context
from receiver.store.group_commit import GroupCommitter
from receiver.web.access_log import AccessLogMiddleware
from receiver.web.api import api_routes
from receiver.web.callbacks import CallbackRoutes
from receiver.web.gallery import gallery_routes
from receiver.web.jobs_api import job_routes
from receiver.web.openapi import openapi_routes
from receiver.web.sse import event_routes

__all__ = ["create_app"]


async def healthz(_request: Request) -> JSONResponse:
    """Alive: the process answers. Says nothing about its dependencies (see /readyz)."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready: the database and the bucket answer, so callbacks can be taken and archived."""
    ctx: Context = request.app.state.ctx
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
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", **checks}, 200 if ready else 503
    )


async def metrics_endpoint(request: Request) -> Response:
    body = await run_in_threadpool(generate_latest, request.app.state.metrics)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def create_app(ctx: Context, *, worker: ArchiveWorker | None = None) -> Starlette:
    """The receiver app; with ``worker`` it also archives, started and stopped with the app."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # Fail at start-up, not at the first callback, when the database or keys are wrong.
        await run_in_threadpool(lambda: (ctx.db, ctx.signer))
        app.state.metrics = metrics.registry_for(ctx.db)
        committer = GroupCommitter(ctx.db)
        committer.start()
        app.state.committer = committer
        if worker is not None:
            await run_in_threadpool(worker.start)
        try:
            yield
        finally:
            if worker is not None:
                await run_in_threadpool(worker.stop)
            await run_in_threadpool(committer.stop)

    app = Starlette(
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
            Middleware(CallbackRoutes),
        ],
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.worker = worker
    return app
