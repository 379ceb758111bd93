"""``POST /callbacks/{provider}/{token}``: where the provider tells us a task is done.

The handler reads and bounds the request and judges token and body
(:func:`receiver.intake.judge_callback`); recording it (:func:`receiver.intake.record`) runs
on the group-commit thread, which shares one commit between the callbacks that arrive
together. It answers 2xx only once the delivery and all it implies are committed, and never
waits on the network, well inside the provider's 10 s timeout.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from receiver import clock, metrics

# The router's own reading of the path below root_path, so both match alike.
from receiver.compat.starlette_internals import get_route_path
from receiver.config import Settings
from receiver.context import Context
from receiver.intake import (
    Admission,
    IncomingDelivery,
    IntakeResult,
    Rejection,
    judge_callback,
    log_result,
    record,
)
from receiver.lifecycle import DeliveryOutcome
from receiver.providers import PROVIDER_NAMES
from receiver.ratelimit import TokenBucket
from receiver.store.group_commit import GroupCommitter
from receiver.web.proxies import client_address

__all__ = ["CallbackRoutes"]

# Starlette's own pattern for "/callbacks/{provider}/{token}".
_ROUTE = re.compile(r"^/callbacks/([^/]+)/([^/]+)$")


class _BodyRefused(Exception):
    """The body did not arrive whole, in time and within the limit."""

    def __init__(self, rejection: Rejection) -> None:
        super().__init__(rejection.message)
        self.rejection = rejection

    @classmethod
    def too_large(cls, limit: int) -> _BodyRefused:
        return cls(
            Rejection(
                reason="too_large", message=f"the body is over {limit} bytes", status_code=413
            )
        )

    @classmethod
    def disconnected(cls) -> _BodyRefused:
        return cls(
            Rejection(
                reason="disconnected",
                status_code=400,
                message="the client left before sending the body",
            )
        )


class CallbackRoutes:
    """ASGI middleware that answers ``/callbacks/{provider}/{token}`` itself.

    This is the one route the provider hammers: Starlette's router, its exception
    middleware and a ``Request``/``JSONResponse`` pair cost ~90k instructions per call
    (callgrind), 8% of a whole callback, so the route is served as bare ASGI in front of
    them, and every other request goes on to ``app``. Starlette's server-error middleware still
    wraps it: an unexpected exception is a 500, logged, as on every other route.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        ctx: Context,
        committer: GroupCommitter,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self._ctx = ctx
        self._committer = committer
        self._wake = wake
        rate = ctx.settings.rejected_log_rate
        # Requests without a valid token are written down (a summary row each) at most this
        # often; past it they are answered and counted, and cost no write (docs/security.md).
        self._junk_budget = TokenBucket(rate, burst=rate * 5) if rate else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = _ROUTE.match(get_route_path(scope)) if scope["type"] == "http" else None
        if matched is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            await _send_json(
                send,
                405,
                {"error": "method_not_allowed", "message": "callbacks are POSTed"},
                allow=b"POST",
            )
            return
        provider, token = matched.groups()
        await self._take_callback(scope, receive, send, provider, token)

    async def _take_callback(
        self, scope: Scope, receive: Receive, send: Send, provider_name: str, token: str
    ) -> None:
        ctx = self._ctx
        if provider_name not in PROVIDER_NAMES:
            await _send_json(send, 404, {"error": "not_found", "message": "no such callback route"})
            return
        received_at = clock.now()
        headers = _headers(scope)
        body = b""
        verdict: Admission | Rejection
        try:
            body = await _read_body(receive, headers, ctx.settings)
        except _BodyRefused as refused:
            verdict = refused.rejection
        else:
            content_type = headers.get("content-type", "application/json")
            if "json" not in content_type.lower():
                verdict = Rejection(
                    reason="wrong_content_type",
                    status_code=415,
                    message=f"expected JSON, got {content_type}",
                )
            else:
                # Token and body are judged right here: pure CPU, no database.
                provider = ctx.provider(provider_name)
                verdict = judge_callback(
                    ctx.signer,
                    provider,
                    token,
                    body,
                    confirm=ctx.settings.confirm_with_provider,
                    # A job first heard of through an unbound URL is confirmed whenever we can.
                    confirm_external=provider.has_credentials,
                    adopt_unconfirmed=ctx.settings.adopt_unconfirmed,
                )
        client = scope.get("client")
        delivery = IncomingDelivery(
            provider=provider_name,
            body=body,
            headers=headers,
            client_addr=client_address(
                client[0] if client else None,
                headers.get("x-forwarded-for"),
                ctx.settings.trusted_proxies,
            ),
            received_at=received_at,
        )

        if isinstance(verdict, Rejection) and not verdict.authenticated:
            budget = self._junk_budget
            if budget is None or not budget.take(time.monotonic()):
                metrics.UNLOGGED_REJECTIONS.inc()
                metrics.callback_counter(DeliveryOutcome.REJECTED.value, "callback").inc()
                await _send_json(send, verdict.status_code, _refusal(verdict))
                return
        order = verdict.job_id if isinstance(verdict, Admission) and verdict.job_id else ""
        limit = ctx.settings.adopt_limit
        result = await self._committer.run(
            lambda conn: record(conn, delivery, verdict, adopt_limit=limit), order=order
        )
        log_result(result, delivery)
        if self._wake is not None and result.outcome == DeliveryOutcome.ACCEPTED:
            self._wake()
        await _send_json(send, result.status_code, _answer(result))


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name, the first of repeated ones winning.

    Built straight from the ASGI scope: Starlette's ``Headers`` mapping searches the whole
    list on every lookup, and this runs for every callback.
    """
    return {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in reversed(scope["headers"])
    }


async def _read_body(receive: Receive, headers: Mapping[str, str], settings: Settings) -> bytes:
    """The body, read within the size and time limits."""
    limit = settings.max_body_bytes
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _BodyRefused.too_large(limit)
    task = asyncio.current_task()
    assert task is not None
    # Cancellations already requested before ours (a shutdown) are not ours to take back.
    cancelling = task.cancelling()
    expired = taken_back = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    # asyncio.timeout's own mechanism (a timer that cancels the task, then uncancel) at
    # 1.4-2.5 us instead of 5 us: it runs for every callback.
    timer = asyncio.get_running_loop().call_later(settings.request_timeout, expire)
    try:
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _BodyRefused.disconnected()
            body += message.get("body", b"")
            if len(body) > limit:
                raise _BodyRefused.too_large(limit)
            if not message.get("more_body", False):
                return bytes(body)
    except asyncio.CancelledError:
        # Ours only if nobody else (a shutdown) cancelled the task too.
        if expired:
            taken_back = True
            if task.uncancel() <= cancelling:
                raise _BodyRefused(
                    Rejection(
                        reason="timeout",
                        message="the body did not arrive in time",
                        status_code=408,
                    )
                ) from None
        raise
    finally:
        timer.cancel()
        if expired and not taken_back:
            # The timer fired, yet the read ended some other way: take our cancel back.
            task.uncancel()


def _refusal(rejection: Rejection) -> dict[str, Any]:
    return {"error": rejection.reason, "message": rejection.message, "delivery_id": None}


def _answer(result: IntakeResult) -> dict[str, Any]:
    if result.outcome == DeliveryOutcome.REJECTED:
        reason, _, message = (result.reason or "rejected").partition(": ")
        return {"error": reason, "message": message or reason, "delivery_id": result.delivery_id}
    return {"outcome": result.outcome, "job_id": result.job_id, "delivery_id": result.delivery_id}


async def _send_json(
    send: Send, status: int, payload: Mapping[str, Any], *, allow: bytes | None = None
) -> None:
    body = orjson.dumps(payload)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if allow is not None:
        headers.append((b"allow", allow))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
