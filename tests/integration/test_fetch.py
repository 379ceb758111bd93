"""Redirects on a real loopback server: every hop is checked, and their number is bounded."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from receiver.archive.fetch import FetchPolicy, guarded_client, stream_video
from receiver.errors import FetchError, LinkExpired, UnsafeURL
from tests.servers import run_server

pytestmark = pytest.mark.integration

POLICY = FetchPolicy(allow_insecure=True, max_redirects=3)  # loopback allowed, nothing else


async def hop(request: Request) -> Response:
    return RedirectResponse(request.query_params["to"], status_code=302)


async def loop(_request: Request) -> Response:
    return RedirectResponse("/loop", status_code=302)


VIDEO = b"\0\0\0\x10ftypisom" + bytes(range(256)) * 40


async def video(_request: Request) -> Response:
    return Response(VIDEO[:112], media_type="video/mp4")


async def capped(request: Request) -> Response:
    """Answers an open range with only 100 bytes of it (some servers cap ranges)."""
    first = int(request.headers["range"].removeprefix("bytes=").rstrip("-"))
    return Response(
        VIDEO[first : first + 100],
        status_code=206,
        media_type="video/mp4",
        headers={"content-range": f"bytes {first}-{first + 99}/{len(VIDEO)}", "etag": '"v1"'},
    )


async def lying(request: Request) -> Response:
    """A 206 whose Content-Length disagrees with its Content-Range."""
    first = int(request.headers["range"].removeprefix("bytes=").rstrip("-"))
    return Response(
        VIDEO[first : first + 10],
        status_code=206,
        media_type="video/mp4",
        headers={"content-range": f"bytes {first}-{len(VIDEO) - 1}/{len(VIDEO)}", "etag": '"v1"'},
    )


async def compressing(request: Request) -> Response:
    """Compresses unless asked for the bytes as they are."""
    if request.headers.get("accept-encoding", "") != "identity":
        return Response(
            gzip.compress(VIDEO), media_type="video/mp4", headers={"content-encoding": "gzip"}
        )
    return Response(VIDEO, media_type="video/mp4")


async def error_page(_request: Request) -> Response:
    return Response(b"<html>oops</html>" * 100, media_type="text/html")


async def expired(_request: Request) -> Response:
    return Response(b"<Error><Code>AccessDenied</Code></Error>", status_code=403)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    app = Starlette(
        routes=[
            Route("/hop", hop),
            Route("/loop", loop),
            Route("/v.mp4", video),
            Route("/capped.mp4", capped),
            Route("/lying.mp4", lying),
            Route("/gz.mp4", compressing),
            Route("/error.mp4", error_page),
            Route("/expired.mp4", expired),
        ]
    )
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


@pytest.mark.parametrize(
    ("path", "message"),
    [("capped.mp4", "only bytes 1000-1099"), ("lying.mp4", "206 says 10 bytes")],
)
def test_a_ranged_answer_that_stops_short_of_the_end_is_refused(
    server: str, path: str, message: str
) -> None:
    with guarded_client(POLICY, timeout=5) as client, pytest.raises(FetchError, match=message):
        b"".join(stream_video(client, f"{server}/{path}", POLICY, start=1000, if_range='etag:"v1"'))


def test_the_bytes_are_asked_for_as_stored_never_compressed(server: str) -> None:
    with guarded_client(POLICY, timeout=5) as client:
        assert b"".join(stream_video(client, f"{server}/gz.mp4", POLICY)) == VIDEO


def test_an_error_page_served_with_200_is_not_a_video(server: str) -> None:
    with guarded_client(POLICY, timeout=5) as client, pytest.raises(FetchError) as refused:
        b"".join(stream_video(client, f"{server}/error.mp4", POLICY))
    assert "text/html, not a video" in refused.value.message
    assert not refused.value.permanent  # the source may serve the video next time


def test_a_403_from_the_source_means_the_link_expired(server: str) -> None:
    with guarded_client(POLICY, timeout=5) as client, pytest.raises(LinkExpired):
        b"".join(stream_video(client, f"{server}/expired.mp4", POLICY))
