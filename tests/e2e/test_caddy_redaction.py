"""Caddy's logs hide callback tokens behind a path prefix too: the production site block and
log filter (``infra/caddy/``) run for real, in front of a receiver that is not there."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from receiver.devtools.seaweed import free_ports
from tests.e2e.conftest import stop_process

pytestmark = pytest.mark.e2e

INFRA = Path(__file__).resolve().parents[2] / "infra"
TOKEN = "eyJqb2IiOiJqb2JfMSJ9.c2VjcmV0LXRva2Vu"


def test_caddy_masks_tokens_at_the_root_and_below_a_prefix(tmp_path: Path) -> None:
    binary = shutil.which("caddy")
    if binary is None:
        pytest.fail("caddy is not installed: run `bash infra/ensure-caddy.sh` (make test does)")
    port, closed_port = free_ports(2)
    home = tmp_path / "caddy"
    home.mkdir()
    config = home / "Caddyfile"
    # Caddy's own log (errors about a request carry its URI) gets the filter as in
    # infra/Caddyfile; the access log is the site's (stdout). The upstream is a closed port:
    # a callback at the root is proxied and fails (502, logged as an error with its URI).
    config.write_text(
        f"""{{
	admin off
	log default {{
		import {INFRA}/caddy/redact-tokens.caddy
	}}
}}

http://127.0.0.1:{port} {{
	bind 127.0.0.1
	import {INFRA}/caddy/receiver-site.caddy
}}
"""
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "RECEIVER_UPSTREAM": f"127.0.0.1:{closed_port}",
    }
    log = tmp_path / "caddy.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "run", "--config", str(config), "--adapter", "caddyfile"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            assert process.poll() is None, log.read_text()
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        statuses = [
            httpx.post(f"{base}{path}", content=b"{}", timeout=10).status_code
            for path in (
                f"/callbacks/evolink/{TOKEN}",
                f"/rx/callbacks/evolink/{TOKEN}?x=1",
                f"/a/b/callbacks/kling/{TOKEN}",
            )
        ]
        assert statuses == [502, 404, 404]
    finally:
        stop_process(process)

    output = log.read_text()
    assert TOKEN not in output, output
    for logged in (
        "/callbacks/evolink/[token]",
        "/rx/callbacks/evolink/[token]?x=1",
        "/a/b/callbacks/kling/[token]",
    ):
        assert logged in output, output
