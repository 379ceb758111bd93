"""Scenario ``flood``: what a flood of junk at the callback route costs, and costs real callbacks.

The callback route faces the whole internet without authentication at the HTTP layer
(docs/security.md). Two rounds against a real ``receiver serve --no-worker`` (SQLite, the
default settings), each with real signed callbacks arriving at 100/s in an open loop for
30 s from :mod:`bench.loadgen`:

- baseline, *no flood*: the real callbacks alone;
- subject, *flood*: the same callbacks while :mod:`bench.junk` sends junk over 4 connections
  as fast as the server answers: 100 headers of 1 KiB with a 64 KiB body, and, in turn,
  24 headers of 1 KiB with a 64 KiB body behind a forged token (within the head limits, so
  the app judges it).

Figures: the real callbacks' latency in each round (target: p99 <= 50 ms during the flood,
none lost), and how much the database grew per junk request (the flood round's growth minus
the baseline's, over the junk answered; target <= 512 bytes). Both databases are prepared
identically and checkpointed before they are measured.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from bench import processes, workload
from bench.audit import Audit, audit
from bench.loadgen import FAILED, Plan, PlanStage, StageResult, load_results
from bench.options import Options, progress
from bench.results import Check, Figure, Latency, Ratio, ScenarioResult, ms
from receiver.devtools.seaweed import free_ports

__all__ = ["run"]

RATE = 100.0
SECONDS = 30.0
SENDERS = 4
TARGET_BYTES_PER_REJECTED = 512
TARGET_P99_MS = 50.0
_STAGE = "real callbacks"


@dataclass(frozen=True, kw_only=True)
class _Round:
    stage: StageResult
    latency: Latency | None
    grew: int
    junk: dict[str, int]
    checked: Audit

    @property
    def failed(self) -> int:
        return self.stage.status.count(FAILED)

    @property
    def junk_answered(self) -> int:
        return sum(count for key, count in self.junk.items() if key.split(": ")[1].isdigit())


def run(options: Options) -> ScenarioResult:
    began = time.monotonic()
    workdir = options.workdir / "flood"
    workdir.mkdir(parents=True)
    secret_key = secrets.token_urlsafe(32)
    seconds = options.seconds(SECONDS)
    cpus = processes.core_split() if options.pin else (None, None)
    quiet = _round("no flood", workdir, secret_key, seconds, flood=False, cpus=cpus)
    flood = _round("flood", workdir, secret_key, seconds, flood=True, cpus=cpus)
    return _result(quiet, flood, options=options, seconds=time.monotonic() - began)


def _round(
    name: str,
    workdir: Path,
    secret_key: str,
    seconds: float,
    *,
    flood: bool,
    cpus: tuple[set[int] | None, set[int] | None],
) -> _Round:
    slug = name.replace(" ", "-")
    db_path = workdir / f"{slug}.db"
    mix = random.Random(20_261_201)  # noqa: S311 - the same workload in both rounds
    (callbacks,) = workload.prepare(db_path, secret_key, [round(RATE * seconds)], mix)
    before = _db_bytes(db_path)
    plan_path = workdir / f"{slug}-plan.json"
    Plan(
        stages=[
            PlanStage(
                name=_STAGE,
                mode="open",
                duration=seconds,
                rate=RATE,
                requests=[(c.path, c.body) for c in callbacks],
            )
        ],
        timeout=10.0,
    ).dump(plan_path)
    (port,) = free_ports(1)
    env = {
        **processes.clean_env(),
        "RECEIVER_DATABASE_URL": f"sqlite:///{db_path}",
        "RECEIVER_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "RECEIVER_SECRET_KEYS": secret_key,
        "RECEIVER_INSECURE": "1",
        "RECEIVER_LOG_LEVEL": "warning",
        "RECEIVER_LOG_FORMAT": "json",
        "EVOLINK_BASE_URL": "http://127.0.0.1:9",
    }
    server_cpus, client_cpus = cpus
    result_path, junk_path = workdir / f"{slug}-result.json", workdir / f"{slug}-junk.json"
    progress(f"flood: {name}: {RATE:.0f} real callbacks/s for {seconds:g} s")
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--no-worker"]
    with processes.spawned(
        "receiver", serve, log=workdir / f"{slug}.log", env=env, cpus=server_cpus
    ) as server:
        processes.wait_for_port(port, server, workdir / f"{slug}.log")
        loadgen_args = [str(plan_path), str(result_path), "--port", str(port)]
        loadgen_args += ["--server-pid", str(server.pid)]
        with processes.spawned(
            "bench.loadgen", loadgen_args, log=workdir / f"{slug}-loadgen.log", cpus=client_cpus
        ) as loadgen:
            if flood:
                junk_args = [str(port), str(seconds), str(junk_path), "--senders", str(SENDERS)]
                with processes.spawned(
                    "bench.junk", junk_args, log=workdir / "junk.log", cpus=client_cpus
                ) as junk:
                    processes.wait(junk, workdir / "junk.log", timeout=seconds + 60)
            processes.wait(loadgen, workdir / f"{slug}-loadgen.log", timeout=seconds + 120)
    (stage,) = load_results(result_path)
    acked = {
        c.job_id for c, status in zip(callbacks, stage.status, strict=True) if 200 <= status < 300
    }
    checked = audit(
        db_path,
        acked,
        acked_requests=sum(1 for status in stage.status if 200 <= status < 300),
        unanswered=stage.status.count(FAILED),
        sent_jobs=len({c.job_id for c in callbacks}),
        sent_requests=len(callbacks),
        junk=flood,
    )
    return _Round(
        stage=stage,
        latency=Latency.of(stage.latency_ms, unanswered=stage.status.count(FAILED)),
        grew=_db_bytes(db_path) - before,
        junk=json.loads(junk_path.read_text()) if flood else {},
        checked=checked,
    )


def _cpu_per_junk(quiet: _Round, flood: _Round) -> str:
    """The flood round's extra server CPU over the junk it answered."""
    if quiet.stage.server_cpu is None or flood.stage.server_cpu is None or not flood.junk_answered:
        return "?"
    extra = (flood.stage.server_cpu - quiet.stage.server_cpu) * flood.stage.elapsed
    return f"{extra / flood.junk_answered * 1000:.2f}"


