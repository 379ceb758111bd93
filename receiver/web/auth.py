"""Bearer-token authentication of the admin API (``RECEIVER_ADMIN_TOKEN``)."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse

from receiver.context import Context

__all__ = ["authorize"]


def _unauthorized(message: str) -> JSONResponse:
    return JSONResponse(
        {"error": "unauthorized", "message": message},
        401,
        headers={"WWW-Authenticate": 'Bearer realm="receiver"'},
    )


def authorize(request: Request) -> JSONResponse | None:
    """None when the request carries the admin token; else the 401 to answer with."""
    ctx: Context = request.app.state.ctx
    expected = ctx.settings.admin_token
    if expected is None:
        return _unauthorized("the API is disabled: RECEIVER_ADMIN_TOKEN is not set")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # Constant-time: the comparison must not tell an attacker how much of a guess was right.
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), expected.reveal().encode()
    ):
        return _unauthorized("a valid 'Authorization: Bearer <RECEIVER_ADMIN_TOKEN>' is required")
    return None
