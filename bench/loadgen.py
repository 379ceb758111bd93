"""The load generator, run as its own process: ``python -m bench.loadgen PLAN.json RESULT.json``.

It runs in a separate process from the server (and from the benchmark driver) so that the two
never share an interpreter, a GIL or an event loop; on a multi-core machine the driver pins
it to its own core. A plan is a list of stages run in order over one connection pool:

- ``open`` stages start request *i* at ``start + i / rate`` whatever the server is doing,
  and time it from that scheduled moment. A slow answer therefore delays nothing else, and
  the queueing it causes shows in the latency of the requests behind it: there is no
  coordinated omission. How late the generator itself started each request is recorded too,
  so a generator that cannot keep up is seen, not hidden.
- ``closed`` stages run ``concurrency`` senders that each send the next request as soon as
  their previous one is answered, for ``duration`` seconds: the sustained throughput.

Every request is answered within ``timeout`` seconds (the provider's callback timeout) or
counted as an error. The result holds each request's status and latency, index-aligned with
the plan, so the caller can tell which deliveries were acknowledged.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from bench._http import Pool, ProtocolError, encode_post
from bench.results import percentile

__all__ = [
    "FAILED",
    "NOT_SENT",
    "SETTLE_LIMIT",
    "Plan",
    "PlanStage",
    "StageResult",
    "Target",
    "load_results",
    "main",
]

#: Status recorded for a request that failed without an HTTP answer (timeout, reset, ...).
FAILED = 0
#: Status recorded for a request a closed-loop stage never got to before its time was up.
NOT_SENT = -1
#: Between stages, wait (at most this many seconds) for the server's CPU to fall below this.
SETTLE_LIMIT = 30.0
IDLE_CPU = 0.1
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, kw_only=True)
class PlanStage:
    name: str
    mode: Literal["open", "closed"]
    duration: float
    #: Open loop: requests started per second.
    rate: float = 0.0
    #: Closed loop: senders, each with one request in flight.
    concurrency: int = 0
    #: ``(path, JSON body)`` per request, in sending order.
    requests: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True, kw_only=True)
class Plan:
    """The stages to run, written once and run against each server in turn."""

    stages: Sequence[PlanStage]
    timeout: float = 10.0
    max_connections: int = 256

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> Plan:
        data = json.loads(path.read_text())
        stages = [
            PlanStage(**{**stage, "requests": [tuple(r) for r in stage["requests"]]})
            for stage in data.pop("stages")
        ]
        return cls(**data, stages=stages)


@dataclass(frozen=True, kw_only=True)
class Target:
    host: str
    port: int
    #: The server's pid, to report how busy its CPU was during each stage.
    server_pid: int | None = None


@dataclass(kw_only=True)
class StageResult:
    """What one stage measured. Lists are index-aligned with the stage's requests."""

    name: str
    mode: str
    target_rate: float
    concurrency: int
    #: From the stage's start to its last answer, seconds.
    elapsed: float = 0.0
    #: HTTP status per request; :data:`FAILED` or :data:`NOT_SENT` otherwise.
    status: list[int] = field(default_factory=list)
    #: Milliseconds to the answer, from the scheduled start (open) or the send (closed).
    latency_ms: list[float | None] = field(default_factory=list)
    #: Requests started, and their rate from the first start to the last.
    sent: int = 0
    send_rate: float = 0.0
    #: Open loop: how late the generator started requests (its own lag, not the server's).
    lag_p99_ms: float = 0.0
    lag_max_ms: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    #: CPU time over the stage's wall time: 1.0 is one core fully busy.
    loadgen_cpu: float = 0.0
    server_cpu: float | None = None
    #: User-mode CPU of every other process: on a small shared machine it disturbs every
    #: figure, so it is measured rather than assumed away. (Kernel time is left out: the
    #: journal commits that the server's fsyncs cause run in kernel threads.)
    other_cpu: float | None = None
    connections_opened: int = 0


def load_results(path: Path) -> list[StageResult]:
    return [StageResult(**stage) for stage in json.loads(path.read_text())]


