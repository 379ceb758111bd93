"""The shipped nginx site (``infra/nginx.conf``) in front of a real ``receiver serve``.

The file is run as shipped, with only what a deployment changes substituted: the ports
(free loopback ones instead of 80/443), the certificate (a self-signed one for 127.0.0.1),
the log and webroot paths, and the upstream's port. Debian's nginx-light runs it
(``infra/ensure-nginx.sh``, called by ``make test``).
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from receiver.devtools.seaweed import free_ports
from tests.e2e.conftest import Stack, stop_process
from tests.servers import self_signed

pytestmark = pytest.mark.e2e

INFRA = Path(__file__).resolve().parents[2] / "infra"


@dataclass
class Nginx:
    url: str
    cert: Path
    access_log: Path


def shipped_site(
    tmp: Path, *, http_port: int, https_port: int, upstream: int, cert: Path, key: Path
) -> str:
    site = (INFRA / "nginx.conf").read_text()
    for old, new in [
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;", ""),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen [::]:443 ssl http2;", ""),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};"),
        ("/etc/letsencrypt/live/receiver.example.com/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/receiver.example.com/privkey.pem", str(key)),
        ("/var/log/nginx/", f"{tmp}/"),
        ("/var/www/certbot", str(tmp / "certbot")),
    ]:
        assert old in site, f"infra/nginx.conf no longer has {old!r}: update this test"
        site = site.replace(old, new)
    return site


@contextmanager
def running_nginx(home: Path, site: str, *, port: int) -> Iterator[None]:
    """nginx serving ``site`` (an http-context file) from ``home`` until the block ends,
    once it listens on ``port``."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.fail("nginx is not installed: run `bash infra/ensure-nginx.sh` (make test does)")
    (home / "receiver.conf").write_text(site)
    (home / "nginx.conf").write_text(
        f"""user root;
pid {home}/nginx.pid;
error_log {home}/main-error.log warn;
events {{}}
http {{
    client_body_temp_path {home}/body;
    proxy_temp_path {home}/proxy;
    fastcgi_temp_path {home}/fastcgi;
    uwsgi_temp_path {home}/uwsgi;
    scgi_temp_path {home}/scgi;
    include {home}/receiver.conf;
}}
"""
    )
    with (home / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(
            [binary, "-c", str(home / "nginx.conf"), "-p", str(home), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                raise AssertionError((home / "stderr.log").read_text())
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "nginx did not listen"
                time.sleep(0.1)
        yield
    finally:
        stop_process(process)


@pytest.fixture
def nginx(stack: Stack, tmp_path: Path) -> Iterator[Nginx]:
    home = tmp_path / "nginx"
    home.mkdir()
    cert, key = self_signed(home)
    http_port, https_port = free_ports(2)
    upstream = int(stack.receiver_url.rsplit(":", 1)[1])
    site = shipped_site(
        home, http_port=http_port, https_port=https_port, upstream=upstream, cert=cert, key=key
    )
    with running_nginx(home, site, port=https_port):
        yield Nginx(f"https://127.0.0.1:{https_port}", cert, home / "receiver-access.log")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_shipped_nginx_site_publishes_callbacks_only_masks_tokens_and_limits(
    stack: Stack, nginx: Nginx
) -> None:
    trust = ssl.create_default_context(cafile=str(nginx.cert))
    with httpx.Client(base_url=nginx.url, verify=trust, timeout=10) as client:
        # A callback reaches the receiver (which refuses this forged token itself).
        token = "eyJqb2IiOiJqb2JfMSJ9.forged-token-value"
        refused = client.post(f"/callbacks/evolink/{token}", json={})
        assert refused.status_code == 403
        assert refused.json()["error"] == "bad_token"
        assert client.get("/healthz").json() == {"status": "ok"}
        # Nothing else is public.
        assert client.get("/v1/jobs").status_code == 404
        assert client.get("/").status_code == 404
        # A request head over 32 KiB never reaches the receiver.
        flood = {f"x-junk-{n}": "j" * 1000 for n in range(40)}
        assert client.post("/callbacks/evolink/junk", headers=flood).status_code in {400, 494}
        # One address flooding the route is answered 429 by nginx past its burst.
        # Sent 16 at a time, so even a slow machine goes past 20/s and the burst of 100.
        with ThreadPoolExecutor(16) as pool:
            codes = list(
                pool.map(
                    lambda _: client.post("/callbacks/evolink/junk", json={}).status_code,
                    range(400),
                )
            )
        assert 429 in codes
        assert codes.count(403) >= 100
    # The access log masks the token, and the receiver saw the proxy's client address.
    logged = nginx.access_log.read_text()
    assert "/callbacks/evolink/[token]" in logged
    assert token not in logged
    rows = [
        json.loads(line)
        for line in stack.cli("deliveries", "--outcome", "rejected", "--json").stdout.splitlines()
    ]
    assert rows
    assert all(row["client_addr"] == "127.0.0.1" for row in rows)
    for log in nginx.access_log.parent.glob("*.log"):
        assert token not in log.read_text(), f"{log.name} holds the token"
