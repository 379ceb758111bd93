"""Redirects on a real loopback server: every hop is checked, and their number is bounded."""

from __future__ import annotations

import asyncio
import gzip
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from receiver.archive.fetch import stream_video
from receiver.errors import FetchError, LinkExpired, UnsafeURL
from receiver.guarded_http import FetchPolicy, guarded_client
from tests.servers import run_server, self_signed

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


#: Large enough that most of it is read from the socket past what came with the headers.
BIG = VIDEO + random.Random(7).randbytes(3 * 1024 * 1024)


async def big(_request: Request) -> Response:
    return Response(BIG, media_type="video/mp4")


async def _pieces(data: bytes, *, then_wait: float = 0.0) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 128 * 1024):
        yield data[start : start + 128 * 1024]
    await asyncio.sleep(then_wait)


async def chunked(_request: Request) -> Response:
    """No Content-Length: the body is framed by chunked transfer encoding."""
    return StreamingResponse(_pieces(BIG), media_type="video/mp4")


async def cut_short(_request: Request) -> Response:
    """Announces the whole video, sends its first MiB, and closes the connection."""
    return StreamingResponse(
        _pieces(BIG[: 1024 * 1024]),
        media_type="video/mp4",
        headers={"content-length": str(len(BIG))},
    )


async def stalling(_request: Request) -> Response:
    """Announces the whole video, sends its first MiB, then goes quiet."""
    return StreamingResponse(
        _pieces(BIG[: 1024 * 1024], then_wait=3.0),
        media_type="video/mp4",
        headers={"content-length": str(len(BIG))},
    )


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
            Route("/big.mp4", big),
            Route("/chunked.mp4", chunked),
            Route("/cut.mp4", cut_short),
            Route("/stalling.mp4", stalling),
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


@pytest.mark.parametrize("path", ["big.mp4", "chunked.mp4"])
def test_a_large_body_arrives_whole_and_in_order_however_it_is_framed(
    server: str, path: str
) -> None:
    # With a Content-Length the body is read from the socket past the parser; chunked
    # transfer encoding goes through the parser all the way.
    with guarded_client(POLICY, timeout=5) as client:
        pieces = list(stream_video(client, f"{server}/{path}", POLICY))
        assert b"".join(pieces) == BIG
        assert len(pieces) > 1
        # The connection that was read past its parser is never handed out again.
        assert b"".join(stream_video(client, f"{server}/v.mp4", POLICY)) == VIDEO[:112]


def test_a_body_cut_short_by_the_source_is_a_failed_download(server: str) -> None:
    with guarded_client(POLICY, timeout=5) as client, pytest.raises(FetchError) as failed:
        b"".join(stream_video(client, f"{server}/cut.mp4", POLICY))
    assert failed.value.message.startswith("download failed")
    assert not failed.value.permanent  # retried (and resumed) like any dropped download


def test_a_source_gone_quiet_mid_body_times_out(server: str) -> None:
    with guarded_client(POLICY, timeout=0.5) as client, pytest.raises(FetchError) as failed:
        b"".join(stream_video(client, f"{server}/stalling.mp4", POLICY))
    assert failed.value.message.startswith("download failed: ReadTimeout")
    assert not failed.value.permanent


def test_a_large_body_over_https_arrives_whole_and_decrypted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Sources are https in production: past the parser, the body must come off the TLS
    # layer, never the raw connection underneath it.
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trusted by the client's SSL context
    app = Starlette(routes=[Route("/big.mp4", big)])
    with run_server(app, tls=(cert, key)) as base, guarded_client(POLICY, timeout=5) as client:
        assert base.startswith("https://")
        pieces = list(stream_video(client, f"{base}/big.mp4", POLICY))
    assert b"".join(pieces) == BIG
    assert len(pieces) > 1
