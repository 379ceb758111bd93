"""HTTPS end to end: the provider calls back through Caddy, as in production.

Caddy runs the production site block (``infra/caddy/receiver-site.caddy``) on a free loopback
port with a certificate from its own local CA; the simulator is told to trust that CA, so the
callback takes the same path as EvoLink's would: TLS, Caddy's body limit and token-free access
log, then ``receiver serve`` behind it.
"""

from __future__ import annotations

import json
import re
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from receiver.seaweed import free_ports
from receiver.store.database import open_database
from tests.conftest import run_sql
from tests.e2e.conftest import Stack, stop_process

pytestmark = pytest.mark.e2e

INFRA = Path(__file__).resolve().parents[2] / "infra"


@dataclass(frozen=True)
class Caddy:
    url: str
    root_ca: Path
    log: Path


@pytest.fixture
def https_port() -> int:
    return free_ports(1)[0]


@pytest.fixture
def stack_overrides(https_port: int) -> dict[str, str]:
    # The receiver signs callback URLs under the public https URL, so the provider calls
    # Caddy, never the receiver's own port; Caddy on loopback is its trusted proxy, as on a VM.
    return {
        "RECEIVER_PUBLIC_URL": f"https://localhost:{https_port}",
        "RECEIVER_TRUSTED_PROXIES": "127.0.0.1",
    }


@pytest.fixture
def caddy(stack: Stack, https_port: int, tmp_path: Path) -> Iterator[Caddy]:
    binary = shutil.which("caddy")
    if binary is None:
        pytest.fail("caddy is not installed: run `bash infra/ensure-caddy.sh` (make test does)")
    home = tmp_path / "caddy"
    config = home / "Caddyfile"
    home.mkdir()
    # admin off: no admin endpoint on a fixed port, which parallel runs would fight over.
    # skip_install_trust: never add the test CA to this machine's trust store (we are root).
    # disable_redirects: no HTTP->HTTPS redirect listener on port 80.
    config.write_text(
        f"""{{
	admin off
	skip_install_trust
	auto_https disable_redirects
	log default {{
		import {INFRA}/caddy/redact-tokens.caddy
	}}
	import {INFRA}/caddy/server-options.caddy
}}

https://localhost:{https_port} {{
	bind 127.0.0.1
	tls internal
	import {INFRA}/caddy/receiver-site.caddy
}}
"""
    )
    receiver_port = stack.receiver_url.rsplit(":", 1)[1]
    env = {
        **stack.env,
        # Caddy keeps its local CA under $XDG_DATA_HOME/caddy: one per test, thrown away.
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "RECEIVER_UPSTREAM": f"127.0.0.1:{receiver_port}",
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
        root_ca = home / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
        url = f"https://localhost:{https_port}"
        _wait_https(f"{url}/healthz", root_ca, process, log)
        yield Caddy(url, root_ca, log)
    finally:
        stop_process(process)


def _wait_https(url: str, root_ca: Path, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until Caddy answers ``url`` with a certificate from its local CA."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"caddy exited early:\n{log.read_text()}")
        # The CA is created once Caddy has started, and the site's certificate a moment later:
        # until then the handshake fails.
        if root_ca.is_file():
            try:
                context = ssl.create_default_context(cafile=str(root_ca))
                if httpx.get(url, verify=context, timeout=1).status_code == 200:
                    return
            except (httpx.HTTPError, ssl.SSLError):
                pass
        time.sleep(0.1)
    raise AssertionError(f"caddy did not serve {url}:\n{log.read_text()}")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_callback_arrives_over_https_through_caddy(stack: Stack, caddy: Caddy) -> None:
    # EvoLink refuses loopback callback URLs and trusts only public CAs; this one trusts
    # Caddy's local CA and calls localhost.
    stack.simulator(
        "PATCH",
        "/_simulator/config",
        json={"ca_bundle": str(caddy.root_ca), "allow_private_callbacks": True},
    )

    submitted = json.loads(stack.cli("submit", "a heron over a misty lake", "--json").stdout)
    job = stack.wait_for(submitted["id"], "stored", "expired", "failed", timeout=30)
    assert job["status"] == "stored", job

    attempts = stack.simulator("GET", "/_simulator/stats")["tasks"][job["task_id"]][
        "callback_attempts"
    ]
    assert [(a["status_code"], a["delivered"]) for a in attempts] == [(200, True)], attempts
    (delivery,) = job["deliveries"]
    assert delivery["outcome"] == "accepted"
    assert delivery["source"] == "callback"

    # It came through Caddy: the headers the receiver recorded are the ones Caddy adds.
    db = open_database(stack.env["RECEIVER_DATABASE_URL"])
    try:
        (row,) = run_sql(db, "SELECT headers FROM deliveries WHERE id = :id", id=delivery["id"])
    finally:
        db.close()
    headers = json.loads(row["headers"])
    assert headers["x-forwarded-proto"] == "https"
    assert headers["x-forwarded-host"] == caddy.url.removeprefix("https://")

    # Only callbacks and /healthz are public: the admin API answers on the receiver's own
    # port (401 without a token), never through the proxy.
    context = ssl.create_default_context(cafile=str(caddy.root_ca))
    assert httpx.post(f"{caddy.url}/v1/deliveries/replay", verify=context).status_code == 404

    # Caddy logged the callback, with its token masked everywhere it wrote the path.
    output = caddy.log.read_text()
    logged = re.findall(r"/callbacks/evolink/([^\"/?\s]*)", output)
    assert logged, output
    assert set(logged) == {"[token]"}, logged


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_caddy_refuses_a_header_flood_before_the_receiver(stack: Stack, caddy: Caddy) -> None:
    context = ssl.create_default_context(cafile=str(caddy.root_ca))
    flood = {f"x-junk-{n}": "j" * 1000 for n in range(64)}  # 64 KB of headers
    answer = httpx.post(f"{caddy.url}/callbacks/evolink/junk", headers=flood, verify=context)
    assert answer.status_code == 431
    # Nothing reached the receiver: no rejected delivery was written down.
    assert stack.cli("deliveries", "--outcome", "rejected", "--json").stdout == ""
