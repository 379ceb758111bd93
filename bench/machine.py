"""The machine a benchmark ran on: figures mean nothing without it.

Read from ``/proc`` on Linux; elsewhere the fields say ``unknown`` rather than guess. The
filesystem under the temporary directory is named too, since the databases live there and
the cost of a durable commit (an fsync) depends on it; and the load average at the start,
since on a small machine anything else running shows in every figure.
"""

from __future__ import annotations

import os
import platform
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["Machine", "describe"]


@dataclass(frozen=True, kw_only=True)
class Machine:
    cpu_model: str
    cpu_count: int
    memory: str
    python: str
    system: str
    temp_filesystem: str
    load_average: str
    date: str

    def lines(self) -> list[tuple[str, str]]:
        return [
            ("CPU", f"{self.cpu_model}, {self.cpu_count} logical CPUs"),
            ("memory", self.memory),
            ("Python", self.python),
            ("system", self.system),
            ("filesystem of the temp dir (databases)", self.temp_filesystem),
            ("load average at start (1, 5, 15 min)", self.load_average),
            ("date", self.date),
        ]


def describe(temp_dir: Path) -> Machine:
    return Machine(
        cpu_model=_cpu_model(),
        cpu_count=_cpu_count(),
        memory=_memory(),
        python=f"{platform.python_implementation()} {platform.python_version()}",
        system=f"{platform.system()} {platform.release()} ({platform.machine()})",
        temp_filesystem=_filesystem(temp_dir),
        load_average=" ".join(_read("/proc/loadavg").split()[:3]) or "unknown",
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        name, _, value = line.partition(":")
        if name.strip() in {"model name", "Model", "cpu model"} and value.strip():
            return value.strip()
    return platform.processor() or "unknown"


def _cpu_count() -> int:
    processors = sum(
        1 for line in _read("/proc/cpuinfo").splitlines() if line.startswith("processor")
    )
    return processors or os.cpu_count() or 0


def _memory() -> str:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            kib = int(line.split()[1])
            return f"{kib / 1024**2:.1f} GiB"
    return "unknown"


def _filesystem(path: Path) -> str:
    """The type and device of the mount holding ``path`` (longest matching mount point)."""
    target = str(path.resolve())
    best: tuple[str, str, str] | None = None
    for line in _read("/proc/mounts").splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        device, mount, kind = fields[0], fields[1], fields[2]
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and (best is None or len(mount) > len(best[1])):
            best = (device, mount, kind)
    if best is None:
        return "unknown"
    device, mount, kind = best
    return f"{kind} on {device} (mounted at {mount})"


if __name__ == "__main__":  # pragma: no cover - a quick look: python -m bench.machine
    for label, value in describe(Path(tempfile.gettempdir())).lines():
        print(f"{label}: {value}")
