"""The CLI's answers to a wrong setup: one line, the documented exit status, nothing created.

Each command runs as a user runs it, in a subprocess, in a directory of its own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

import receiver
from receiver.devtools.seaweed import free_ports
from receiver.errors import ServiceError
from receiver.web.metrics_server import MetricsServer
from receiver.web.server import listen
from tests.conftest import SECRET_KEY


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # Only what the test gives: no RECEIVER_* from the calling shell.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RECEIVER_", "AWS_"))}
    return subprocess.run(
        [sys.executable, "-m", "receiver", *args],
        cwd=cwd,
        env={**clean, "RECEIVER_LOG_FORMAT": "json", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """stderr, which must be exactly one line and no traceback."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_version(tmp_path: Path) -> None:
    result = run(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout == f"receiver {receiver.__version__}\n"


def test_serve_refuses_a_number_that_is_not_a_port(tmp_path: Path) -> None:
    # Before: it logged port 99999 and bound another one.
    result = run(tmp_path, "serve", "--port", "99999", RECEIVER_SECRET_KEYS=SECRET_KEY)
    assert result.returncode == 2
    assert one_line(result) == (
        "receiver: configuration error: --port: 99999 is not a TCP port (1-65535)"
    )


def test_serve_on_a_busy_port_says_so_in_one_line_and_exits_1(
    tmp_path: Path, busy_port: int
) -> None:
    # Before: uvicorn started the app, logged the error, stopped, and exited 3.
    result = run(tmp_path, "serve", "--port", str(busy_port), RECEIVER_SECRET_KEYS=SECRET_KEY)
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith(f"receiver: cannot listen on 127.0.0.1:{busy_port}: ")
    assert "choose another --port" in line
    # Refused before anything was opened.
    assert not (tmp_path / "var").exists()


def test_worker_metrics_on_a_busy_port_says_so_in_one_line_and_exits_1(
    tmp_path: Path, busy_port: int
) -> None:
    result = run(tmp_path, "worker", "--metrics-port", str(busy_port))
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith(f"receiver: cannot listen on 127.0.0.1:{busy_port}: ")
    assert "--metrics-port" in line


def test_the_metrics_server_on_a_busy_port_is_a_service_error(busy_port: int) -> None:
    # Behind the CLI's check (a port taken in between): still one line, exit status 1.
    server = MetricsServer(busy_port, CollectorRegistry())
    with pytest.raises(ServiceError, match=f"cannot serve metrics on 127.0.0.1:{busy_port}"):
        server.start()
    server.stop()


def test_the_server_binds_before_it_starts_anything(busy_port: int) -> None:
    # receiver/web/server.py binds its own sockets: a busy port is a ServiceError there too,
    # whoever calls it.
    with pytest.raises(ServiceError, match=f"cannot listen on 127.0.0.1:{busy_port}"):
        listen("127.0.0.1", busy_port)
    (free,) = free_ports(1)
    sockets = listen("127.0.0.1", free)
    try:
        assert [sock.getsockname()[1] for sock in sockets] == [free]
    finally:
        for sock in sockets:
            sock.close()


@pytest.mark.parametrize(
    "command", [["jobs"], ["show", "job_x"], ["deliveries"], ["notifications"]], ids=str
)
def test_a_read_only_command_never_creates_a_database(tmp_path: Path, command: list[str]) -> None:
    # Before: without `source var/dev/env`, `receiver jobs` made var/receiver.db, migrated
    # it, and listed nothing.
    result = run(tmp_path, *command)
    assert result.returncode == 2
    line = one_line(result)
    assert "there is no database at var/receiver.db" in line
    assert "RECEIVER_DATABASE_URL" in line
    assert "source var/dev/env" in line
    assert not (tmp_path / "var").exists()


def test_a_read_only_command_never_creates_an_explicit_database(tmp_path: Path) -> None:
    explicit = tmp_path / "elsewhere.db"
    result = run(tmp_path, "jobs", RECEIVER_DATABASE_URL=f"sqlite:///{explicit}")
    assert result.returncode == 2
    assert f"there is no database at {explicit}" in one_line(result)
    assert not explicit.exists()


def test_a_missing_directory_is_refused_and_the_default_one_is_made(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent" / "dir" / "x.db"
    result = run(tmp_path, "migrate", RECEIVER_DATABASE_URL=f"sqlite:///{missing}")
    assert result.returncode == 2
    assert f"the directory of the SQLite database {missing} does not exist" in one_line(result)
    assert not (tmp_path / "nonexistent").exists()
    # A relative path says what it is relative to.
    relative = run(tmp_path, "migrate", RECEIVER_DATABASE_URL="sqlite:///no/such/x.db")
    assert f"no/such/x.db (relative to {tmp_path}" in one_line(relative)
    # The default, var/receiver.db: its directory is made, and the database with it.
    made = run(tmp_path, "migrate")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "var" / "receiver.db").is_file()
    # ... after which the read-only commands find it.
    assert run(tmp_path, "jobs").returncode == 0


def test_config_example_prints_the_generated_env_example(tmp_path: Path) -> None:
    result = run(tmp_path, "config", "--example")
    assert result.returncode == 0
    root = Path(__file__).resolve().parents[2]
    assert result.stdout == (root / "infra" / "env.example").read_text()
