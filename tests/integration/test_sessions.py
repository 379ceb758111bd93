"""The gallery's sessions, its sign-in limits and the security headers, on a real server."""

from __future__ import annotations

import hashlib
import re
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from itsdangerous import TimestampSigner

from receiver.config import Settings
from receiver.context import Context
from receiver.runtime import web_app
from receiver.web.sessions import SESSION_COOKIE
from tests.conftest import SECRET_KEY, make_env, run_sql
from tests.servers import run_server

pytestmark = pytest.mark.integration

TOKEN = "session-admin-token-0123456789abcdef"
FORM = {"content-type": "application/x-www-form-urlencoded"}


@contextmanager
def serving(tmp_path: Path, database_url: str, **env: str) -> Iterator[tuple[Context, str]]:
    env = {"RECEIVER_DATABASE_URL": database_url, "RECEIVER_ADMIN_TOKEN": TOKEN, **env}
    settings = Settings.from_env(make_env(tmp_path, **env))
    with Context(settings) as ctx, run_server(web_app(ctx, archive=False)) as base:
        yield ctx, base


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[tuple[Context, str]]:
    # Behind a trusted proxy, so tests can speak for several client addresses.
    with serving(tmp_path, database_url, RECEIVER_TRUSTED_PROXIES="127.0.0.1") as served:
        yield served


def sign_in(base: str, token: str = TOKEN, client: str = "203.0.113.1") -> httpx.Response:
    return httpx.post(
        f"{base}/login",
        data={"token": token},
        headers={"X-Forwarded-For": client},
        timeout=10,
    )


def signed_in(base: str) -> str:
    """A new session's cookie."""
    response = sign_in(base)
    assert response.status_code == 303
    return response.cookies[SESSION_COOKIE]


