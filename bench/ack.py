"""Scenario ``ack``: how fast a real ``receiver serve`` acknowledges signed callbacks.

The receiver answers a callback only once its delivery, the job's new status and the
archive task are committed (SQLite, ``synchronous=FULL``); the provider gives up after 10 s
and retries only a few times. This scenario measures what that durability costs, against a
baseline measured in the same run: a no-op Starlette endpoint at the same path, served by
uvicorn with the same settings.

For each server in turn (baseline first), one load generator process runs, over one pool
of keep-alive connections on loopback:

1. a short open-loop warm-up at the target rate;
2. an open-loop stage at 1,000 callbacks/s for 60 s (the load test: nothing may be lost):
   latency from each request's scheduled send time to its answer, so queueing counts;
3. a closed-loop saturation stage, 64 senders for 8 s: the sustained throughput.

Both servers get the very same requests: signed callbacks for distinct pending jobs, one in
four an exact retry of a recent one (see :mod:`bench.workload`). The receiver runs
``--no-worker``, so it only acknowledges; nothing downloads. Afterwards
:mod:`bench.audit` checks every acknowledged delivery is in the database.
"""

from __future__ import annotations

import math
import random
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import processes, workload
from bench.audit import Audit, audit
from bench.loadgen import FAILED, NOT_SENT, SETTLE_LIMIT, Plan, PlanStage, StageResult, load_results
from bench.options import Options, progress
from bench.results import Check, Figure, Latency, Ratio, ScenarioResult, ms
from receiver.devtools.seaweed import free_ports

__all__ = ["run"]

RATE = 1000.0
WARMUP_SECONDS = 2.0
MEASURE_SECONDS = 60.0
SATURATION_SECONDS = 8.0
SATURATION_SENDERS = 64
#: Requests planned for the saturation stage: more than either server can answer in its
#: time, so it never runs dry (it would end early and say so).
SATURATION_REQUESTS = 48_000
#: The provider's callback timeout: an answer later than this is as good as none.
TIMEOUT = 10.0
TARGET_THROUGHPUT_RATIO = 0.25
TARGET_P99_MS = 5.0
#: Below this the generator did not keep to its schedule, and the figures must say so.
_SCHEDULE_TOLERANCE = 0.99
_BUSY = 0.9
#: Other processes using this share of a core during a stage make its figures suspect. The
#: measure is rough (global and per-process CPU times are sampled differently): a quiet
#: 2-core VM reads 0.1-0.25 under load, one extra busy process 0.65-0.9.
_DISTURBED = 0.35

_WARMUP, _MEASURE, _SATURATION = "warm-up", "open loop", "saturation"


@dataclass(frozen=True, kw_only=True)
class _Figures:
    """One server's figures, from its stage results."""

    throughput: float
    saturation: StageResult
    measure: StageResult
    latency: Latency | None
    ok: int
    non_2xx: int
    failed: int

    @classmethod
    def of(cls, stages: Mapping[str, StageResult]) -> _Figures:
        saturation, measure = stages[_SATURATION], stages[_MEASURE]
        answered = sum(1 for status in saturation.status if 200 <= status < 300)
        return cls(
            throughput=answered / saturation.elapsed if saturation.elapsed else 0.0,
            saturation=saturation,
            measure=measure,
            latency=Latency.of(measure.latency_ms, unanswered=measure.status.count(FAILED)),
            ok=sum(1 for status in measure.status if 200 <= status < 300),
            non_2xx=sum(1 for status in measure.status if status >= 300 or 0 < status < 200),
            failed=sum(1 for status in measure.status if status == FAILED),
        )

    @property
    def kept_schedule(self) -> bool:
        return self.measure.send_rate >= _SCHEDULE_TOLERANCE * RATE

    @property
    def ran_dry(self) -> bool:
        return self.saturation.sent == len(self.saturation.status)


