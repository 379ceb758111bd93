"""Gallery sessions: kept on the server, bound to the admin token.

Signing in with ``RECEIVER_ADMIN_TOKEN`` gives the browser a cookie of 32 random bytes. The
database keeps a row whose id is HMAC-SHA256 of that value under a key derived from the admin
token, never the value itself. A cookie is a session while its row exists and has not
expired (12 hours after signing in):

- signing out deletes the row, for every replica at once;
- a new ``RECEIVER_ADMIN_TOKEN`` derives another key, under which no old cookie finds its
  row: a rotation signs everybody out (the orphaned rows are purged once they expire);
- a database reader sees hashes only: no cookie, and nothing to test guesses of the admin
  token against.

A session's CSRF token is an HMAC of its cookie under another key derived from the admin
token. ``RECEIVER_SECRET_KEYS``, which sign callback URLs, play no part in either.

:class:`SessionMiddleware` looks the cookie up once per request, off the event loop, so that
handlers (and the synchronous :func:`receiver.web.auth.authorize`) only read the verdict,
with :func:`current_session`.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request, cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from receiver import clock
from receiver.config import Secret
from receiver.context import Context
from receiver.store.database import Database
from receiver.store.sessions import Sessions

__all__ = [
    "SESSION_COOKIE",
    "SESSION_LIFETIME",
    "Session",
    "SessionMiddleware",
    "close_session",
    "csrf_token",
    "current_session",
    "find_session",
    "open_session",
]

SESSION_COOKIE = "receiver_session"
SESSION_LIFETIME = timedelta(hours=12)
#: Where the middleware leaves its verdict in the request's scope.
_SCOPE_KEY = "receiver.session"
#: What secrets.token_urlsafe(32) makes; anything else is not worth a database read.
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """A signed-in browser. ``cookie`` is its secret: held in memory, for one request."""

    cookie: str = field(repr=False)
    expires_at: datetime


def _key(admin_token: Secret, purpose: str) -> bytes:
    return hmac.digest(admin_token.reveal().encode(), f"receiver.{purpose}".encode(), "sha256")


def _session_id(admin_token: Secret, cookie: str) -> str:
    return hmac.digest(_key(admin_token, "session"), cookie.encode(), "sha256").hex()


def csrf_token(admin_token: Secret, session: Session) -> str:
    """The token the gallery page sends back with every change it asks for."""
    digest = hmac.digest(_key(admin_token, "csrf"), session.cookie.encode(), "sha256")
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def open_session(db: Database, admin_token: Secret, *, replacing: Session | None = None) -> Session:
    """A new session (and the one the browser held before, if any, ended)."""
    now = clock.now()
    session = Session(cookie=secrets.token_urlsafe(32), expires_at=now + SESSION_LIFETIME)
    with db.transaction() as conn:
        sessions = Sessions(conn)
        # Sign-ins are rare: a good moment to forget the sessions nobody can use any more.
        sessions.delete_expired(now=now)
        if replacing is not None:
            sessions.delete(_session_id(admin_token, replacing.cookie))
        sessions.insert(
            _session_id(admin_token, session.cookie),
            created_at=now,
            expires_at=session.expires_at,
        )
    return session


def find_session(db: Database, admin_token: Secret, cookie: str) -> Session | None:
    """The live session ``cookie`` belongs to under the current admin token, if any."""
    if not _COOKIE_VALUE.fullmatch(cookie):
        return None
    with db.reading() as conn:
        expires_at = Sessions(conn).live_until(_session_id(admin_token, cookie), now=clock.now())
    if expires_at is None:
        return None
    return Session(cookie=cookie, expires_at=expires_at)


def close_session(db: Database, admin_token: Secret, session: Session) -> None:
    with db.transaction() as conn:
        Sessions(conn).delete(_session_id(admin_token, session.cookie))


def current_session(request: Request) -> Session | None:
    """The request's session, as :class:`SessionMiddleware` found it."""
    try:
        session = request.scope[_SCOPE_KEY]
    except KeyError:
        raise RuntimeError("SessionMiddleware is not installed") from None
    assert session is None or isinstance(session, Session)
    return session


def _cookie(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"cookie":
            cookie = cookie_parser(value.decode("latin-1")).get(SESSION_COOKIE)
            if cookie:
                return cookie
    return None


class SessionMiddleware:
    """Finds the session of every request that carries a session cookie.

    Requests without the cookie (scripts with a bearer token, health checks) cost a look
    at the headers, nothing more.
    """

    def __init__(self, app: ASGIApp, *, ctx: Context) -> None:
        self.app = app
        self._ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[_SCOPE_KEY] = await self._find(scope)
        await self.app(scope, receive, send)

    async def _find(self, scope: Scope) -> Session | None:
        admin_token = self._ctx.settings.admin_token
        cookie = _cookie(scope) if admin_token is not None else None
        if admin_token is None or cookie is None:
            return None
        return await run_in_threadpool(find_session, self._ctx.db, admin_token, cookie)
