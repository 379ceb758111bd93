"""The baseline of the ``archive`` scenario: ``rclone copyurl`` into the same SeaweedFS.

rclone is configured entirely from environment variables (an S3 remote named ``bench``,
provider SeaweedFS, the run's credentials), with an empty config file of its own, so the
user's rclone setup is neither read nor touched. Debian's rclone (1.60) copies one URL per
process, so the baseline runs one ``rclone copyurl`` per video, at most ``concurrency`` at
once.

Each process is reaped with ``wait4``, which hands back its own resource usage: its CPU
seconds and its peak resident memory, exact and counted whatever its lifetime. Since the
copies run side by side, their memory adds up; the sum is sampled from ``/proc`` meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench import archive_proc, processes

__all__ = ["REMOTE", "CopyRun", "Transfer", "copy_urls", "rclone_env"]

#: The rclone remote the environment defines.
REMOTE = "bench"
_SAMPLE_EVERY = 0.05


@dataclass(frozen=True, kw_only=True)
class Transfer:
    url: str
    key: str


@dataclass(frozen=True, kw_only=True)
class CopyRun:
    #: From starting the first copy to the end of the last.
    wall: float
    #: User plus system CPU seconds of every rclone process.
    cpu: float
    #: The largest resident memory any one rclone process reached, in bytes.
    peak_rss_process: int
    #: The largest sum of resident memory of the processes running at once (sampled).
    peak_rss_total: int
    #: One line per copy that failed.
    failures: Sequence[str]


def rclone_env(
    *, endpoint: str, access_key: str, secret_key: str, config: Path, part_size: int | None = None
) -> dict[str, str]:
    """The environment for ``rclone`` to reach the store as remote ``bench:``.

    rclone's own defaults, unless ``part_size`` is given: by default rclone sends a file
    under 200 MiB in one streamed PUT (nothing hashed, the payload unsigned) and larger ones
    in 5 MiB parts; with ``part_size`` every file goes in parts of that size, as the
    archiver sends them, so the store gets the very same requests from both.
    """
    config.touch(mode=0o600)
    name = f"RCLONE_CONFIG_{REMOTE.upper()}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("RCLONE_", "AWS_"))},
        "RCLONE_CONFIG": str(config),
        f"{name}_TYPE": "s3",
        f"{name}_PROVIDER": "SeaweedFS",
        f"{name}_ENV_AUTH": "false",
        f"{name}_ACCESS_KEY_ID": access_key,
        f"{name}_SECRET_ACCESS_KEY": secret_key,
        f"{name}_ENDPOINT": endpoint,
        f"{name}_REGION": "us-east-1",
        f"{name}_FORCE_PATH_STYLE": "true",
        # The bucket exists (the driver made it): do not ask the store again per process.
        f"{name}_NO_CHECK_BUCKET": "true",
    }
    if part_size is not None:
        # rclone reads a bare number as KiB: say bytes.
        env[f"{name}_CHUNK_SIZE"] = f"{part_size}B"
        env[f"{name}_UPLOAD_CUTOFF"] = f"{part_size}B"
    return env


def copy_urls(
    transfers: Sequence[Transfer],
    *,
    bucket: str,
    concurrency: int,
    env: Mapping[str, str],
    log_dir: Path,
    timeout: float,
) -> CopyRun:
    """Run ``rclone copyurl URL bench:BUCKET/KEY`` for each transfer, ``concurrency`` at once."""
    rclone = shutil.which("rclone")
    if rclone is None:
        raise processes.ProcessFailed(
            "the archive scenario needs rclone: run infra/ensure-rclone.sh"
        )
    log_dir.mkdir(parents=True, exist_ok=True)
    running = _Running()

    def copy(number: int, transfer: Transfer) -> tuple[int, float, int]:
        log = log_dir / f"rclone-{number:02d}.log"
        command = [rclone, "copyurl", transfer.url, f"{REMOTE}:{bucket}/{transfer.key}"]
        return running.run(command, env=env, log=log)

    peak_total = 0
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="rclone") as pool:
        futures = [pool.submit(copy, n, t) for n, t in enumerate(transfers)]
        try:
            while not all(future.done() for future in futures):
                if time.monotonic() - began > timeout:
                    raise processes.ProcessFailed(f"rclone copies ran over {timeout:.0f} s")
                peak_total = max(peak_total, running.total_rss())
                time.sleep(_SAMPLE_EVERY)
        finally:
            running.stop_all()
    wall = time.monotonic() - began
    return _summarise(futures, transfers, log_dir, wall=wall, peak_total=peak_total)


def _summarise(
    futures: Sequence[Future[tuple[int, float, int]]],
    transfers: Sequence[Transfer],
    log_dir: Path,
    *,
    wall: float,
    peak_total: int,
) -> CopyRun:
    cpu, peak_one, failures = 0.0, 0, []
    for number, (future, transfer) in enumerate(zip(futures, transfers, strict=True)):
        code, seconds, max_rss = future.result()
        cpu += seconds
        peak_one = max(peak_one, max_rss)
        if code != 0:
            log = log_dir / f"rclone-{number:02d}.log"
            failures.append(f"{transfer.key}: status {code}: {processes.tail(log, 3)}")
    return CopyRun(
        wall=wall,
        cpu=cpu,
        peak_rss_process=peak_one,
        # A copy shorter than the sampling interval may be missed by the sum, never by this.
        peak_rss_total=max(peak_total, peak_one),
        failures=failures,
    )


class _Running:
    """The rclone processes alive now: their memory summed, all stopped on the way out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pids: set[int] = set()
        self._stopping = False

    def run(
        self, command: Sequence[str], *, env: Mapping[str, str], log: Path
    ) -> tuple[int, float, int]:
        """Run ``command`` to its end: exit status, CPU seconds, peak RSS in bytes."""
        with self._lock:
            if self._stopping:
                return -1, 0.0, 0
            with log.open("wb") as out:
                process = subprocess.Popen(  # noqa: S603 - rclone found on PATH, our own arguments
                    command,
                    env=dict(env),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self._pids.add(process.pid)
        try:
            # Wait for the end without reaping: until reaped, the pid cannot be reused, so
            # stop_all can never signal a stranger that inherited it.
            os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
        finally:
            with self._lock:
                self._pids.discard(process.pid)
        # wait4 rather than Popen.wait: only it returns the child's own resource usage.
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        # ru_maxrss is in KiB on Linux.
        return process.returncode, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024

    def total_rss(self) -> int:
        with self._lock:
            pids = list(self._pids)
        return sum(archive_proc.rss(pid) or 0 for pid in pids)

    def stop_all(self) -> None:
        """Interrupted or out of time: kill every copy still running (each its own group)."""
        with self._lock:
            self._stopping = True
            pids = list(self._pids)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
