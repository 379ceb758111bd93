"""The web gallery at ``/``: sign in, watch jobs arrive live, play stored videos, fix failures.

The page is static HTML, CSS and JavaScript served by the app itself (no CDN); it talks to
the same ``/v1`` API as everyone else, with the session cookie, and follows ``/v1/events``
to update without reloading. Its icon is at ``/favicon.ico``, where browsers look for one
on every page of the origin (the sign-in page and error answers included) without being told.

The page shows stored images as well as videos and audio, all through
``/v1/jobs/{id}/video?index=N``, which redirects to a presigned URL on the S3 endpoint: its
own ``Content-Security-Policy`` is the app's with images also allowed from there.

``/login`` and ``/logout`` read a form of at most 4 KiB (a larger one is refused before it is
read); ``/login`` counts wrong tokens per client address (:mod:`receiver.web.throttle`), and
``/logout`` needs the session's CSRF token, like every other change.
"""

from __future__ import annotations

import functools
import html
import math
from importlib import resources
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from receiver.config import Settings
from receiver.context import Context
from receiver.web.auth import (
    csrf_matches,
    csrf_token,
    has_session,
    sign_in,
    sign_out,
    token_matches,
)
from receiver.web.proxies import client_address
from receiver.web.security_headers import content_security_policy, video_origins
from receiver.web.throttle import SignInThrottle

__all__ = ["gallery_routes"]

_STATIC = resources.files("receiver.web") / "static"
#: The largest form /login and /logout read: one token, with room to spare.
FORM_LIMIT = 4096

_SIGN_IN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>receiver · sign in</title><link rel="stylesheet" href="/static/gallery.css"></head>
<body class="signin"><form method="post" action="/login" class="card">
<h1>receiver</h1><p>Your videos, stored. Sign in with the admin token.</p>
{error}<input type="password" name="token" placeholder="RECEIVER_ADMIN_TOKEN" autofocus required
autocomplete="current-password">
<button type="submit">Sign in</button></form></body></html>"""


def _page(name: str) -> str:
    return (_STATIC / name).read_text()


def _sign_in_page(
    error: str = "", status_code: int = 200, headers: dict[str, str] | None = None
) -> HTMLResponse:
    shown = f'<p class="error">{html.escape(error)}</p>' if error else ""
    return HTMLResponse(
        _SIGN_IN.format(error=shown),
        status_code,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


async def _read_form(request: Request) -> dict[str, str] | Response:
    """The urlencoded form of the request, or the answer refusing it.

    Parsed here rather than pulling in a multipart parser; never more than FORM_LIMIT bytes
    of it are read (an over-long body is refused before the rest arrives).
    """
    too_large = _sign_in_page(f"The form is over {FORM_LIMIT} bytes.", 413)
    declared = request.headers.get("content-length")
    if declared is not None and not declared.isdigit():
        return _sign_in_page("The form's length is not a number.", 400)
    if declared is not None and int(declared) > FORM_LIMIT:
        return too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            return too_large
    fields = parse_qs(body.decode("utf-8", "replace"))
    return {name: values[0] for name, values in fields.items()}


def _client(request: Request, ctx: Context) -> str:
    return (
        client_address(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            ctx.settings.trusted_proxies,
        )
        or "unknown"
    )


def gallery_policy(settings: Settings) -> str:
    """The app's policy, with ``img-src`` also naming the presigned URLs' origins (as
    ``media-src`` does for the players): an ``<img>`` follows the same redirect."""
    origins = " ".join(video_origins(settings))
    directives = content_security_policy(settings).split("; ")
    return "; ".join(
        f"{directive} {origins}" if directive.startswith("img-src ") else directive
        for directive in directives
    )


async def index(request: Request) -> Response:
    if not has_session(request):
        return _sign_in_page()
    ctx: Context = request.state.ctx
    page = _page("gallery.html").replace("{{csrf}}", html.escape(csrf_token(request)))
    headers = {
        "Cache-Control": "no-store",
        # Set here, it stands in for the app-wide one (SecurityHeaders keeps a page's own).
        "Content-Security-Policy": gallery_policy(ctx.settings),
    }
    return HTMLResponse(page, headers=headers)


async def login(request: Request, *, throttle: SignInThrottle) -> Response:
    ctx: Context = request.state.ctx
    client = _client(request, ctx)
    wait = throttle.retry_after(client)
    if wait > 0:
        minutes = math.ceil(wait / 60)
        return _sign_in_page(
            f"Too many wrong tokens from your address: try again in {minutes} min.",
            429,
            {"Retry-After": str(math.ceil(wait))},
        )
    form = await _read_form(request)
    if isinstance(form, Response):
        return form
    if not token_matches(ctx, form.get("token", "")):
        throttle.failed(client)
        return _sign_in_page("That is not the admin token.", 401)
    throttle.succeeded(client)
    response = RedirectResponse("/", 303)
    await sign_in(request, response)
    return response


async def logout(request: Request) -> Response:
    form = await _read_form(request)
    if isinstance(form, Response):
        return form
    sent = form.get("csrf") or request.headers.get("x-csrf-token", "")
    if has_session(request) and not csrf_matches(request, sent):
        # SameSite=Strict already keeps other sites' forms out; this is the second lock.
        return JSONResponse({"error": "csrf", "message": "missing or wrong CSRF token"}, 403)
    response = RedirectResponse("/", 303)
    await sign_out(request, response)
    return response


async def favicon(_request: Request) -> Response:
    return FileResponse(
        str(_STATIC / "favicon.ico"),
        media_type="image/vnd.microsoft.icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def gallery_routes() -> list[Route | Mount]:
    # One throttle per app (so per process): see receiver/web/throttle.py.
    throttle = SignInThrottle()
    return [
        Route("/", index, methods=["GET"]),
        Route("/login", functools.partial(login, throttle=throttle), methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/favicon.ico", favicon, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=str(_STATIC)), name="static"),
    ]
