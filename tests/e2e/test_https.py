"""HTTPS end to end: the provider calls back through Caddy, as in production.

Caddy runs the production site block (``infra/caddy/receiver-site.caddy``) on a free loopback
port with a certificate from its own local CA; the simulator is told to trust that CA, so the
callback takes the same path as EvoLink's would: TLS, Caddy's body limit and token-free access
log, then ``receiver serve`` behind it.

The admin site (``infra/caddy/admin-site.caddy``, shipped turned off in ``infra/Caddyfile``)
runs next to the public one in a test of its own, and ``caddy validate`` checks
``infra/Caddyfile`` as its header says to, with the admin site off and on.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import sync_playwright

from receiver.devtools.seaweed import free_ports
from receiver.store.database import open_database
from receiver.web.sessions import SESSION_COOKIE
from tests.conftest import run_sql
from tests.e2e.conftest import ADMIN_TOKEN, Stack, stop_process
from tests.e2e.test_gallery import ARGS, CHROMIUM

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


@contextmanager
def run_caddy(
    stack: Stack,
    tmp_path: Path,
    sites: str,
    *,
    options: str = "",
    env: dict[str, str] | None = None,
) -> Iterator[tuple[Path, Path]]:
    """Caddy with the shipped global options (and ``options``) serving ``sites`` in front of
    the stack's receiver, until the first site answers /healthz: (its CA's root, its log)."""
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
{options}}}

{sites}"""
    )
    receiver_port = stack.receiver_url.rsplit(":", 1)[1]
    caddy_env = {
        **stack.env,
        # Caddy keeps its local CA under $XDG_DATA_HOME/caddy: one per test, thrown away.
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "RECEIVER_UPSTREAM": f"127.0.0.1:{receiver_port}",
        **(env or {}),
    }
    log = tmp_path / "caddy.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "run", "--config", str(config), "--adapter", "caddyfile"],
            env=caddy_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        root_ca = home / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
        first = re.search(r"https://\S+", sites)
        assert first is not None, sites
        _wait_https(f"{first.group(0)}/healthz", root_ca, process, log)
        yield root_ca, log
    finally:
        stop_process(process)


@pytest.fixture
def caddy(stack: Stack, https_port: int, tmp_path: Path) -> Iterator[Caddy]:
    url = f"https://localhost:{https_port}"
    site = f"""{url} {{
	bind 127.0.0.1
	tls internal
	import {INFRA}/caddy/receiver-site.caddy
}}
"""
    with run_caddy(stack, tmp_path, site) as (root_ca, log):
        yield Caddy(url, root_ca, log)


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


# The admin site's two blocks in infra/Caddyfile, shipped commented out: (indent, block).
ADMIN_BLOCKS = [
    ("\t", "servers :8443 {\n\timport caddy/admin-server-options.caddy\n}\n"),
    ("", "https://{$RECEIVER_ADMIN_DOMAIN}:8443 {\n\timport caddy/admin-site.caddy\n}\n"),
]
EXAMPLE_ENV = {"RECEIVER_DOMAIN": "receiver.example.com", "ACME_EMAIL": "ops@example.com"}


def with_admin_site(caddyfile: str) -> str:
    """infra/Caddyfile with its admin site turned on, as docs/deploy.md says: uncommented."""
    for indent, block in ADMIN_BLOCKS:
        lines = block.splitlines(keepends=True)
        shipped = "".join(f"{indent}# {line}" for line in lines)
        assert shipped in caddyfile, f"infra/Caddyfile no longer has {shipped!r}: update this test"
        caddyfile = caddyfile.replace(shipped, "".join(f"{indent}{line}" for line in lines))
    return caddyfile


