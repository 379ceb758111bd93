"""The admin server of the shipped nginx site (``infra/nginx.conf``), turned on as
docs/deploy.md says (uncommented, with an address allowed), in front of a real
``receiver serve``: the gallery and the API for the allowed address, 403 for any other, the
event stream passed on as it is written; the public server still publishes callbacks only.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from receiver.devtools.seaweed import free_ports
from receiver.web.sessions import SESSION_COOKIE
from tests.e2e.conftest import ADMIN_TOKEN, Stack
from tests.e2e.test_nginx import running_nginx, shipped_site
from tests.servers import self_signed

pytestmark = pytest.mark.e2e


@dataclass
class Sites:
    public: str
    admin: str
    cert: Path


def with_admin_server(site: str, *, port: int, allow: str) -> str:
    """``site`` with its commented admin server block turned on, on ``port``, for ``allow``."""
    lines = site.splitlines(keepends=True)
    begin = lines.index("# server {\n")
    end = lines.index("# }\n", begin)
    for n in range(begin, end + 1):
        lines[n] = lines[n].removeprefix("#").removeprefix(" ")
    site = "".join(lines)
    for old, new in [
        ("listen 8443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;"),
        ("listen [::]:8443 ssl http2;", ""),
        ("allow 203.0.113.7;", f"allow {allow};"),
    ]:
        assert old in site, f"infra/nginx.conf's admin server no longer has {old!r}"
        site = site.replace(old, new)
    return site


@pytest.fixture
def sites(stack: Stack, tmp_path: Path) -> Iterator[Sites]:
    home = tmp_path / "nginx"
    home.mkdir()
    cert, key = self_signed(home)
    http_port, https_port, admin_port = free_ports(3)
    upstream = int(stack.receiver_url.rsplit(":", 1)[1])
    site = shipped_site(
        home, http_port=http_port, https_port=https_port, upstream=upstream, cert=cert, key=key
    )
    with running_nginx(
        home, with_admin_server(site, port=admin_port, allow="127.0.0.1"), port=admin_port
    ):
        yield Sites(f"https://127.0.0.1:{https_port}", f"https://127.0.0.1:{admin_port}", cert)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_nginx_admin_server_serves_the_gallery_and_api_to_allowed_addresses_only(
    stack: Stack, sites: Sites
) -> None:
    trust = ssl.create_default_context(cafile=str(sites.cert))
    bearer = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=sites.public, verify=trust, timeout=10) as public:
        assert public.get("/").status_code == 404
        assert public.get("/v1/jobs", headers=bearer).status_code == 404

    outside = httpx.HTTPTransport(verify=trust, local_address="127.0.0.2")
    with httpx.Client(base_url=sites.admin, transport=outside, timeout=10) as outsider:
        for path in ["/", "/static/gallery.js", "/v1/jobs"]:
            assert outsider.get(path).status_code == 403, path

    with httpx.Client(base_url=sites.admin, verify=trust, timeout=10) as client:
        # Sign in: the session cookie is Secure (the proxy says the request came over https).
        signed_in = client.post("/login", data={"token": ADMIN_TOKEN})
        assert signed_in.status_code == 303
        assert "secure" in signed_in.headers["set-cookie"].lower()
        assert SESSION_COOKIE in client.cookies
        assert 'id="jobs"' in client.get("/").text
        for path in ["/static/gallery.js", "/static/gallery.css", "/favicon.ico"]:
            assert client.get(path).status_code == 200, path
        assert client.get("/v1/jobs", headers=bearer).json()["jobs"] == []
        # The event stream's first line arrives at once: nginx does not buffer it.
        started = time.monotonic()
        with client.stream("GET", "/v1/events", headers=bearer) as stream:
            assert stream.status_code == 200
            first = next(stream.iter_lines())
        assert first == ": connected"
        assert time.monotonic() - started < 5
