"""Redirects on a real loopback server: every hop is checked, and their number is bounded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from receiver.archive.fetch import FetchPolicy, guarded_client, stream_video
from receiver.errors import UnsafeURL
from tests.servers import run_server

pytestmark = pytest.mark.integration

POLICY = FetchPolicy(allow_insecure=True, max_redirects=3)  # loopback allowed, nothing else


async def hop(request: Request) -> Response:
    return RedirectResponse(request.query_params["to"], status_code=302)


async def loop(_request: Request) -> Response:
    return RedirectResponse("/loop", status_code=302)


async def video(_request: Request) -> Response:
    return Response(b"\0\0\0\x10ftypisom" + b"\0" * 100, media_type="video/mp4")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    app = Starlette(routes=[Route("/hop", hop), Route("/loop", loop), Route("/v.mp4", video)])
    with run_server(app) as base:
        yield base


@pytest.mark.parametrize(
    "target",
    [
        "http://10.255.255.1/v.mp4",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00::1]/v.mp4",
        "http://100.64.0.1/v.mp4",
    ],
)
def test_a_redirect_to_a_private_address_is_refused(server: str, target: str) -> None:
    with guarded_client(POLICY, timeout=5) as client, pytest.raises(UnsafeURL) as refused:
        b"".join(stream_video(client, f"{server}/hop?to={target}", POLICY))
    assert "not a public address" in refused.value.message
    assert refused.value.permanent


def test_a_redirect_to_plain_http_is_refused_outside_insecure_mode(server: str) -> None:
    strict = FetchPolicy(max_redirects=3)
    # The first hop is refused already (loopback, plain http): the chain never starts.
    with guarded_client(strict, timeout=5) as client, pytest.raises(UnsafeURL):
        b"".join(stream_video(client, f"{server}/hop?to=https://example.com/", strict))


def test_redirects_are_followed_within_the_limit_and_refused_beyond(server: str) -> None:
    with guarded_client(POLICY, timeout=5) as client:
        body = b"".join(stream_video(client, f"{server}/hop?to=/v.mp4", POLICY))
        assert body[4:8] == b"ftyp"
        with pytest.raises(UnsafeURL, match="more than 3 redirects"):
            b"".join(stream_video(client, f"{server}/loop", POLICY))