def _caddy_command(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    binary = shutil.which("caddy")
    if binary is None:
        pytest.fail("caddy is not installed: run `bash infra/ensure-caddy.sh` (make test does)")
    ran = subprocess.run(
        [binary, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert ran.returncode == 0, ran.stderr
    return ran.stdout + ran.stderr


def test_the_shipped_caddyfile_validates_as_its_comment_says(tmp_path: Path) -> None:
    caddyfile = (INFRA / "Caddyfile").read_text()
    # Caddy keeps its state under these: a temporary home, never this machine's.
    home = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    # The command of the file's own comment, as written there, from the repository root.
    comment = caddyfile[caddyfile.index("# Check it") :].splitlines()[1:3]
    command = " ".join(line.removeprefix("#").strip().removesuffix("\\") for line in comment)
    assert "caddy validate --config infra/Caddyfile" in command, comment
    ran = subprocess.run(
        ["sh", "-c", command],
        cwd=INFRA.parent,
        env=home,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert "Valid configuration" in ran.stdout + ran.stderr
    assert "not formatted" not in ran.stdout + ran.stderr  # `caddy fmt` leaves it as it is

    # With the admin site turned on and its variables set: valid too, and what it says.
    enabled = tmp_path / "etc"
    shutil.copytree(INFRA / "caddy", enabled / "caddy")
    (enabled / "Caddyfile").write_text(with_admin_site(caddyfile))
    env = {
        **home,
        **EXAMPLE_ENV,
        "RECEIVER_ADMIN_DOMAIN": "admin.example.com",
        "RECEIVER_ADMIN_ALLOW": "203.0.113.7 10.8.0.0/24",
    }
    args = ["--config", "Caddyfile", "--adapter", "caddyfile"]
    output = _caddy_command(["validate", *args], enabled, env)
    assert "Valid configuration" in output
    assert "not formatted" not in output
    servers = json.loads(_caddy_command(["adapt", *args], enabled, env).splitlines()[0])["apps"][
        "http"
    ]["servers"]
    [public] = [server for server in servers.values() if server["listen"] == [":443"]]
    [admin] = [server for server in servers.values() if server["listen"] == [":8443"]]
    # The public listener keeps its write timeout; the admin one has none (the event stream).
    assert public["write_timeout"] == 30 * 10**9
    assert "write_timeout" not in admin
    # The allow-list, one range per word of RECEIVER_ADMIN_ALLOW.
    assert '"ranges":["203.0.113.7","10.8.0.0/24"]' in json.dumps(admin, separators=(",", ":"))


@pytest.fixture
def admin_caddy(stack: Stack, https_port: int, tmp_path: Path) -> Iterator[tuple[Caddy, str]]:
    """Caddy with the public site and the admin site (letting in 127.0.0.1 alone), the two
    as infra/Caddyfile has them: (the public site, the admin site's URL)."""
    admin_port = free_ports(1)[0]
    public, admin = f"https://localhost:{https_port}", f"https://localhost:{admin_port}"
    # The admin listener's own options, as in infra/Caddyfile (which names it ":8443").
    options = f"""	servers 127.0.0.1:{admin_port} {{
		import {INFRA}/caddy/admin-server-options.caddy
	}}
"""
    sites = f"""{public} {{
	bind 127.0.0.1
	tls internal
	import {INFRA}/caddy/receiver-site.caddy
}}

{admin} {{
	bind 127.0.0.1
	tls internal
	import {INFRA}/caddy/admin-site.caddy
}}
"""
    allow = {"RECEIVER_ADMIN_ALLOW": "127.0.0.1/32"}
    with run_caddy(stack, tmp_path, sites, options=options, env=allow) as (root_ca, log):
        yield Caddy(public, root_ca, log), admin


def _follow_events(url: str, trust: ssl.SSLContext, seconds: float, seen: dict[str, Any]) -> None:
    """Read the event stream until a line arrives after ``seconds``; note what happened."""
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    try:
        with httpx.stream("GET", url, headers=headers, verify=trust, timeout=60) as response:
            seen["status"] = response.status_code
            for line in response.iter_lines():
                seen.setdefault("lines", []).append(line)
                if time.monotonic() - started > seconds:
                    break
    except httpx.HTTPError as exc:
        seen["error"] = repr(exc)
    seen["lasted"] = time.monotonic() - started


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_admin_site_serves_the_gallery_and_api_to_allowed_addresses_only(
    stack: Stack, admin_caddy: tuple[Caddy, str]
) -> None:
    caddy, admin = admin_caddy
    trust = ssl.create_default_context(cafile=str(caddy.root_ca))
    # The event stream through the admin site, held past the public listener's 30 s write
    # timeout (which would cut it there): it ends at the first line after 31 s.
    seen: dict[str, Any] = {}
    started = time.monotonic()
    follower = threading.Thread(
        target=_follow_events, args=(f"{admin}/v1/events", trust, 31, seen), daemon=True
    )
    follower.start()
    stack.simulator(
        "PATCH",
        "/_simulator/config",
        json={"ca_bundle": str(caddy.root_ca), "allow_private_callbacks": True},
    )

    # The public site stays callbacks-only: no gallery, no API.
    with httpx.Client(base_url=caddy.url, verify=trust, timeout=10) as public:
        for method, path in [
            ("GET", "/"),
            ("POST", "/login"),
            ("GET", "/static/gallery.js"),
            ("GET", "/favicon.ico"),
            ("GET", "/v1/jobs"),
            ("GET", "/openapi.json"),
        ]:
            assert public.request(method, path).status_code == 404, path

    # An address outside RECEIVER_ADMIN_ALLOW gets 403 from Caddy; nothing reaches the receiver.
    outside = httpx.HTTPTransport(verify=trust, local_address="127.0.0.2")
    with httpx.Client(base_url=admin, transport=outside, timeout=10) as outsider:
        for path in ["/", "/static/gallery.js", "/v1/jobs", "/healthz"]:
            assert outsider.get(path).status_code == 403, path
        assert outsider.post("/login", data={"token": ADMIN_TOKEN}).status_code == 403
    assert "127.0.0.2" not in (stack.tmp_path / "receiver.log").read_text()

    # An allowed address: the API with the bearer token, and the gallery in a browser.
    with httpx.Client(base_url=admin, verify=trust, timeout=10) as client:
        bearer = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        assert client.get("/v1/jobs", headers=bearer).json()["jobs"] == []
        icon = client.get("/favicon.ico")
        assert (icon.status_code, icon.headers["content-type"]) == (200, "image/vnd.microsoft.icon")
    messages: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(ignore_https_errors=True)
            page = context.new_page()
            page.on("console", lambda message: messages.append(message.text))
            page.goto(admin)
            page.fill("input[name=token]", ADMIN_TOKEN)
            page.click("button[type=submit]")
            page.wait_for_selector("#empty:not([hidden])")
            # Over https, through the proxy: the session cookie is Secure.
            [cookie] = [c for c in context.cookies() if c["name"] == SESSION_COOKIE]
            assert cookie["secure"]
            # A job submitted elsewhere appears and plays, live: its callback came through
            # the public site, its events through the admin site's stream.
            out = stack.cli("submit", "a kestrel hovering", "--json").stdout
            job_id = json.loads(out)["id"]
            page.wait_for_selector(f"[id='{job_id}'] video", timeout=60_000)
        finally:
            browser.close()
    assert [text for text in messages if "Content Security Policy" in text] == []

    # Past 31 s, something happens: the stream, still open, carries it (or a keep-alive).
    time.sleep(max(0.0, started + 32 - time.monotonic()))
    with httpx.Client(base_url=admin, verify=trust, timeout=30) as client:
        submitted = client.post(
            "/v1/jobs",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            json={"prompt": "a second kestrel", "duration": 5},
        )
        assert submitted.status_code == 201, submitted.text
    follower.join(timeout=30)
    assert "error" not in seen, seen.get("error")
    assert seen["status"] == 200
    assert seen["lasted"] > 31