def run(options: Options) -> ScenarioResult:
    began = time.monotonic()
    workdir = options.workdir / "ack"
    workdir.mkdir(parents=True)
    db_path = workdir / "receiver.db"
    secret_key = secrets.token_urlsafe(32)

    durations = [options.seconds(s) for s in (WARMUP_SECONDS, MEASURE_SECONDS)]
    sizes = [round(RATE * d) for d in durations]
    sizes.append(round(options.seconds(SATURATION_REQUESTS)))
    progress(f"ack: creating jobs and signed callbacks for {sum(sizes):,} requests")
    mix = random.Random(20_260_101)  # noqa: S311 - a reproducible mix, not a secret
    callbacks = workload.prepare(db_path, secret_key, sizes, mix)
    plan = Plan(
        stages=[
            _open_stage(_WARMUP, durations[0], callbacks[0]),
            _open_stage(_MEASURE, durations[1], callbacks[1]),
            PlanStage(
                name=_SATURATION,
                mode="closed",
                duration=options.seconds(SATURATION_SECONDS),
                concurrency=SATURATION_SENDERS,
                requests=[(c.path, c.body) for c in callbacks[2]],
            ),
        ],
        timeout=TIMEOUT,
    )
    plan_path = workdir / "plan.json"
    plan.dump(plan_path)

    cpus = processes.core_split() if options.pin else (None, None)
    noop_port, receiver_port = free_ports(2)
    noop = _measure(
        "no-op baseline",
        "bench.noop",
        ["--host", "127.0.0.1", "--port", str(noop_port)],
        port=noop_port,
        env=processes.clean_env(),
        plan_path=plan_path,
        workdir=workdir,
        cpus=cpus,
    )
    receiver = _measure(
        "receiver",
        "receiver",
        ["serve", "--host", "127.0.0.1", "--port", str(receiver_port), "--no-worker"],
        port=receiver_port,
        env=_receiver_env(db_path, secret_key, receiver_port),
        plan_path=plan_path,
        workdir=workdir,
        cpus=cpus,
    )
    checked = _audit(db_path, callbacks, receiver)
    return _result(
        _Figures.of(noop),
        _Figures.of(receiver),
        checked,
        options=options,
        pinned=cpus[0] is not None,
        seconds=time.monotonic() - began,
    )


def _open_stage(name: str, duration: float, callbacks: Sequence[workload.Callback]) -> PlanStage:
    return PlanStage(
        name=name,
        mode="open",
        duration=duration,
        rate=RATE,
        requests=[(c.path, c.body) for c in callbacks],
    )


def _receiver_env(db_path: Path, secret_key: str, port: int) -> dict[str, str]:
    return {
        **processes.clean_env(),
        "RECEIVER_DATABASE_URL": f"sqlite:///{db_path}",
        "RECEIVER_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "RECEIVER_SECRET_KEYS": secret_key,
        "RECEIVER_INSECURE": "1",
        "RECEIVER_LOG_LEVEL": "warning",
        "RECEIVER_LOG_FORMAT": "json",
        # Nothing in a benchmark may reach the real provider: point it at a closed port.
        "EVOLINK_BASE_URL": "http://127.0.0.1:9",
    }


def _measure(
    label: str,
    module: str,
    args: Sequence[str],
    *,
    port: int,
    env: Mapping[str, str],
    plan_path: Path,
    workdir: Path,
    cpus: tuple[set[int] | None, set[int] | None],
) -> dict[str, StageResult]:
    """Start the server, run the plan against it from a load generator process, stop it."""
    slug = label.split(maxsplit=1)[0].replace("-", "")
    server_log, loadgen_log = workdir / f"{slug}.log", workdir / f"{slug}-loadgen.log"
    result_path = workdir / f"{slug}-result.json"
    server_cpus, loadgen_cpus = cpus
    progress(f"ack: {label}: starting ({module})")
    with processes.spawned(module, args, log=server_log, env=env, cpus=server_cpus) as server:
        processes.wait_for_port(port, server, server_log)
        progress(f"ack: {label}: warm-up, {RATE:,.0f}/s open loop, then saturation")
        loadgen_args = [str(plan_path), str(result_path), "--port", str(port)]
        loadgen_args += ["--server-pid", str(server.pid)]
        with processes.spawned(
            "bench.loadgen", loadgen_args, log=loadgen_log, cpus=loadgen_cpus
        ) as loadgen:
            processes.wait(loadgen, loadgen_log, timeout=_loadgen_budget(plan_path))
        if server.poll() is not None:
            raise processes.ProcessFailed(
                f"{label} exited during the run:\n{processes.tail(server_log)}"
            )
    return {stage.name: stage for stage in load_results(result_path)}


