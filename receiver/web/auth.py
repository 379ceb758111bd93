"""Who may use the API and the gallery: the admin token, as a bearer or through a session.

Scripts send ``Authorization: Bearer $RECEIVER_ADMIN_TOKEN`` (compared in constant time).
People sign in to the gallery with the same token and get a session
(:mod:`receiver.web.sessions`): a cookie (HttpOnly, SameSite=Strict, Secure over https)
whose row on the server is deleted by signing out and orphaned by a new admin token. A
request authenticated by the cookie that changes something must also carry the session's
CSRF token in ``X-CSRF-Token``.
"""

from __future__ import annotations

import hmac

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from receiver.config import Secret
from receiver.context import Context
from receiver.web.sessions import (
    SESSION_COOKIE,
    SESSION_LIFETIME,
    close_session,
    current_session,
    open_session,
)
from receiver.web.sessions import csrf_token as _session_csrf_token

__all__ = [
    "authorize",
    "csrf_matches",
    "csrf_token",
    "has_session",
    "sign_in",
    "sign_out",
    "token_matches",
]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _unauthorized(message: str) -> JSONResponse:
    return JSONResponse(
        {"error": "unauthorized", "message": message},
        401,
        headers={"WWW-Authenticate": 'Bearer realm="receiver"'},
    )


def _admin_token(request: Request) -> Secret:
    ctx: Context = request.state.ctx
    token = ctx.settings.admin_token
    if token is None:  # no session is ever found without one
        raise RuntimeError("RECEIVER_ADMIN_TOKEN is not set")
    return token


def token_matches(ctx: Context, given: str) -> bool:
    expected = ctx.settings.admin_token
    # Constant time: the comparison must not tell how much of a guess was right.
    return expected is not None and hmac.compare_digest(
        given.strip().encode(), expected.reveal().encode()
    )


def has_session(request: Request) -> bool:
    return current_session(request) is not None


def csrf_token(request: Request) -> str:
    """The CSRF token of the request's session (which it must have)."""
    session = current_session(request)
    if session is None:
        raise RuntimeError("the request has no session")
    return _session_csrf_token(_admin_token(request), session)


def csrf_matches(request: Request, sent: str) -> bool:
    """Whether the request has a session and ``sent`` is its CSRF token."""
    return has_session(request) and hmac.compare_digest(sent.encode(), csrf_token(request).encode())


async def sign_in(request: Request, response: Response) -> None:
    """Open a session (ending the one the browser held) and give ``response`` its cookie."""
    ctx: Context = request.state.ctx
    admin_token, old = _admin_token(request), current_session(request)
    session = await run_in_threadpool(lambda: open_session(ctx.db, admin_token, replacing=old))
    response.set_cookie(
        SESSION_COOKIE,
        session.cookie,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https",
        path="/",
    )


async def sign_out(request: Request, response: Response) -> None:
    """End the request's session, if it has one, and tell the browser to forget the cookie."""
    ctx: Context = request.state.ctx
    session = current_session(request)
    if session is not None:
        admin_token = _admin_token(request)
        await run_in_threadpool(close_session, ctx.db, admin_token, session)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


def authorize(request: Request) -> JSONResponse | None:
    """None when the request may go on; else the 401/403 to answer with."""
    ctx: Context = request.state.ctx
    if ctx.settings.admin_token is None:
        return _unauthorized("the API is disabled: RECEIVER_ADMIN_TOKEN is not set")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token_matches(ctx, given):
        return None
    if has_session(request):
        if request.method in _SAFE_METHODS:
            return None
        if csrf_matches(request, request.headers.get("x-csrf-token", "")):
            return None
        return JSONResponse({"error": "csrf", "message": "missing or wrong X-CSRF-Token"}, 403)
    return _unauthorized("a valid 'Authorization: Bearer <RECEIVER_ADMIN_TOKEN>' is required")
