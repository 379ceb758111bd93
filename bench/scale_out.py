"""Scenario ``scale-out``: several receivers and workers on one PostgreSQL database.

The deployment users grow into (docs/scaling.md): 2 ``receiver serve --no-worker`` taking
callbacks and 2 ``receiver worker`` archiving, sharing one PostgreSQL database and one
bucket, against the provider simulator calling back twice per job. Half the jobs name one
receiver in their callback URL, half the other. The baseline is the single-node round of
``scale`` (one ``receiver serve`` with its worker, SQLite) with the same number of jobs, run
here in the same run.

Per job it prints the CPU of each kind of process, PostgreSQL's transactions and WAL bytes
(from its own statistics), the database's bytes (tables and indexes, the delivery log
apart), and the time from a callback's commit to a worker's claim: with LISTEN/NOTIFY a
worker elsewhere hears of new work at once (target: median <= 50 ms, p99 <= 200 ms).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench import archive_proc, processes, scale
from bench.options import Options, progress
from bench.results import Check, Figure, Latency, Ratio, ScenarioResult, ms
from receiver import jobs
from receiver.config import Settings
from receiver.context import Context
from receiver.devtools.seaweed import Credentials, SeaweedFS, free_ports
from receiver.providers.base import JobRequest

__all__ = ["run"]

JOBS = 10_000
POSTGRES = os.environ.get("RECEIVER_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
TARGET_WAKE_P50_MS = 50.0
TARGET_WAKE_P99_MS = 200.0
_SUBMITTERS = 16
#: Jobs submitted one at a time after the round, to workers with nothing else to do: the
#: wake-up latency is measured on these (in the round, a claim waits behind the backlog).
_TRICKLE = 40
_TRICKLE_GAP = 0.25
_API_KEY = "sk-evo-bench-scale-out"
_KINDS = ("receivers", "workers", "PostgreSQL", "SeaweedFS", "simulator")


@dataclass(frozen=True, kw_only=True)
class _Figures:
    jobs: int
    seconds: float
    cpu: Mapping[str, float]
    commits: int
    wal_bytes: int
    #: S3 requests the store answered during the round, by SeaweedFS's kind (PUT, GET, ...).
    s3_requests: Mapping[str, int]
    table_bytes: Mapping[str, int]
    wake_ms: Sequence[float]
    #: Every job of the scenario's database: the round's and the trickled ones.
    audited: int
    stored: int
    right_sha256: int
    accepted: int
    duplicates: int

    @property
    def per_job_ms(self) -> float:
        return self.seconds / self.jobs * 1000


def run(options: Options) -> ScenarioResult:
    began = time.monotonic()
    size = JOBS // 5 if options.quick else JOBS
    progress(f"scale-out: the single-node baseline, {size:,} jobs")
    single = scale.single_node_round(options, size)
    progress(f"scale-out: 2 receivers + 2 workers on PostgreSQL, {size:,} jobs")
    out = _round(options, size)
    wake = Latency.of(out.wake_ms)
    per_job = out.per_job_ms / single.per_job_ms
    figures = [
        Figure(
            label="time per job (ms)",
            baseline=f"{single.per_job_ms:.2f}",
            subject=f"{out.per_job_ms:.2f}",
        ),
        Figure(
            label="jobs per second",
            baseline=f"{single.jobs / single.seconds:,.0f}",
            subject=f"{out.jobs / out.seconds:,.0f}",
        ),
        *[
            Figure(
                label=f"CPU per job: {kind} (ms)",
                baseline=_single_cpu(single, kind),
                subject=f"{out.cpu[kind] / out.jobs * 1000:.1f}" if kind in out.cpu else "n/a",
            )
            for kind in _KINDS
        ],
        Figure(
            label="PostgreSQL commits per job",
            baseline="-",
            subject=f"{out.commits / out.jobs:.1f}",
        ),
        Figure(label="WAL bytes per job", baseline="-", subject=f"{out.wal_bytes / out.jobs:,.0f}"),
        Figure(
            label="S3 requests per job",
            baseline="-",
            subject=f"{sum(out.s3_requests.values()) / out.jobs:.2f}",
        ),
        *[
            Figure(label=f"  {kind}", baseline="-", subject=f"{count / out.jobs:.2f}")
            for kind, count in sorted(out.s3_requests.items())
        ],
        Figure(
            label="database bytes per job (tables + indexes)",
            baseline=f"{single.database_bytes / single.jobs:,.0f}",
            subject=f"{sum(out.table_bytes.values()) / out.jobs:,.0f}",
        ),
        *[
            Figure(label=f"  {table}", baseline="-", subject=f"{size / out.jobs:,.0f}")
            for table, size in sorted(out.table_bytes.items(), key=lambda item: -item[1])[:6]
        ],
        Figure(
            label=f"callback commit to a worker's claim p50 / p99 / max (ms), {_TRICKLE} jobs "
            "one at a time",
            baseline="(in-process wake-up)",
            subject=str(wake) if wake else "none",
        ),
    ]
    checks = [
        scale.check_round(single),
        Check(
            label=f"scale-out, {out.audited:,} jobs ({out.jobs:,} + {_TRICKLE} one at a time): "
            "each stored once, right SHA-256, one accepted delivery each",
            ok=out.stored == out.right_sha256 == out.accepted == out.audited
            and out.duplicates >= out.audited,
            detail=(
                f"{out.stored:,} stored, {out.right_sha256:,} with the simulator's SHA-256, "
                f"{out.accepted:,} accepted deliveries and {out.duplicates:,} duplicates"
            ),
        ),
    ]
    ratios = [
        Ratio(
            label="time per job, scale-out / single node",
            value=f"{per_job:.2f}x",
            target="(figure)",
            met=True,
        ),
        Ratio(
            label="callback commit to claim, median",
            value=f"{ms(wake.p50)} ms" if wake else "none",
            target=f"<= {TARGET_WAKE_P50_MS:.0f} ms",
            met=wake is not None and wake.p50 <= TARGET_WAKE_P50_MS,
        ),
        Ratio(
            label="callback commit to claim, p99",
            value=f"{ms(wake.p99)} ms" if wake else "none",
            target=f"<= {TARGET_WAKE_P99_MS:.0f} ms",
            met=wake is not None and wake.p99 <= TARGET_WAKE_P99_MS,
        ),
    ]
    return ScenarioResult(
        name="scale-out",
        title=f"2 receivers + 2 workers on PostgreSQL, {size:,} jobs",
        method=(
            "Baseline: the `scale` scenario's single-node round (one `receiver serve` with its "
            f"worker, SQLite) with {size:,} jobs, run here. Subject: a fresh PostgreSQL database "
            "(the local server), 2 `receiver serve --no-worker` and 2 `receiver worker` (4 "
            "archives at once each), one SeaweedFS, the simulator (each task ends 0.5 s after "
            f"submission, its callback sent twice); {_SUBMITTERS} threads submit the jobs "
            "through the Python API, half naming each receiver in their callback URL; the round "
            "ends when every job is stored. CPU is user + system time of each kind of process "
            "over the round (PostgreSQL: every server process); commits from "
            "pg_stat_database, WAL bytes from pg_current_wal_lsn() (the whole cluster); table "
            "bytes from pg_total_relation_size; S3 requests from SeaweedFS's own counters "
            "(`SeaweedFS_s3_request_total`, by kind). Commit to claim, measured after the "
            f"round on {_TRICKLE} jobs submitted one at a time {_TRICKLE_GAP} s apart (in the "
            "round a claim waits behind the backlog): a job's "
            "`job.completed` event time (its transaction) to the worker's `archive.started` "
            "log line." + (" Quick run: a fifth of the jobs." if options.quick else "")
        ),
        baseline="single node",
        subject="scale-out",
        figures=figures,
        ratios=ratios,
        checks=checks,
        notes=[
            "Every process shares the machine's 2 cores: the figures say what a job costs each "
            "kind of process, not how fast a larger machine would go (docs/scaling.md).",
        ],
        seconds=time.monotonic() - began,
    )


def _single_cpu(single: scale.Round, kind: str) -> str:
    name = {"receivers": "receiver", "SeaweedFS": "SeaweedFS", "simulator": "simulator"}.get(kind)
    value = single.cpu_seconds.get(name) if name else None
    return f"{value / single.jobs * 1000:.1f}" if value is not None else "-"


@contextmanager
def _database() -> Iterator[str]:
    name = f"receiver_bench_{secrets.token_hex(4)}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _round(options: Options, size: int) -> _Figures:
    workdir = options.workdir / "scale-out"
    workdir.mkdir()
    credentials = Credentials("bench" + secrets.token_hex(4), secrets.token_urlsafe(24))
    port_a, port_b, simulator_port, metrics_port = free_ports(4)
    with (
        _database() as database_url,
        SeaweedFS(
            workdir / "seaweedfs",
            credentials,
            log_path=workdir / "weed.log",
            metrics_port=metrics_port,
        ) as s3,
        ExitStack() as stack,
    ):
        env = {
            **scale.stack_env(s3, credentials, port_a, simulator_port, api_key=_API_KEY),
            "RECEIVER_DATABASE_URL": database_url,
            "RECEIVER_LOG_LEVEL": "info",
        }
        migrate = processes.spawned("receiver", ["migrate"], log=workdir / "migrate.log", env=env)
        processes.wait(stack.enter_context(migrate), workdir / "migrate.log", timeout=60)

        def spawn(name: str, args: list[str], **extra: str) -> Any:
            log = workdir / f"{name}.log"
            return stack.enter_context(
                processes.spawned("receiver", args, log=log, env={**env, **extra})
            )

        simulator = spawn(
            "simulator",
            [
                "simulator",
                "--port",
                str(simulator_port),
                "--delay",
                "0.5",
                "--api-key",
                _API_KEY,
                "--allow-http-callbacks",
            ],
        )
        receivers = [
            spawn(
                f"receiver-{n}",
                ["serve", "--host", "127.0.0.1", "--port", str(port), "--no-worker"],
                RECEIVER_PUBLIC_URL=f"http://127.0.0.1:{port}",
            )
            for n, port in enumerate((port_a, port_b))
        ]
        workers = [spawn(f"worker-{n}", ["worker"]) for n in range(2)]
        processes.wait_for_port(simulator_port, simulator, workdir / "simulator.log")
        for n, (receiver, port) in enumerate(zip(receivers, (port_a, port_b), strict=True)):
            processes.wait_for_port(port, receiver, workdir / f"receiver-{n}.log")
        simulator_url = f"http://127.0.0.1:{simulator_port}"
        httpx.patch(
            f"{simulator_url}/_simulator/config", json={"duplicate_callbacks": 1}, timeout=10
        ).raise_for_status()
        weed = archive_proc.pid_with_argument(f"-dir={s3.data_dir / 'data'}")
        pids = {
            "receivers": [r.pid for r in receivers],
            "workers": [w.pid for w in workers],
            "PostgreSQL": _postgres_pids(),
            "SeaweedFS": [weed] if weed else [],
            "simulator": [simulator.pid],
        }
        cpu_before = _cpu(pids)
        stats_before = _pg_stats(database_url)
        s3_before = _s3_requests(metrics_port)
        started = time.monotonic()
        _submit(env, size, (port_a, port_b))
        _wait_stored(database_url, size)
        seconds = time.monotonic() - started
        pids["PostgreSQL"] = _postgres_pids()
        cpu_after = _cpu(pids)
        stats_after = _pg_stats(database_url)
        s3_after = _s3_requests(metrics_port)
        trickled = _trickle(env, (port_a, port_b))
        _wait_stored(database_url, size + len(trickled))
        tasks = httpx.get(f"{simulator_url}/_simulator/stats", timeout=60).json()["tasks"]
        for worker in workers:
            processes.stop(worker)
        audit = _audit(database_url, tasks)
        claims = _claims([workdir / f"worker-{n}.log" for n in range(2)])
        return _Figures(
            jobs=size,
            seconds=seconds,
            cpu={kind: cpu_after[kind] - cpu_before.get(kind, 0.0) for kind in cpu_after},
            commits=stats_after["commits"] - stats_before["commits"],
            wal_bytes=stats_after["wal"] - stats_before["wal"],
            s3_requests={
                kind: count - s3_before.get(kind, 0)
                for kind, count in s3_after.items()
                if count > s3_before.get(kind, 0)
            },
            table_bytes=_table_bytes(database_url),
            wake_ms=_wake_ms(database_url, {job: claims[job] for job in trickled if job in claims}),
            audited=size + len(trickled),
            **audit,
        )


def _submit(env: Mapping[str, str], size: int, ports: Sequence[int]) -> None:
    contexts = [
        Context(Settings.from_env({**env, "RECEIVER_PUBLIC_URL": f"http://127.0.0.1:{port}"}))
        for port in ports
    ]
    try:
        with ThreadPoolExecutor(_SUBMITTERS) as pool:
            for _ in pool.map(
                lambda n: jobs.submit_job(
                    contexts[n % len(contexts)], JobRequest(prompt=f"scale-out clip {n}")
                ),
                range(size),
            ):
                pass
    finally:
        for ctx in contexts:
            ctx.close()


def _trickle(env: Mapping[str, str], ports: Sequence[int]) -> list[str]:
    """Submit :data:`_TRICKLE` jobs one at a time, a little apart; their ids."""
    contexts = [
        Context(Settings.from_env({**env, "RECEIVER_PUBLIC_URL": f"http://127.0.0.1:{port}"}))
        for port in ports
    ]
    try:
        submitted = []
        for n in range(_TRICKLE):
            job = jobs.submit_job(contexts[n % len(contexts)], JobRequest(prompt=f"trickle {n}"))
            submitted.append(job.id)
            time.sleep(_TRICKLE_GAP)
        return submitted
    finally:
        for ctx in contexts:
            ctx.close()


def _wait_stored(database_url: str, size: int) -> None:
    deadline = time.monotonic() + max(180.0, size * 0.15)
    last_report = 0.0
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT COUNT(*) FROM jobs WHERE status = 'stored'").fetchone()
            stored = int(row[0]) if row else 0
            if stored >= size:
                return
            if time.monotonic() - last_report > 10:
                progress(f"scale-out: {stored:,} of {size:,} stored")
                last_report = time.monotonic()
            time.sleep(0.5)
    raise processes.ProcessFailed(f"scale-out: only some of {size:,} jobs were stored in time")


def _postgres_pids() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _cpu(pids: Mapping[str, Sequence[int]]) -> dict[str, float]:
    return {
        kind: sum(archive_proc.cpu_seconds(pid) or 0.0 for pid in group)
        for kind, group in pids.items()
    }


def _pg_stats(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint "
            "FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    assert row is not None
    return {"commits": int(row[0]), "wal": int(row[1])}


_S3_REQUESTS = re.compile(r"^SeaweedFS_s3_request_total\{(?P<labels>[^}]*)\} (?P<count>\S+)$")
_S3_KIND = re.compile(r'type="(?P<kind>[^"]*)"')


def _s3_requests(metrics_port: int) -> dict[str, int]:
    """SeaweedFS's own count of the S3 requests it answered, by kind (all buckets, codes)."""
    text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=30).text
    counts: dict[str, int] = {}
    for line in text.splitlines():
        found = _S3_REQUESTS.match(line)
        if found is None:
            continue
        kind = _S3_KIND.search(found["labels"])
        name = kind["kind"] if kind else "other"
        counts[name] = counts.get(name, 0) + int(float(found["count"]))
    return counts