class _Runner:
    def __init__(self, plan: Plan, target: Target) -> None:
        self._plan = plan
        self._target = target
        self._pool = Pool(target.host, target.port, limit=plan.max_connections)
        self._loop = asyncio.get_running_loop()

    async def run(self) -> list[StageResult]:
        results = []
        try:
            for number, stage in enumerate(self._plan.stages):
                if number:
                    await self._settle()
                results.append(await self._stage(stage))
        finally:
            self._pool.close()
        return results

    async def _settle(self) -> None:
        """Wait until the server is idle, so one stage's backlog does not spill into the next.

        An overloaded server keeps working on requests whose sender gave up; the next stage
        should measure the server, not the leftovers of the last one.
        """
        pid = self._target.server_pid
        deadline = self._loop.time() + SETTLE_LIMIT
        before = _process_cpu(pid)
        while before is not None and self._loop.time() < deadline:
            await asyncio.sleep(0.25)
            after = _process_cpu(pid)
            if after is None or after[1] - before[1] < 0.25 * IDLE_CPU:
                return
            before = after

    async def _stage(self, stage: PlanStage) -> StageResult:
        count = len(stage.requests)
        result = StageResult(
            name=stage.name,
            mode=stage.mode,
            target_rate=stage.rate,
            concurrency=stage.concurrency,
            status=[NOT_SENT] * count,
            latency_ms=[None] * count,
        )
        host, port = self._target.host, self._target.port
        raw = [encode_post(host, port, path, body.encode()) for path, body in stage.requests]
        starts: list[float] = []
        lags: list[float] = []
        opened = self._pool.opened
        # A garbage collection pauses the loop for milliseconds with tens of thousands of
        # requests and results alive: it would land at random in the timings. So collect
        # now, and not again until the stage is over (a stage's garbage fits in memory).
        gc.collect()
        gc.disable()
        cpu_before = _Cpu.now(self._target.server_pid)
        began = self._loop.time()
        try:
            if stage.mode == "open":
                await self._open_loop(stage, raw, result, starts, lags)
            else:
                await self._closed_loop(stage, raw, result, starts)
        finally:
            gc.enable()
        wall = result.elapsed = self._loop.time() - began
        cpu_before.measure(_Cpu.now(self._target.server_pid), wall, result)
        result.connections_opened = self._pool.opened - opened
        result.sent = len(starts)
        if len(starts) > 1:
            result.send_rate = (len(starts) - 1) / (max(starts) - min(starts))
        if lags:
            lags.sort()
            result.lag_p99_ms = percentile(lags, 0.99)
            result.lag_max_ms = lags[-1]
        return result

    async def _open_loop(
        self,
        stage: PlanStage,
        raw: list[bytes],
        result: StageResult,
        starts: list[float],
        lags: list[float],
    ) -> None:
        """Start request i at ``start + i / rate``, never waiting for earlier answers."""
        start = self._loop.time() + 0.01
        tasks: set[asyncio.Task[None]] = set()
        for index in range(len(raw)):
            due = start + index / stage.rate
            delay = due - self._loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            task = self._loop.create_task(
                self._send(index, raw, result, due=due, starts=starts, lags=lags)
            )
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        while tasks:
            await asyncio.wait(set(tasks))

    async def _closed_loop(
        self, stage: PlanStage, raw: list[bytes], result: StageResult, starts: list[float]
    ) -> None:
        """``concurrency`` senders, each sending again as soon as it is answered."""
        deadline = self._loop.time() + stage.duration
        cursor = iter(range(len(raw)))

        async def sender() -> None:
            for index in cursor:
                if self._loop.time() >= deadline:
                    return
                await self._send(
                    index, raw, result, due=self._loop.time(), starts=starts, lags=None
                )

        await asyncio.gather(*(sender() for _ in range(stage.concurrency)))

    async def _send(
        self,
        index: int,
        raw: list[bytes],
        result: StageResult,
        *,
        due: float,
        starts: list[float],
        lags: list[float] | None,
    ) -> None:
        started = self._loop.time()
        starts.append(started)
        if lags is not None:
            lags.append((started - due) * 1000)
        try:
            async with asyncio.timeout_at(due + self._plan.timeout):
                async with self._pool.connection() as conn:
                    status = await conn.exchange(raw[index])
        except TimeoutError:
            self._fail(result, index, "timeout")
        except (OSError, EOFError, asyncio.IncompleteReadError, ProtocolError, ValueError) as exc:
            self._fail(result, index, type(exc).__name__)
        else:
            result.status[index] = status
            result.latency_ms[index] = (self._loop.time() - due) * 1000

    @staticmethod
    def _fail(result: StageResult, index: int, reason: str) -> None:
        result.status[index] = FAILED
        result.errors[reason] = result.errors.get(reason, 0) + 1


@dataclass(frozen=True)
class _Cpu:
    """CPU seconds used so far, user mode and in all, by the server, by us, by everyone."""

    own: tuple[float, float]
    server: tuple[float, float] | None
    machine_user: float | None

    @classmethod
    def now(cls, server_pid: int | None) -> _Cpu:
        times = os.times()
        return cls(
            own=(times.user, times.user + times.system),
            server=_process_cpu(server_pid),
            machine_user=_machine_user_cpu(),
        )

    def measure(self, after: _Cpu, wall: float, result: StageResult) -> None:
        """Fill in ``result``'s CPU shares for the ``wall`` seconds from ``self`` to ``after``."""
        result.loadgen_cpu = (after.own[1] - self.own[1]) / wall
        if self.server is None or after.server is None:
            return
        result.server_cpu = (after.server[1] - self.server[1]) / wall
        if self.machine_user is None or after.machine_user is None:
            return
        ours = (after.own[0] - self.own[0]) + (after.server[0] - self.server[0])
        others = after.machine_user - self.machine_user - ours
        result.other_cpu = max(0.0, others / wall)


def _process_cpu(pid: int | None) -> tuple[float, float] | None:
    """CPU seconds used so far by process ``pid`` (all its threads): user, and in all."""
    if pid is None:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    fields = stat.rsplit(")", 1)[1].split()
    user, system = int(fields[11]) / _TICKS, int(fields[12]) / _TICKS
    return user, user + system


def _machine_user_cpu() -> float | None:
    """CPU seconds all processes spent in user mode so far."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()
    except OSError:
        return None
    return (int(fields[1]) + int(fields[2])) / _TICKS


async def _run(plan: Plan, target: Target) -> list[StageResult]:
    return await _Runner(plan, target).run()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__)
    parser.add_argument("plan", type=Path, help="the plan, JSON (see Plan)")
    parser.add_argument("result", type=Path, help="where to write the results, JSON")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server-pid", type=int, help="report this process's CPU use")
    args = parser.parse_args(argv)
    target = Target(host=args.host, port=args.port, server_pid=args.server_pid)
    results = asyncio.run(_run(Plan.load(args.plan), target))
    args.result.write_text(json.dumps([asdict(result) for result in results]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
