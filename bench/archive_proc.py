"""What the ``archive`` scenario reads about processes from ``/proc``: CPU time and memory.

No psutil: three small files say all we need. CPU time of a process (``/proc/PID/stat``)
is the sum over all its threads; ``VmHWM`` is the kernel's own high-water mark of a
process's resident memory, so a short peak between two samples cannot be missed; the
machine's busy time (``/proc/stat``) lets a stage say how much CPU *other* processes took.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CpuSnapshot",
    "CpuUse",
    "busy_cpu_seconds",
    "cpu_seconds",
    "peak_rss",
    "pid_with_argument",
    "rss",
]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
#: /proc/stat's columns that count as busy here: user, nice, system, irq, softirq (steal is
#: time the hypervisor gave to someone else, not work done on this machine).
_BUSY_COLUMNS = (0, 1, 2, 5, 6)


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU seconds used so far by ``pid`` (all threads); None once gone."""
    stat = _read(f"/proc/{pid}/stat")
    if stat is None:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    # utime and stime are fields 14 and 15 of the file, 12 and 13 after the name.
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _status_bytes(pid: int, name: str) -> int | None:
    status = _read(f"/proc/{pid}/status")
    if status is None:
        return None
    for line in status.splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1]) * 1024  # the kernel writes "kB", meaning KiB
    return None


def peak_rss(pid: int) -> int | None:
    """The most resident memory ``pid`` ever had, in bytes (``VmHWM``)."""
    return _status_bytes(pid, "VmHWM")


def rss(pid: int) -> int | None:
    """Resident memory of ``pid`` now, in bytes (``VmRSS``)."""
    return _status_bytes(pid, "VmRSS")


def busy_cpu_seconds() -> float | None:
    """CPU seconds every core of the machine spent busy so far (not idle, not waiting on IO)."""
    stat = _read("/proc/stat")
    if stat is None or not stat.startswith("cpu "):
        return None
    columns = stat.splitlines()[0].split()[1:]
    return sum(int(columns[i]) for i in _BUSY_COLUMNS if i < len(columns)) / _TICKS


def pid_with_argument(argument: str) -> int | None:
    """The process one of whose command-line arguments is exactly ``argument``.

    How the scenario finds a child that a library started without telling its pid (the
    SeaweedFS server is started with a ``-dir=`` unique to the run).
    """
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argument.encode() in arguments:
            return int(entry.name)
    return None


@dataclass(frozen=True, kw_only=True)
class CpuSnapshot:
    """CPU seconds used so far by some named processes and by the whole machine, at a time."""

    at: float
    machine: float | None
    processes: Mapping[str, float | None]

    @classmethod
    def take(cls, pids: Mapping[str, int]) -> CpuSnapshot:
        return cls(
            at=time.monotonic(),
            machine=busy_cpu_seconds(),
            processes={name: cpu_seconds(pid) for name, pid in pids.items()},
        )

    def until(self, later: CpuSnapshot) -> CpuUse:
        used = {
            name: after - before
            for name, before in self.processes.items()
            if before is not None and (after := later.processes.get(name)) is not None
        }
        machine = (
            later.machine - self.machine
            if later.machine is not None and self.machine is not None
            else None
        )
        return CpuUse(seconds=later.at - self.at, machine=machine, processes=used)


@dataclass(frozen=True, kw_only=True)
class CpuUse:
    """CPU seconds used between two snapshots, ``seconds`` apart."""

    seconds: float
    machine: float | None
    processes: Mapping[str, float]
