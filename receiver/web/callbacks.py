"""``POST /callbacks/{provider}/{token}``: where the provider tells us a task is done.

The handler reads and bounds the request and judges token and body
(:func:`receiver.intake.judge_callback`); recording it (:func:`receiver.intake.record`) runs
on the group-commit thread, which shares one commit between the callbacks that arrive
together. It answers 2xx only once the delivery and all it implies are committed, and never
waits on the network, well inside the provider's 10 s timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Scope

from receiver import clock
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
from receiver.store.group_commit import GroupCommitter
from receiver.web.proxies import client_address

__all__ = ["callback_endpoint"]


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


async def callback_endpoint(request: Request) -> JSONResponse:
    ctx: Context = request.app.state.ctx
    provider_name = request.path_params["provider"]
    if provider_name not in PROVIDER_NAMES:
        return JSONResponse({"error": "not_found", "message": "no such callback route"}, 404)
    received_at = clock.now()
    headers = _headers(request.scope)
    body = b""
    verdict: Admission | Rejection
    try:
        body = await _read_body(request, headers, ctx.settings)
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
                request.path_params["token"],
                body,
                confirm=ctx.settings.confirm_with_provider,
                # A job first heard of through an unbound URL is confirmed whenever we can.
                confirm_external=provider.has_credentials,
            )
    client = request.scope.get("client")
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

    committer: GroupCommitter = request.app.state.committer
    order = verdict.job_id if isinstance(verdict, Admission) and verdict.job_id else ""
    result = await committer.run(lambda conn: record(conn, delivery, verdict), order=order)
    log_result(result, delivery)
    worker = request.app.state.worker
    if worker is not None and result.outcome == DeliveryOutcome.ACCEPTED:
        worker.wake()
    return _answer(result)


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name, the first of repeated ones winning.

    Built straight from the ASGI scope: Starlette's ``Headers`` mapping searches the whole
    list on every lookup, and this runs for every callback.
    """
    return {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in reversed(scope["headers"])
    }


async def _read_body(request: Request, headers: Mapping[str, str], settings: Settings) -> bytes:
    """The body, read within the size and time limits."""
    limit = settings.max_body_bytes
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _BodyRefused.too_large(limit)
    try:
        async with asyncio.timeout(settings.request_timeout):
            body = bytearray()
            while True:
                message = await request.receive()
                if message["type"] == "http.disconnect":
                    raise _BodyRefused.disconnected()
                body += message.get("body", b"")
                if len(body) > limit:
                    raise _BodyRefused.too_large(limit)
                if not message.get("more_body", False):
                    return bytes(body)
    except TimeoutError:
        raise _BodyRefused(
            Rejection(reason="timeout", message="the body did not arrive in time", status_code=408)
        ) from None


def _answer(result: IntakeResult) -> JSONResponse:
    if result.outcome == DeliveryOutcome.REJECTED:
        reason, _, message = (result.reason or "rejected").partition(": ")
        return JSONResponse(
            {"error": reason, "message": message or reason, "delivery_id": result.delivery_id},
            result.status_code,
        )
    return JSONResponse(
        {"outcome": result.outcome, "job_id": result.job_id, "delivery_id": result.delivery_id},
        result.status_code,
    )