def _table_bytes(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT relname, pg_total_relation_size(relid) FROM pg_stat_user_tables"
        ).fetchall()
    return {str(name): int(size) for name, size in rows}


def _audit(database_url: str, tasks: Mapping[str, Any]) -> dict[str, int]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        stored = conn.execute(
            "SELECT j.task_id, a.sha256 FROM jobs j JOIN assets a ON a.job_id = j.id"
        ).fetchall()
        accepted = conn.execute(
            "SELECT COUNT(DISTINCT job_id), COUNT(*) FROM deliveries WHERE outcome = 'accepted'"
        ).fetchone()
        duplicates = conn.execute(
            "SELECT COUNT(*) FROM deliveries WHERE outcome = 'duplicate'"
        ).fetchone()
    assert accepted is not None
    assert duplicates is not None
    right = sum(1 for task_id, sha in stored if tasks.get(task_id, {}).get("sha256") == sha)
    return {
        "stored": len(stored),
        "right_sha256": right,
        "accepted": int(accepted[0]) if accepted[0] == accepted[1] else -1,
        "duplicates": int(duplicates[0]),
    }


def _claims(logs: Sequence[Path]) -> dict[str, datetime]:
    """When each job's first archive attempt started, from the workers' JSON logs."""
    found: dict[str, datetime] = {}
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if '"archive.started"' not in line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            at = datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00"))
            job_id = record.get("job_id")
            if job_id and (job_id not in found or at < found[job_id]):
                found[job_id] = at
    return found


def _wake_ms(database_url: str, claims: Mapping[str, datetime]) -> list[float]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT job_id, MIN(created_at) FROM events WHERE type = 'job.completed' "
            "GROUP BY job_id"
        ).fetchall()
    waits = []
    for job_id, completed in rows:
        claimed = claims.get(job_id)
        if claimed is not None:
            waits.append((claimed - datetime.fromisoformat(completed)).total_seconds() * 1000)
    return waits
