"""The provider's CDN, as the ``archive`` scenario plays it: video files behind Caddy.

Each video is the simulator's sample MP4 followed by one ``free`` box of seeded random
bytes (as :mod:`receiver.devtools.simulator.video` builds them), so it starts with the ``ftyp`` box
the archiver checks for, stays a valid MP4, and has its own SHA-256. Random bytes, because
nothing on the way (the store included) should get to compress them.

The files are written once, flushed to disk (so writeback does not land inside a measured
stage), and served by Debian's Caddy (``caddy file-server``): a fast static server in Go
that sends files with ``sendfile``, so the source is never the bottleneck, as a CDN is not.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import struct
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import processes
from receiver.devtools.seaweed import free_ports
from receiver.devtools.simulator.video import sample_bytes

__all__ = ["Video", "caddy_file_server", "write_videos"]

_BLOCK = 4 * 1024 * 1024
_FREE_BOX_HEADER = 8


@dataclass(frozen=True, kw_only=True)
class Video:
    name: str
    path: Path
    size: int
    sha256: str


def write_videos(directory: Path, *, prefix: str, count: int, size: int) -> list[Video]:
    """``count`` distinct videos of exactly ``size`` bytes, named ``<prefix>-NN.mp4``."""
    directory.mkdir(parents=True, exist_ok=True)
    return [_write_video(directory, f"{prefix}-{n:02d}.mp4", size) for n in range(count)]


def _write_video(directory: Path, name: str, size: int) -> Video:
    sample = sample_bytes()
    padding = size - len(sample)
    if padding < _FREE_BOX_HEADER or padding > 0xFFFF_FFFF:
        raise ValueError(f"a benchmark video must be {len(sample) + 8} bytes to 4 GiB, not {size}")
    rng = random.Random(name)  # noqa: S311 - reproducible filler, not a secret
    digest = hashlib.sha256()
    path = directory / name
    with path.open("wb") as out:
        for block in _blocks(sample + struct.pack(">I4s", padding, b"free"), size, rng):
            digest.update(block)
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    return Video(name=name, path=path, size=size, sha256=digest.hexdigest())


def _blocks(head: bytes, size: int, rng: random.Random) -> Iterator[bytes]:
    yield head
    left = size - len(head)
    while left > 0:
        block = rng.randbytes(min(_BLOCK, left))
        left -= len(block)
        yield block


@contextmanager
def caddy_file_server(root: Path, workdir: Path) -> Iterator[tuple[str, int]]:
    """Serve ``root`` on a free loopback port: yields (base URL, Caddy's pid)."""
    caddy = shutil.which("caddy")
    if caddy is None:
        raise processes.ProcessFailed(
            "the archive scenario needs Caddy (`caddy`): run infra/ensure-caddy.sh"
        )
    (port,) = free_ports(1)
    home = workdir / "caddy"
    home.mkdir(parents=True, exist_ok=True)
    # Caddy keeps state under XDG dirs (certificates, autosave): keep it in the run's temp dir.
    env = {**os.environ, "XDG_DATA_HOME": str(home), "XDG_CONFIG_HOME": str(home)}
    log = workdir / "caddy.log"
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 - a binary found on PATH, our own arguments
            [caddy, "file-server", "--root", str(root), "--listen", f"127.0.0.1:{port}"],
            cwd=home,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        processes.wait_for_port(port, server, log)
        yield f"http://127.0.0.1:{port}", server.pid
    finally:
        processes.stop(server)