def _loadgen_budget(plan_path: Path) -> float:
    """Seconds the load generator may take at most: stages, their timeouts, settling."""
    plan = Plan.load(plan_path)
    stages = plan.stages
    return sum(s.duration + plan.timeout for s in stages) + SETTLE_LIMIT * len(stages) + 30


def _audit(
    db_path: Path,
    callbacks: Sequence[Sequence[workload.Callback]],
    results: Mapping[str, StageResult],
) -> Audit:
    acked: set[str] = set()
    sent: set[str] = set()
    acked_requests = sent_requests = unanswered = 0
    for stage_callbacks, name in zip(callbacks, (_WARMUP, _MEASURE, _SATURATION), strict=True):
        for callback, status in zip(stage_callbacks, results[name].status, strict=True):
            if status == NOT_SENT:
                continue
            sent.add(callback.job_id)
            sent_requests += 1
            if 200 <= status < 300:
                acked.add(callback.job_id)
                acked_requests += 1
            elif status == FAILED:
                unanswered += 1
    return audit(
        db_path,
        acked,
        acked_requests=acked_requests,
        unanswered=unanswered,
        sent_jobs=len(sent),
        sent_requests=sent_requests,
    )


def _result(
    noop: _Figures,
    receiver: _Figures,
    checked: Audit,
    *,
    options: Options,
    pinned: bool,
    seconds: float,
) -> ScenarioResult:
    def row(label: str, show: Callable[[_Figures], str]) -> Figure:
        return Figure(label=label, baseline=show(noop), subject=show(receiver))

    figures = [
        row(
            f"throughput at saturation, {SATURATION_SENDERS} senders (req/s)",
            lambda f: f"{f.throughput:,.0f}",
        ),
        row("  CPU meanwhile: server / load generator / other", lambda f: _cpu(f.saturation)),
        row("  server CPU per answered request (ms)", _cpu_per_request),
        row(
            f"open loop at {RATE:,.0f}/s: send rate achieved",
            lambda f: f"{f.measure.send_rate:,.0f}/s",
        ),
        row("  latency p50 / p99 / max (ms)", lambda f: str(f.latency) if f.latency else "none"),
        row("  2xx / non-2xx / failed", lambda f: f"{f.ok:,} / {f.non_2xx:,} / {f.failed:,}"),
        row("  CPU meanwhile: server / load generator / other", lambda f: _cpu(f.measure)),
        row(
            "  generator start lag p99 / max (ms)",
            lambda f: f"{f.measure.lag_p99_ms:.2f} / {f.measure.lag_max_ms:.1f}",
        ),
    ]
    ratio = receiver.throughput / noop.throughput if noop.throughput else 0.0
    p99 = receiver.latency.p99 if receiver.latency else math.inf
    ratios = [
        Ratio(
            label="throughput, receiver / no-op",
            value=f"{ratio:.1%}",
            target=f">= {TARGET_THROUGHPUT_RATIO:.0%}",
            met=ratio >= TARGET_THROUGHPUT_RATIO,
        ),
        Ratio(
            label=f"receiver p99 at {RATE:,.0f}/s",
            value=f"{ms(p99)} ms" if math.isfinite(p99) else f"timeout (> {TIMEOUT:g} s)",
            target=f"<= {TARGET_P99_MS:.0f} ms",
            met=p99 <= TARGET_P99_MS,
        ),
    ]
    checks = [
        Check(label="every acknowledged callback committed", ok=checked.ok, detail=str(checked)),
        Check(
            label=f"load generator kept to {RATE:,.0f}/s",
            ok=noop.kept_schedule and receiver.kept_schedule,
            detail=(
                f"send rate achieved {noop.measure.send_rate:,.1f}/s against the no-op, "
                f"{receiver.measure.send_rate:,.1f}/s against the receiver"
            ),
        ),
    ]
    return ScenarioResult(
        name="ack",
        title="acknowledging signed callbacks",
        method=_method(options, pinned=pinned),
        baseline="no-op",
        subject="receiver",
        figures=figures,
        ratios=ratios,
        checks=checks,
        notes=_notes(noop, receiver),
        seconds=seconds,
    )


