"""The web gallery at ``/``: sign in, watch jobs arrive live, play stored videos, fix failures.

The page is static HTML, CSS and JavaScript served by the app itself (no CDN); it talks to
the same ``/v1`` API as everyone else, with the session cookie, and follows ``/v1/events``
to update without reloading.
"""

from __future__ import annotations

import html
from importlib import resources
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from receiver.context import Context
from receiver.web.auth import SESSION_COOKIE, csrf_token, has_session, sign_in, token_matches

__all__ = ["gallery_routes"]

_STATIC = resources.files("receiver.web") / "static"

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


async def index(request: Request) -> Response:
    if not has_session(request):
        return HTMLResponse(_SIGN_IN.format(error=""))
    page = _page("gallery.html").replace("{{csrf}}", html.escape(csrf_token(request)))
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


async def login(request: Request) -> Response:
    ctx: Context = request.state.ctx
    # A urlencoded form of one field: parsed here rather than pulling in a multipart parser.
    token = parse_qs((await request.body()).decode("utf-8", "replace")).get("token", [""])[0]
    if not token_matches(ctx, token):
        error = '<p class="error">That is not the admin token.</p>'
        return HTMLResponse(_SIGN_IN.format(error=error), 401)
    response = RedirectResponse("/", 303)
    sign_in(request, response)
    return response


async def logout(_request: Request) -> Response:
    response = RedirectResponse("/", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def gallery_routes() -> list[Route | Mount]:
    return [
        Route("/", index, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=str(_STATIC)), name="static"),
    ]
