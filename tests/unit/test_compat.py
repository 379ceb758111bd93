"""The private-API fence (receiver/compat): each reach still checked, still there, still behaving.

Every entry of every ``REACHES`` must name a version range that holds the installed version
of its dependency: an upgrade fails here until someone reads the dependency's change, sees
the private name below still exists and behaves as relied on, and widens the range. The
other tests exercise each private name as receiver uses it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib
import importlib.metadata
import os
import pkgutil
import platform
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, cast

import botocore.retries.standard as standard_retries
import httpcore
import httpx
import pytest
import starlette.routing
import uvicorn
from packaging.requirements import Requirement
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

import receiver.compat
from receiver.compat import Reach, botocore_internals, stdlib_internals, uvicorn_internals
from receiver.compat.httpx_internals import transport_over
from receiver.compat.starlette_internals import get_route_path
from receiver.web.http_limits import HeadLimits, limited_protocol


def _modules() -> list[str]:
    return [
        f"receiver.compat.{info.name}" for info in pkgutil.iter_modules(receiver.compat.__path__)
    ]


def _reaches() -> list[Reach]:
    return [reach for name in _modules() for reach in importlib.import_module(name).REACHES]


def _installed(distribution: str) -> str:
    if distribution == "python":
        return platform.python_version()
    return importlib.metadata.version(distribution)


def test_every_fenced_module_lists_its_reaches_once() -> None:
    assert _modules(), "receiver/compat has no modules"
    for name in _modules():
        assert name.endswith("_internals"), f"{name}: name fenced modules <dependency>_internals"
        assert importlib.import_module(name).REACHES, f"{name} lists no reach"
    names = [reach.name for reach in _reaches()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("reach", _reaches(), ids=lambda reach: reach.name.split(":")[0][:60])
def test_the_installed_version_is_one_each_reach_was_checked_against(reach: Reach) -> None:
    requirement = Requirement(reach.checked)
    installed = _installed(requirement.name)
    assert requirement.specifier.contains(installed, prereleases=True), (
        f"{requirement.name} {installed} is outside {requirement.specifier}, the versions "
        f"{reach.name} was checked against: check that it still exists and behaves as "
        f"receiver relies on it ({reach.why}), then widen `checked` in receiver/compat"
    )


# ── starlette._utils.get_route_path ──


def test_get_route_path_is_the_routers_own() -> None:
    assert get_route_path is vars(starlette.routing)["get_route_path"]
    scope: dict[str, Any] = {"path": "/edge/callbacks/evolink/t", "root_path": "/edge"}
    assert get_route_path(scope) == "/callbacks/evolink/t"
    assert get_route_path({"path": "/callbacks/x/y"}) == "/callbacks/x/y"


# ── uvicorn's HttpToolsProtocol and Server.handle_exit ──


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("203.0.113.9", 5000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _connection(limits: HeadLimits) -> tuple[Any, _Transport, ServerState]:
    config = uvicorn.Config(_app, log_config=None, lifespan="off")
    state = ServerState()
    protocol = limited_protocol(limits)(  # type: ignore[call-arg]
        config=config, server_state=state, app_state={}, _loop=asyncio.get_running_loop()
    )
    transport = _Transport()
    protocol.connection_made(transport)
    return protocol, transport, state


def test_httptools_protocol_still_has_what_the_head_limits_hook_into() -> None:
    for method in (
        "connection_made",
        "on_message_begin",
        "on_url",
        "on_header",
        "on_headers_complete",
        "send_400_response",
    ):
        assert callable(getattr(HttpToolsProtocol, method)), method

    async def drive() -> None:
        limits = HeadLimits(max_headers=3, max_head_bytes=1024, head_timeout=0.0)
        protocol, transport, state = _connection(limits)
        # Attributes the subclass reads: set by uvicorn's constructor and connection_made.
        assert protocol in state.connections
        assert protocol.client == ("203.0.113.9", 5000)
        assert protocol.loop is asyncio.get_running_loop()
        assert protocol.transport is transport
        # An exception raised in a parser callback ends in send_400_response: our 431.
        head = b"GET / HTTP/1.1\r\n" + b"".join(b"x-%d: v\r\n" % n for n in range(5)) + b"\r\n"
        protocol.data_received(head)
        assert transport.written.startswith(b"HTTP/1.1 431 "), bytes(transport.written)
        assert transport.closed

        # A head within the limits reaches the app; headers is the list the parser fills.
        protocol, transport, _ = _connection(limits)
        protocol.data_received(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        assert protocol.headers == [(b"host", b"x")]
        for _ in range(20):
            await asyncio.sleep(0)
        assert transport.written.startswith(b"HTTP/1.1 204 "), bytes(transport.written)

        # A head begun and not finished is closed by the sweep over the server's connections.
        overdue = HeadLimits(max_headers=3, max_head_bytes=1024, head_timeout=-1.0)
        protocol, transport, _ = _connection(overdue)
        protocol.data_received(b"GET / HTTP/1.1\r\nhost: x\r\n")
        protocol._sweep()
        assert transport.closed

    asyncio.run(drive())


def test_a_second_stop_signal_exits_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    exits: list[int] = []
    monkeypatch.setattr(os, "_exit", exits.append)
    server = uvicorn_internals.ForcedExitServer(uvicorn.Config(_app, log_config=None))
    server.handle_exit(signal.SIGTERM, None)
    assert server.should_exit
    assert exits == []
    server.handle_exit(signal.SIGTERM, None)
    assert exits == [1]


# ── botocore: the retry tables and the HTTP session ──


def test_the_retry_tables_are_botocores_standard_mode() -> None:
    # (Through vars(): the stubs know none of these names.)
    module = vars(standard_retries)
    transient = vars(module["TransientRetryableChecker"])
    throttled = vars(module["ThrottledRetryableChecker"])
    throttling_status = vars(module["ThrottlingStatusCodeChecker"])
    backoff = vars(module["ExponentialBackoff"])
    codes = transient["_TRANSIENT_ERROR_CODES"] + throttled["_THROTTLED_ERROR_CODES"]
    statuses = transient["_TRANSIENT_STATUS_CODES"] + throttling_status["_THROTTLING_STATUS_CODES"]
    assert set(codes) == botocore_internals.RETRY_CODES
    assert set(statuses) == botocore_internals.RETRY_STATUSES
    assert backoff["_BASE"] == 2
    assert backoff["_MAX_BACKOFF"] == botocore_internals.MAX_RETRY_DELAY


class _PartHandler(BaseHTTPRequestHandler):
    bodies: list[bytes] = []  # noqa: RUF012 - shared with the test on purpose

    def do_PUT(self) -> None:
        size = int(self.headers["content-length"])
        self.bodies.append(self.rfile.read(size))
        self.send_response(200)
        self.send_header("ETag", '"abc"')
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def part_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _PartHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_part_session_sends_a_prepared_request_as_the_client_would(part_server: str) -> None:
    session = botocore_internals.part_session(
        part_server, max_connections=2, connect_timeout=5, read_timeout=5
    )
    try:
        data = bytearray(b"x" * 100_000)
        request = botocore_internals.AWSRequest(method="PUT", url=f"{part_server}/k?q=1", data=data)
        response = session.send(request.prepare())
    finally:
        session.close()
    assert response.status_code == 200
    assert response.headers.get("ETag") == '"abc"'
    assert _PartHandler.bodies[-1] == bytes(data)


# ── httpx.HTTPTransport._pool ──


class _Refusing(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        self.asked.append((host, port))
        raise httpcore.ConnectError("refused by the test's backend")


def test_a_transport_over_a_pool_connects_only_through_that_pool() -> None:
    backend = _Refusing()
    pool = httpcore.ConnectionPool(network_backend=backend)
    transport = transport_over(pool)
    assert transport._pool is pool
    with httpx.Client(transport=transport) as client, pytest.raises(httpx.ConnectError):
        client.get("http://example.test:8123/")
    assert backend.asked == [("example.test", 8123)]


# ── the standard library's private types ──


def test_hash_is_the_class_of_every_digest() -> None:
    for digest in (hashlib.sha256(), hashlib.sha1(), hashlib.md5(), hashlib.sha256().copy()):
        assert type(digest) is stdlib_internals.Hash


def test_subparsers_names_what_add_subparsers_returns() -> None:
    assert isinstance(argparse.ArgumentParser().add_subparsers(), argparse._SubParsersAction)
    # A string alias (for annotations): the class is not subscriptable at run time.
    alias = cast(str, stdlib_internals.SubParsers)
    assert alias == "argparse._SubParsersAction[argparse.ArgumentParser]"
