"""What tests/e2e/test_promises_*.py share: waiting, the CLI with another environment, a relay.

The :class:`Relay` is a real HTTP server in the test process that forwards every request to
a target (the simulator, the receiver) and writes down what passed and when. Put between two
shipped processes, it lets a test see from the outside what one asked of the other (how many
requests at once, in which order, how far apart) and answer in the other's place when told
to (a provider's 402, a 429 with ``Retry-After``, a source that hangs).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from receiver.config import Secret
from receiver.tokens import CallbackClaims, CallbackSigner
from tests.conftest import SECRET_KEY
from tests.e2e.conftest import ADMIN_TOKEN, Stack
from tests.servers import run_server

__all__ = [
    "AUTH",
    "Relay",
    "Seen",
    "api_job",
    "await_job",
    "bound_callback_url",
    "cli",
    "peak",
    "relay",
    "submit",
    "wait_until",
]

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

#: Headers a forwarding hop must not copy (RFC 9110 hop-by-hop ones, and those it recomputes).
_HOP = {"host", "connection", "keep-alive", "transfer-encoding", "content-length", "upgrade"}


def wait_until(check: Callable[[], object], what: str, timeout: float = 60) -> Any:
    """``check()``'s first truthy value, asked every 0.2 s; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def cli(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m receiver ARGS`` with exactly ``env``, whatever its exit status."""
    return subprocess.run(
        [sys.executable, "-m", "receiver", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def submit(stack: Stack, prompt: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Submit with the CLI (in ``env``, else the stack's); the new job's id."""
    result = cli(env or stack.env, "submit", prompt, "--json", *args)
    assert result.returncode == 0, result.stderr
    return str(json.loads(result.stdout)["id"])


def api_job(stack: Stack, job_id: str) -> dict[str, Any]:
    """``GET /v1/jobs/{id}``: the document ``receiver show --json`` prints, without a process."""
    answer = httpx.get(f"{stack.receiver_url}/v1/jobs/{job_id}", headers=AUTH, timeout=30)
    assert answer.status_code == 200, answer.text
    job: dict[str, Any] = answer.json()
    return job


def await_job(stack: Stack, job_id: str, *statuses: str, timeout: float = 60) -> dict[str, Any]:
    """The job once it is in one of ``statuses`` (asked over the API)."""

    def reached() -> dict[str, Any] | None:
        job = api_job(stack, job_id)
        return job if job["status"] in statuses else None

    found: dict[str, Any] = wait_until(reached, f"job {job_id} to be {'/'.join(statuses)}", timeout)
    return found


def bound_callback_url(stack: Stack, job_id: str) -> str:
    """The job's callback URL, signed with the stack's key as ``receiver submit`` signs it."""
    signer = CallbackSigner([Secret(SECRET_KEY)], max_age=3600)
    claims = CallbackClaims(provider="evolink", job_id=job_id)
    return signer.callback_url(stack.env["RECEIVER_PUBLIC_URL"], claims)


@dataclass
class Seen:
    """One request that reached the relay."""

    method: str
    path: str
    query: str
    body: bytes
    started: float
    headers: dict[str, str] = field(default_factory=dict)
    ended: float | None = None
    status: int | None = None
    #: When it arrived, as wall-clock time (what a link's expiry is written in).
    at: float = field(default_factory=time.time)


@dataclass
class _Canned:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    times: int | None


@dataclass
class Relay:
    """Forwards to ``target``; records, delays, holds or answers itself as told."""

    target: str = ""
    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    #: Requests whose path matches are held this many seconds before being forwarded.
    delays: dict[str, float] = field(default_factory=dict)
    #: Forward the Host header as received (what a signed S3 request needs).
    keep_host: bool = False
    _canned: list[_Canned] = field(default_factory=list)
    _held: re.Pattern[str] | None = None
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(
        self,
        method: str,
        pattern: str,
        status: int,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int | None = 1,
    ) -> None:
        """Answer the next ``times`` matching requests (``None``: all) without forwarding."""
        with self._lock:
            canned = _Canned(method, re.compile(pattern), status, body, headers or {}, times)
            self._canned.append(canned)

    def hold(self, pattern: str) -> None:
        """Keep matching requests waiting (unanswered) until :meth:`let_go`."""
        self._release.clear()
        self._held = re.compile(pattern)

    def let_go(self) -> None:
        self._held = None
        self._release.set()

    def requests(self, method: str, pattern: str) -> list[Seen]:
        matcher = re.compile(pattern)
        with self._lock:
            return [s for s in self.seen if s.method == method and matcher.search(s.path)]

    def _take_canned(self, method: str, path: str) -> _Canned | None:
        with self._lock:
            for canned in self._canned:
                if canned.method == method and canned.pattern.search(path):
                    if canned.times is not None:
                        canned.times -= 1
                        if canned.times == 0:
                            self._canned.remove(canned)
                    return canned
        return None

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        url = request.url
        seen = Seen(
            request.method, url.path, url.query, body, time.monotonic(), dict(request.headers)
        )
        with self._lock:
            self.seen.append(seen)
        try:
            response = await self._respond(request, body)
        finally:
            seen.ended = time.monotonic()
        seen.status = response.status_code
        return response

    async def _respond(self, request: Request, body: bytes) -> Response:
        path = request.url.path
        held = self._held
        while held is not None and held.search(path) and not self._release.is_set():
            await asyncio.sleep(0.05)
        for pattern, seconds in self.delays.items():
            if re.search(pattern, path):
                await asyncio.sleep(seconds)
        canned = self._take_canned(request.method, path)
        if canned is not None:
            content = b"" if canned.body is None else json.dumps(canned.body).encode()
            headers = {"content-type": "application/json", **canned.headers}
            return Response(content, canned.status, headers=headers)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        if self.keep_host:
            headers["host"] = request.headers["host"]
        async with httpx.AsyncClient(timeout=60) as client:
            upstream = await client.request(
                request.method,
                f"{self.target}{path}",
                params=request.url.query,
                content=body,
                headers=headers,
            )
        kept = {
            k: v
            for k, v in upstream.headers.items()
            if k.lower() not in _HOP and k.lower() != "content-encoding"
        }
        return Response(upstream.content, upstream.status_code, headers=kept)


@contextmanager
def relay(target: str = "", *, keep_host: bool = False) -> Iterator[Relay]:
    """A running :class:`Relay` (its ``url`` set) forwarding to ``target``."""
    hop = Relay(target=target, keep_host=keep_host)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
    app = Starlette(routes=[Route("/{path:path}", hop.handle, methods=methods)])
    with run_server(app) as base:
        hop.url = base
        try:
            yield hop
        finally:
            hop.let_go()


def peak(requests: list[Seen]) -> int:
    """The most of ``requests`` that were in flight at one moment."""
    moments = sorted(
        [(s.started, 1) for s in requests] + [(s.ended or time.monotonic(), -1) for s in requests]
    )
    most = current = 0
    for _, step in moments:
        current += step
        most = max(most, current)
    return most