def _db_bytes(path: Path) -> int:
    """The database file's size once its write-ahead log is folded in."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return os.path.getsize(path)


def _result(quiet: _Round, flood: _Round, *, options: Options, seconds: float) -> ScenarioResult:
    rejected = flood.junk_answered
    per_request = (flood.grew - quiet.grew) / rejected if rejected else float("inf")
    p99 = flood.latency.p99 if flood.latency else float("inf")
    junk = ", ".join(f"{key} x{count:,}" for key, count in sorted(flood.junk.items()))
    figures = [
        Figure(
            label=f"real callbacks at {RATE:.0f}/s: latency p50 / p99 / max (ms)",
            baseline=str(quiet.latency) if quiet.latency else "none",
            subject=str(flood.latency) if flood.latency else "none",
        ),
        Figure(
            label="  2xx / failed",
            baseline=f"{quiet.stage.status.count(200):,} / {quiet.failed:,}",
            subject=f"{flood.stage.status.count(200):,} / {flood.failed:,}",
        ),
        Figure(
            label="  server CPU (share of a core)",
            baseline=f"{quiet.stage.server_cpu or 0:.0%}",
            subject=f"{flood.stage.server_cpu or 0:.0%}",
        ),
        Figure(label="junk requests answered", baseline="0", subject=f"{rejected:,}"),
        Figure(
            label="  server CPU per junk request (ms)",
            baseline="-",
            subject=_cpu_per_junk(quiet, flood),
        ),
        Figure(
            label="database growth (bytes)", baseline=f"{quiet.grew:,}", subject=f"{flood.grew:,}"
        ),
    ]
    ratios = [
        Ratio(
            label="database growth per junk request",
            value=f"{per_request:,.1f} bytes",
            target=f"<= {TARGET_BYTES_PER_REJECTED} bytes",
            met=per_request <= TARGET_BYTES_PER_REJECTED,
        ),
        Ratio(
            label="real-callback p99 during the flood",
            value=f"{ms(p99)} ms",
            target=f"<= {TARGET_P99_MS:.0f} ms, none lost",
            met=p99 <= TARGET_P99_MS and flood.failed == 0,
        ),
    ]
    checks = [
        Check(
            label="no flood: every acknowledged callback committed",
            ok=quiet.checked.ok,
            detail=str(quiet.checked),
        ),
        Check(
            label="flood: every acknowledged callback committed",
            ok=flood.checked.ok,
            detail=str(flood.checked),
        ),
        Check(label="the flood was answered", ok=rejected > 0, detail=junk or "no answers"),
    ]
    return ScenarioResult(
        name="flood",
        title="a junk flood at the callback route",
        method=(
            f"Two rounds against `receiver serve --no-worker` (SQLite, default settings): real "
            f"signed callbacks at {RATE:.0f}/s in an open loop for {options.seconds(SECONDS):g} s "
            f"alone (baseline), then the same with {SENDERS} connections sending junk as fast "
            "as it is answered (100 headers of 1 KiB + a 64 KiB body, and 24 headers of 1 KiB + "
            "a 64 KiB body with a forged token, in turn). Growth is the checkpointed database "
            "file's, the flood round's minus the baseline's, over the junk answered. "
            f"Junk answers: {junk}."
            + (" Quick run: every stage a fifth as long." if options.quick else "")
        ),
        baseline="no flood",
        subject="flood",
        figures=figures,
        ratios=ratios,
        checks=checks,
        notes=[],
        seconds=seconds,
    )