def with_cookie(cookie: str, **headers: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={cookie}", **headers}


def get(base: str, path: str, cookie: str) -> httpx.Response:
    return httpx.get(f"{base}{path}", headers=with_cookie(cookie), timeout=10)


def page_csrf(base: str, cookie: str) -> str | None:
    found = re.search(r'name="csrf-token" content="([^"]*)"', get(base, "/", cookie).text)
    return found.group(1) if found else None


def test_a_cookie_signed_with_a_callback_key_is_refused(server: tuple[Context, str]) -> None:
    _ctx, base = server
    # What the gallery's cookie and CSRF token used to be: anyone holding a key of
    # RECEIVER_SECRET_KEYS (which sign callback URLs) could make them.
    forged = TimestampSigner(SECRET_KEY, salt="receiver.session").sign("admin").decode()
    csrf = TimestampSigner(SECRET_KEY, salt="receiver.csrf").get_signature(forged).decode()

    assert get(base, "/v1/jobs", forged).status_code == 401
    assert page_csrf(base, forged) is None
    assert 'name="token"' in get(base, "/", forged).text
    replay = httpx.post(
        f"{base}/v1/deliveries/replay", headers=with_cookie(forged, **{"X-CSRF-Token": csrf})
    )
    assert replay.status_code == 401


def test_signing_out_revokes_the_cookie(server: tuple[Context, str]) -> None:
    _ctx, base = server
    cookie = signed_in(base)
    assert get(base, "/v1/jobs", cookie).status_code == 200
    csrf = page_csrf(base, cookie)
    assert csrf

    # Signing out is a change like any other: not without the page's CSRF token.
    refused = httpx.post(f"{base}/logout", headers=with_cookie(cookie))
    assert refused.status_code == 403
    assert get(base, "/v1/jobs", cookie).status_code == 200

    # The form the page shows, with its hidden field.
    out = httpx.post(f"{base}/logout", data={"csrf": csrf}, headers=with_cookie(cookie))
    assert out.status_code == 303
    assert f'{SESSION_COOKIE}=""' in out.headers["set-cookie"]
    # A copy of the cookie kept from before is worth nothing now.
    assert get(base, "/v1/jobs", cookie).status_code == 401
    assert page_csrf(base, cookie) is None
    posted = httpx.post(
        f"{base}/v1/deliveries/replay", headers=with_cookie(cookie, **{"X-CSRF-Token": csrf})
    )
    assert posted.status_code == 401


def test_a_new_admin_token_signs_everybody_out(tmp_path: Path, database_url: str) -> None:
    with serving(tmp_path, database_url) as (_ctx, base):
        cookie = signed_in(base)
        assert get(base, "/v1/jobs", cookie).status_code == 200
    rotated = "rotated-admin-token-0123456789abcdef"
    with serving(tmp_path, database_url, RECEIVER_ADMIN_TOKEN=rotated) as (_ctx, base):
        assert get(base, "/v1/jobs", cookie).status_code == 401
        assert page_csrf(base, cookie) is None
        assert sign_in(base, TOKEN).status_code == 401
        assert sign_in(base, rotated).status_code == 303


def test_the_database_holds_no_usable_cookie_and_forgets_expired_ones(
    server: tuple[Context, str],
) -> None:
    ctx, base = server
    first = signed_in(base)
    [row] = run_sql(ctx.db, "SELECT id FROM sessions")
    assert first not in row["id"]
    assert row["id"] != hashlib.sha256(first.encode()).hexdigest()

    run_sql(ctx.db, "UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000000Z'")
    assert get(base, "/v1/jobs", first).status_code == 401
    # The next sign-in purges what expired; signing in again ends the session it replaces.
    second = signed_in(base)
    assert len(run_sql(ctx.db, "SELECT id FROM sessions")) == 1
    third = httpx.post(f"{base}/login", data={"token": TOKEN}, headers=with_cookie(second))
    assert third.status_code == 303
    assert get(base, "/v1/jobs", second).status_code == 401
    assert get(base, "/v1/jobs", third.cookies[SESSION_COOKIE]).status_code == 200
    assert len(run_sql(ctx.db, "SELECT id FROM sessions")) == 1


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    yield b"token="
    for _ in range(total // size):
        yield b"a" * size


def test_an_oversized_sign_in_is_refused_before_it_is_read(server: tuple[Context, str]) -> None:
    _ctx, base = server
    ten_mb = 10 * 1024 * 1024
    length = {"Content-Length": str(len(b"token=") + ten_mb)}
    tracemalloc.start()
    try:
        # Sent in pieces, so that this client never holds the body whole either.
        declared = httpx.post(
            f"{base}/login", content=_chunks(ten_mb), headers={**FORM, **length}, timeout=30
        )
        # Without a length up front: counted as it arrives.
        streamed = httpx.post(f"{base}/login", content=_chunks(ten_mb), headers=FORM, timeout=30)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert "transfer-encoding" in streamed.request.headers
    # The server (a thread of this process) never held the body: reading it whole took
    # several times its 10 MB.
    assert peak < 4 * 1024 * 1024
    assert sign_in(base).status_code == 303


def test_the_sixth_wrong_token_within_the_window_is_throttled(
    server: tuple[Context, str],
) -> None:
    _ctx, base = server
    for _ in range(5):
        assert sign_in(base, "wrong-" + TOKEN, client="198.51.100.7").status_code == 401
    throttled = sign_in(base, "wrong-" + TOKEN, client="198.51.100.7")
    assert throttled.status_code == 429
    assert 0 < int(throttled.headers["retry-after"]) <= 15 * 60
    # Even the right token, or a seventh guess would tell a right one from a wrong one.
    assert sign_in(base, TOKEN, client="198.51.100.7").status_code == 429
    # Another address is not held up by it.
    assert sign_in(base, TOKEN, client="198.51.100.8").status_code == 303


EXPECTED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def test_every_page_carries_security_headers(server: tuple[Context, str]) -> None:
    _ctx, base = server
    cookie = signed_in(base)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    responses = {
        "sign-in page": httpx.get(f"{base}/"),
        "gallery": get(base, "/", cookie),
        "script": httpx.get(f"{base}/static/gallery.js"),
        "styles": httpx.get(f"{base}/static/gallery.css"),
        "API, refused": httpx.get(f"{base}/v1/jobs"),
        "API": httpx.get(f"{base}/v1/jobs", headers=bearer),
        "wrong sign-in": sign_in(base, "wrong-" + TOKEN),
        "no such page": httpx.get(f"{base}/nope"),
        "health": httpx.get(f"{base}/healthz"),
    }
    assert "csrf-token" in responses["gallery"].text
    for name, response in responses.items():
        for header, value in EXPECTED.items():
            assert response.headers.get(header) == value, (name, header)
        policy = response.headers["content-security-policy"]
        for directive in (
            "default-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
        ):
            assert directive in policy, (name, directive)
    # The callback route stays bare: the provider reads no headers.
    callback = httpx.post(f"{base}/callbacks/evolink/not-a-token", json={})
    assert callback.status_code == 403
    assert "content-security-policy" not in callback.headers
