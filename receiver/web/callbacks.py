"""``POST /callbacks/{provider}/{token}``: where the provider tells us a task is done.

The handler reads and bounds the request and judges token and body
(:func:`receiver.intake.judge_callback`); recording it (:func:`receiver.intake.record`) runs
on the group-commit thread, which shares one commit between the callbacks that arrive
together. It answers 2xx only once the delivery and all it implies are committed, and never
waits on the network, well inside the provider's 10 s timeout.
"""

from __future__ import annotations

import asyncio
import dataclasses

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

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


class _TooLarge(Exception):
    pass


async def callback_endpoint(request: Request) -> JSONResponse:
    ctx: Context = request.app.state.ctx
    provider_name = request.path_params["provider"]
    if provider_name not in PROVIDER_NAMES:
        return JSONResponse({"error": "not_found", "message": "no such callback route"}, 404)
    limit = ctx.settings.max_body_bytes
    delivery = IncomingDelivery(
        provider=provider_name,
        body=b"",
        headers=dict(request.headers),
        client_addr=client_address(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            ctx.settings.trusted_proxies,
        ),
    )
    verdict: Admission | Rejection
    try:
        async with asyncio.timeout(ctx.settings.request_timeout):
            body = await _read_body(request, limit)
    except TimeoutError:
        verdict = Rejection(
            reason="timeout", message="the body did not arrive in time", status_code=408
        )
    except _TooLarge:
        verdict = Rejection(
            reason="too_large", message=f"the body is over {limit} bytes", status_code=413
        )
    except ClientDisconnect:
        verdict = Rejection(
            reason="disconnected",
            status_code=400,
            message="the client left before sending the body",
        )
    else:
        delivery = dataclasses.replace(delivery, body=body)
        content_type = request.headers.get("content-type", "application/json")
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

    committer: GroupCommitter = request.app.state.committer
    order = verdict.job_id if isinstance(verdict, Admission) and verdict.job_id else ""
    result = await committer.run(lambda conn: record(conn, delivery, verdict), order=order)
    log_result(result, delivery)
    worker = request.app.state.worker
    if worker is not None and result.outcome == DeliveryOutcome.ACCEPTED:
        worker.wake()
    return _answer(result)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _TooLarge()
    return bytes(body)


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
