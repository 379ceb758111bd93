"""Who may use the API and the gallery: the admin token, as a bearer or as a signed session.

Scripts send ``Authorization: Bearer $RECEIVER_ADMIN_TOKEN`` (compared in constant time).
People sign in to the gallery with the same token and get a session cookie signed with
itsdangerous (HttpOnly, SameSite=Strict, Secure over https). A request authenticated by the
cookie that changes something must also carry the page's CSRF token in ``X-CSRF-Token``.
"""

from __future__ import annotations

import hmac

from itsdangerous import BadSignature, TimestampSigner
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from receiver.context import Context

__all__ = ["SESSION_COOKIE", "authorize", "csrf_token", "has_session", "sign_in", "token_matches"]

SESSION_COOKIE = "receiver_session"
SESSION_MAX_AGE = 12 * 3600
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _signer(ctx: Context, purpose: str) -> TimestampSigner:
    keys = [key.reveal() for key in reversed(ctx.settings.require_secret_keys())]
    return TimestampSigner(keys, salt=f"receiver.{purpose}")


def _unauthorized(message: str) -> JSONResponse:
    return JSONResponse(
        {"error": "unauthorized", "message": message},
        401,
        headers={"WWW-Authenticate": 'Bearer realm="receiver"'},
    )


def token_matches(ctx: Context, given: str) -> bool:
    expected = ctx.settings.admin_token
    # Constant time: the comparison must not tell how much of a guess was right.
    return expected is not None and hmac.compare_digest(
        given.strip().encode(), expected.reveal().encode()
    )


def has_session(request: Request) -> bool:
    ctx: Context = request.state.ctx
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie or ctx.settings.admin_token is None:
        return False
    try:
        _signer(ctx, "session").unsign(cookie, max_age=SESSION_MAX_AGE)
    except BadSignature:
        return False
    return True


def csrf_token(request: Request) -> str:
    """The token the gallery page sends back with every change it asks for."""
    ctx: Context = request.state.ctx
    session = request.cookies.get(SESSION_COOKIE, "")
    return _signer(ctx, "csrf").get_signature(session).decode()


def sign_in(request: Request, response: Response) -> None:
    ctx: Context = request.state.ctx
    response.set_cookie(
        SESSION_COOKIE,
        _signer(ctx, "session").sign("admin").decode(),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https",
        path="/",
    )


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
        sent = request.headers.get("x-csrf-token", "")
        if hmac.compare_digest(sent.encode(), csrf_token(request).encode()):
            return None
        return JSONResponse({"error": "csrf", "message": "missing or wrong X-CSRF-Token"}, 403)
    return _unauthorized("a valid 'Authorization: Bearer <RECEIVER_ADMIN_TOKEN>' is required")