def _cpu(stage: StageResult) -> str:
    """Shares of one core: the server, the load generator, everything else (roughly)."""
    shares = (stage.server_cpu, stage.loadgen_cpu, stage.other_cpu)
    return " / ".join("?" if share is None else f"{share:.0%}" for share in shares)


def _cpu_per_request(figures: _Figures) -> str:
    """What one answer costs the server in CPU time (all its threads), at saturation."""
    stage = figures.saturation
    if stage.server_cpu is None or not figures.throughput:
        return "?"
    return f"{stage.server_cpu / figures.throughput * 1000:.2f}"


def _method(options: Options, *, pinned: bool) -> str:
    measure, saturation = options.seconds(MEASURE_SECONDS), options.seconds(SATURATION_SECONDS)
    where = (
        "The server and the load generator are pinned to different cores."
        if pinned
        else "The server and the load generator share the machine's cores (not pinned)."
    )
    return (
        "Signed EvoLink-shaped `completed` callbacks for distinct pending jobs, one in four an "
        "exact retry of a recent one, sent over keep-alive connections on loopback by a load "
        "generator in its own process to a real `receiver serve --no-worker` (SQLite in a temp "
        "dir) and to the baseline, a no-op Starlette endpoint served by uvicorn with the same "
        "settings, one after the other in the same run with the same requests. For each: a "
        f"warm-up, then an open loop at {RATE:,.0f} requests/s for {measure:g} s (latency from "
        "each request's scheduled send time, so queueing counts), then a closed loop of "
        f"{SATURATION_SENDERS} senders for {saturation:g} s (throughput = 2xx answers per "
        f"second). Requests unanswered after {TIMEOUT:g} s count as failed. CPU figures are "
        "shares of one core from `/proc`; *other* is every other process (user time, rough). "
        f"{where}" + (" Quick run: every stage a fifth as long." if options.quick else "")
    )


def _notes(noop: _Figures, receiver: _Figures) -> list[str]:
    notes = []
    for name, figures in (("no-op", noop), ("receiver", receiver)):
        if not figures.kept_schedule:
            notes.append(
                f"The load generator could not keep to {RATE:,.0f}/s against the {name}: it "
                f"started {figures.measure.send_rate:,.0f} requests/s (start lag p99 "
                f"{figures.measure.lag_p99_ms:.1f} ms). Its latencies are still measured "
                "from the schedule, but the offered load was lower than planned."
            )
        if figures.saturation.loadgen_cpu >= _BUSY:
            notes.append(
                f"During saturation against the {name} the load generator's own core was "
                f"{figures.saturation.loadgen_cpu:.0%} busy: that throughput is a lower bound "
                "set partly by the generator."
            )
        if figures.throughput < RATE:
            notes.append(
                f"The {name} answered {figures.throughput:,.0f} requests/s at most, less than "
                f"the {RATE:,.0f}/s offered in the open loop: its queue grew for the whole "
                "stage, so latency there is mostly waiting in that queue, and requests still "
                f"unanswered after {TIMEOUT:g} s failed."
            )
        for stage in (figures.measure, figures.saturation):
            if stage.other_cpu is not None and stage.other_cpu >= _DISTURBED:
                notes.append(
                    f"Other processes on the machine used about {stage.other_cpu:.0%} of a core "
                    f"during the {stage.name} stage against the {name}: its figures are "
                    "disturbed; rerun on a quiet machine to trust them."
                )
        if figures.ran_dry:
            notes.append(
                f"The saturation stage against the {name} used all "
                f"{len(figures.saturation.status):,} planned requests before its time was up."
            )
    return notes
