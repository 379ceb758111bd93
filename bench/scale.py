"""Scenario ``scale``: does the time per job stay flat from 1,000 to 10,000 jobs?

Each round starts a fresh stack of real parts: SeaweedFS (credentials enforced), the
provider simulator (every callback sent twice: the provider's own duplicate), and one
``receiver serve`` with its archive worker, on a fresh SQLite database. The jobs are
submitted through the Python API (the provider call included) by 16 threads, and the round
ends when every job is stored. Time per job is the round's wall time divided by its jobs:
the 1,000-job round is the baseline, the 10,000-job round the subject. Anything that grows
with the history (a scan, an unindexed lookup, a leak) shows as a ratio above 1. Peak
memory (``VmHWM``) of every process and the database's bytes per job come with it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import archive_proc, processes
from bench.options import Options, progress
from bench.results import Check, Figure, Ratio, ScenarioResult
from receiver import jobs
from receiver.config import Settings
from receiver.context import Context
from receiver.devtools.seaweed import Credentials, SeaweedFS, free_ports
from receiver.providers.base import JobRequest

__all__ = ["Round", "check_round", "run", "single_node_round", "stack_env"]

SIZES = (1_000, 10_000)
#: How much slower per job the large round may be.
TARGET = 1.1
_SUBMITTERS = 16
_API_KEY = "sk-evo-bench-scale"


@dataclass(frozen=True, kw_only=True)
class Round:
    jobs: int
    seconds: float
    submit_seconds: float
    peak_rss: Mapping[str, int | None]
    cpu_seconds: Mapping[str, float | None]
    database_bytes: int
    stored: int
    right_sha256: int
    accepted: int
    duplicates: int

    @property
    def per_job_ms(self) -> float:
        return self.seconds / self.jobs * 1000


def run(options: Options) -> ScenarioResult:
    began = time.monotonic()
    sizes = tuple(size // 5 for size in SIZES) if options.quick else SIZES
    rounds = [single_node_round(options, size) for size in sizes]
    small, large = rounds
    ratio = large.per_job_ms / small.per_job_ms
    return ScenarioResult(
        name="scale",
        title=f"time per job from {small.jobs:,} to {large.jobs:,} jobs",
        method=(
            "Each round on a fresh stack of real parts: SeaweedFS (credentials enforced), the "
            "provider simulator (each task ends 0.5 s after submission and its callback is sent "
            "twice), one `receiver serve` with its archive worker (4 archives at once) on a "
            f"fresh SQLite database. {_SUBMITTERS} threads submit the jobs through the Python "
            "API (the provider call included); the round ends when every job is stored. Time per "
            "job = the round's wall time / its jobs. Memory is each process's peak resident set "
            "(VmHWM), CPU its user + system time over the round; database bytes are the SQLite "
            "file after the receiver stopped."
        ),
        baseline=f"{small.jobs:,} jobs",
        subject=f"{large.jobs:,} jobs",
        figures=[
            Figure(label="jobs", baseline=f"{small.jobs:,}", subject=f"{large.jobs:,}"),
            _row(
                "wall time, submit to last stored (s)", small, large, lambda r: f"{r.seconds:.1f}"
            ),
            _row("  of which submitting (s)", small, large, lambda r: f"{r.submit_seconds:.1f}"),
            _row("time per job (ms)", small, large, lambda r: f"{r.per_job_ms:.2f}"),
            _row("jobs per second", small, large, lambda r: f"{r.jobs / r.seconds:,.0f}"),
            *[
                _row(f"peak memory: {name} (MiB)", small, large, lambda r, n=name: _mib(r, n))
                for name in small.peak_rss
            ],
            *[
                _row(f"CPU per job: {name} (ms)", small, large, lambda r, n=name: _cpu(r, n))
                for name in small.cpu_seconds
            ],
            _row(
                "database bytes per job",
                small,
                large,
                lambda r: f"{r.database_bytes / r.jobs:,.0f}",
            ),
            _row(
                "deliveries: accepted / duplicate",
                small,
                large,
                lambda r: f"{r.accepted:,} / {r.duplicates:,}",
            ),
        ],
        ratios=[
            Ratio(
                label=f"time per job, {large.jobs:,} / {small.jobs:,} jobs",
                value=f"{ratio:.2f}x",
                target=f"<= {TARGET}x",
                met=ratio <= TARGET,
            )
        ],
        checks=[check_round(r) for r in rounds],
        notes=[
            "The simulator, SeaweedFS, the receiver and the submitting threads share the "
            "machine's cores; the ratio compares two rounds under the same conditions.",
        ],
        seconds=time.monotonic() - began,
    )


def _row(label: str, small: Round, large: Round, show: object) -> Figure:
    assert callable(show)
    return Figure(label=label, baseline=show(small), subject=show(large))


def _mib(result: Round, name: str) -> str:
    value = result.peak_rss.get(name)
    return f"{value / 2**20:.0f}" if value else "n/a"


def _cpu(result: Round, name: str) -> str:
    value = result.cpu_seconds.get(name)
    return f"{value / result.jobs * 1000:.1f}" if value is not None else "n/a"


def check_round(result: Round) -> Check:
    ok = (
        result.stored == result.jobs
        and result.right_sha256 == result.jobs
        and result.accepted == result.jobs
        and result.duplicates >= result.jobs
    )
    return Check(
        label=f"{result.jobs:,} jobs: each stored once, right SHA-256, one accepted delivery each",
        ok=ok,
        detail=(
            f"{result.stored:,} stored, {result.right_sha256:,} with the simulator's SHA-256, "
            f"{result.accepted:,} accepted deliveries and {result.duplicates:,} duplicates"
        ),
    )


def single_node_round(options: Options, size: int) -> Round:
    """One round: ``size`` jobs through one ``receiver serve`` with its worker, on SQLite."""
    workdir = options.workdir / f"scale-{size}"
    workdir.mkdir()
    progress(f"scale: {size:,} jobs")
    credentials = Credentials("bench" + secrets.token_hex(4), secrets.token_urlsafe(24))
    receiver_port, simulator_port = free_ports(2)
    db_path = workdir / "receiver.db"
    with SeaweedFS(workdir / "seaweedfs", credentials, log_path=workdir / "weed.log") as s3:
        env = _env(db_path, s3, credentials, receiver_port, simulator_port)
        simulator_args = [
            "simulator",
            "--port",
            str(simulator_port),
            "--delay",
            "0.5",
            "--api-key",
            _API_KEY,
            "--allow-http-callbacks",
        ]
        with (
            processes.spawned(
                "receiver", simulator_args, log=workdir / "simulator.log", env=env
            ) as simulator,
            processes.spawned(
                "receiver",
                ["serve", "--host", "127.0.0.1", "--port", str(receiver_port)],
                log=workdir / "receiver.log",
                env=env,
            ) as receiver,
        ):
            processes.wait_for_port(simulator_port, simulator, workdir / "simulator.log")
            processes.wait_for_port(receiver_port, receiver, workdir / "receiver.log")
            simulator_url = f"http://127.0.0.1:{simulator_port}"
            httpx.patch(
                f"{simulator_url}/_simulator/config", json={"duplicate_callbacks": 1}, timeout=10
            ).raise_for_status()
            # This process ran earlier scenarios and rounds: count only this round's share.
            own_cpu_before = archive_proc.cpu_seconds(os.getpid()) or 0.0
            _reset_own_peak_rss()
            started = time.monotonic()
            _submit(Settings.from_env(env), size)
            submitted = time.monotonic()
            _wait_stored(db_path, size, receiver, workdir / "receiver.log")
            seconds = time.monotonic() - started
            weed = archive_proc.pid_with_argument(f"-dir={s3.data_dir / 'data'}")
            pids = {
                "receiver": receiver.pid,
                "simulator": simulator.pid,
                "SeaweedFS": weed,
                "submitter (this process)": os.getpid(),
            }
            peaks = {
                name: archive_proc.peak_rss(pid) if pid else None for name, pid in pids.items()
            }
            cpu = {
                name: archive_proc.cpu_seconds(pid) if pid else None for name, pid in pids.items()
            }
            cpu["submitter (this process)"] = (
                archive_proc.cpu_seconds(os.getpid()) or 0.0
            ) - own_cpu_before
            stats = httpx.get(f"{simulator_url}/_simulator/stats", timeout=30).json()
            processes.stop(receiver)
        return _audit(
            db_path,
            stats,
            size,
            seconds=seconds,
            submit_seconds=submitted - started,
            peaks=peaks,
            cpu=cpu,
        )


def _env(
    db_path: Path, s3: SeaweedFS, credentials: Credentials, port: int, simulator_port: int
) -> dict[str, str]:
    return {
        **stack_env(s3, credentials, port, simulator_port, api_key=_API_KEY),
        "RECEIVER_DATABASE_URL": f"sqlite:///{db_path}",
    }


def stack_env(
    s3: SeaweedFS, credentials: Credentials, port: int, simulator_port: int, *, api_key: str
) -> dict[str, str]:
    """The environment of a benchmark's receiver processes, but for the database."""
    return {
        **processes.clean_env(),
        "RECEIVER_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "RECEIVER_SECRET_KEYS": secrets.token_urlsafe(32),
        "RECEIVER_INSECURE": "1",
        "RECEIVER_LOG_LEVEL": "warning",
        "RECEIVER_LOG_FORMAT": "json",
        "RECEIVER_S3_ENDPOINT_URL": s3.endpoint_url,
        "RECEIVER_S3_BUCKET": "bench-scale",
        "RECEIVER_ARCHIVE_CONCURRENCY": "4",
        "AWS_ACCESS_KEY_ID": credentials.access_key,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
        "AWS_REGION": "us-east-1",
        "EVOLINK_API_KEY": api_key,
        "EVOLINK_BASE_URL": f"http://127.0.0.1:{simulator_port}",
    }


