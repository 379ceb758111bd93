"""The access log never writes a callback token down: at the root, below a root path, and in
the proxies' own logs (infra/caddy/redact-tokens.caddy, infra/nginx.conf)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, Router
from starlette.types import Message, Scope
from structlog.testing import capture_logs

from receiver.web.access_log import AccessLogMiddleware, redact_path

INFRA = Path(__file__).resolve().parents[2] / "infra"
TOKEN = "eyJqb2IiOiJqb2JfMSJ9.aBcD-eF_gh"

#: Where a token may stand, and how each path must be logged.
PATHS = [
    ("/callbacks/evolink/" + TOKEN, "/callbacks/evolink/[token]"),
    ("/rx/callbacks/evolink/" + TOKEN, "/rx/callbacks/evolink/[token]"),
    ("/a/b/callbacks/kling/" + TOKEN, "/a/b/callbacks/kling/[token]"),
    ("/rx/callbacks/evolink/" + TOKEN + "/more", "/rx/callbacks/evolink/[token]/more"),
    ("/rx/Callbacks/evolink/" + TOKEN, "/rx/Callbacks/evolink/[token]"),
    ("/healthz", "/healthz"),
    ("/rx/v1/jobs/job_1", "/rx/v1/jobs/job_1"),
    ("/callbacks/evolink/", "/callbacks/evolink/"),
]


@pytest.mark.parametrize(("path", "logged"), PATHS)
def test_redact_path_masks_the_token_wherever_the_route_begins(path: str, logged: str) -> None:
    assert redact_path(path) == logged
    assert TOKEN not in redact_path(path)


def test_the_middleware_masks_the_token_of_a_callback_served_below_a_root_path() -> None:
    """uvicorn's ``--root-path /rx``: the route matches below the prefix (starlette's
    ``get_route_path``), while ``scope["path"]``, which the log writes, still carries it."""

    async def callback(request: Request) -> Response:
        return PlainTextResponse("ok", status_code=202)

    route = Route("/callbacks/{provider}/{token}", callback, methods=["POST"])
    app = AccessLogMiddleware(Router([route]))
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "http_version": "1.1",
        "scheme": "http",
        "method": "POST",
        "path": "/rx/callbacks/evolink/" + TOKEN,
        "raw_path": b"/rx/callbacks/evolink/" + TOKEN.encode(),
        "root_path": "/rx",
        "query_string": b"",
        "headers": [],
        "client": ("203.0.113.9", 40000),
        "server": ("127.0.0.1", 8000),
    }
    with capture_logs() as logs:
        asyncio.run(app(scope, receive, send))

    # The route took it (202, not the router's 404), and the log line hides its token.
    assert sent[0]["status"] == 202
    (entry,) = [e for e in logs if e["event"] == "http.request"]
    assert entry["path"] == "/rx/callbacks/evolink/[token]"
    assert entry["status"] == 202
    assert TOKEN not in repr(logs)


def _caddy_rule() -> tuple[re.Pattern[str], str]:
    """The regexp filter of redact-tokens.caddy, in Python's spelling (RE2 and ``re`` agree
    on everything it uses)."""
    text = (INFRA / "caddy" / "redact-tokens.caddy").read_text()
    (match,) = re.findall(r'request>uri regexp "(.+)" "(.+)"', text)
    pattern, replacement = match
    return re.compile(pattern), replacement.replace("${1}", r"\1")


def _nginx_rule() -> tuple[re.Pattern[str], str]:
    """The ``map`` of infra/nginx.conf that writes ``$receiver_logged_uri`` (PCRE)."""
    text = (INFRA / "nginx.conf").read_text()
    block = text.split("map $request_uri $receiver_logged_uri {", 1)[1].split("\n}", 1)[0]
    (match,) = re.findall(r'"(~\*?)(.+)" "(.+)";', block)
    operator, pattern, replacement = match
    flags = re.IGNORECASE if operator == "~*" else 0
    pattern = pattern.replace("(?<", "(?P<")
    replacement = re.sub(r"\$\{(\w+)\}", r"\\g<\1>", replacement)
    return re.compile(pattern, flags), replacement


@pytest.mark.parametrize("rule", [_caddy_rule, _nginx_rule], ids=["caddy", "nginx"])
@pytest.mark.parametrize(("path", "logged"), PATHS)
def test_the_proxies_mask_the_token_behind_a_path_prefix_too(
    rule: Callable[[], tuple[re.Pattern[str], str]], path: str, logged: str
) -> None:
    pattern, replacement = rule()
    for suffix in ("", "?x=1"):
        uri = path + suffix
        # nginx's map replaces the whole value when it matches, else keeps it (default).
        masked = pattern.sub(replacement, uri, count=1) if pattern.search(uri) else uri
        assert masked == logged + suffix