def _reset_own_peak_rss() -> None:
    """Start this process's VmHWM afresh ("5" to clear_refs), so a round's peak is its own."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _submit(settings: Settings, size: int) -> None:
    with Context(settings) as ctx, ThreadPoolExecutor(_SUBMITTERS) as pool:
        for _ in pool.map(
            lambda n: jobs.submit_job(ctx, JobRequest(prompt=f"scale clip {n}")), range(size)
        ):
            pass


def _wait_stored(db_path: Path, size: int, receiver: object, log: Path) -> None:
    deadline = time.monotonic() + max(120.0, size * 0.1)
    last_report = 0.0
    while time.monotonic() < deadline:
        stored = _count(db_path, "SELECT COUNT(*) FROM jobs WHERE status = 'stored'")
        if stored >= size:
            return
        if time.monotonic() - last_report > 10:
            progress(f"scale: {stored:,} of {size:,} stored")
            last_report = time.monotonic()
        time.sleep(0.5)
    raise processes.ProcessFailed(
        f"only some of {size:,} jobs were stored in time:\n{processes.tail(log)}"
    )


def _count(db_path: Path, sql: str) -> int:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30) as conn:
        return int(conn.execute(sql).fetchone()[0])


def _audit(
    db_path: Path,
    stats: Mapping[str, object],
    size: int,
    *,
    seconds: float,
    submit_seconds: float,
    peaks: Mapping[str, int | None],
    cpu: Mapping[str, float | None],
) -> Round:
    tasks = stats.get("tasks")
    assert isinstance(tasks, dict)
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        stored = conn.execute(
            "SELECT j.task_id, a.sha256 FROM jobs j JOIN assets a ON a.job_id = j.id"
        ).fetchall()
        accepted = conn.execute(
            "SELECT COUNT(DISTINCT job_id), COUNT(*) FROM deliveries WHERE outcome = 'accepted'"
        ).fetchone()
        duplicates = conn.execute(
            "SELECT COUNT(*) FROM deliveries WHERE outcome = 'duplicate'"
        ).fetchone()[0]
    right = sum(1 for task_id, sha in stored if tasks.get(task_id, {}).get("sha256") == sha)
    # One accepted delivery per job: as many rows as distinct jobs, and as many as jobs.
    accepted_ok = accepted[0] if accepted[0] == accepted[1] else -1
    return Round(
        jobs=size,
        seconds=seconds,
        submit_seconds=submit_seconds,
        peak_rss=peaks,
        cpu_seconds=cpu,
        database_bytes=sum(
            path.stat().st_size
            for path in db_path.parent.glob(f"{db_path.name}*")
            if path.is_file()
        ),
        stored=len(stored),
        right_sha256=right,
        accepted=accepted_ok,
        duplicates=int(duplicates),
    )
