"""How big the fault suite runs: ``CHAOS_SCALE=full`` (the issue's numbers) or ``ci``."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass

__all__ = ["Scale", "chaos_random", "current_scale"]

MiB = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class Scale:
    name: str
    #: Worker kills: archives in the batch, and how many times a worker is SIGKILLed.
    kill_archives: int
    kills: int
    #: S3 outage: archives in the batch, and how long the store stays down (seconds).
    outage_archives: int
    outage_seconds: float
    #: Receiver down: jobs whose callbacks arrive while the receiver is stopped.
    down_jobs: int
    #: Duplicate storm: jobs, each delivered four times.
    storm_jobs: int
    #: Bad source: jobs per kind of fault.
    bad_source_jobs: int
    #: Size of the videos in the archive-heavy scenarios.
    video_bytes: int = 12 * MiB


_SCALES = {
    "full": Scale(
        name="full",
        kill_archives=50,
        kills=5,
        outage_archives=40,
        outage_seconds=30.0,
        down_jobs=60,
        storm_jobs=500,
        bad_source_jobs=6,
    ),
    "ci": Scale(
        name="ci",
        kill_archives=12,
        kills=2,
        outage_archives=12,
        outage_seconds=10.0,
        down_jobs=20,
        storm_jobs=100,
        bad_source_jobs=2,
    ),
}


def current_scale() -> Scale:
    name = os.environ.get("CHAOS_SCALE", "full")
    if name not in _SCALES:
        raise ValueError(f"CHAOS_SCALE must be one of {', '.join(_SCALES)}, got {name!r}")
    return _SCALES[name]


def chaos_random(scenario: str) -> random.Random:
    """A generator for a scenario's random moments; ``CHAOS_SEED`` replays a run."""
    seed = os.environ.get("CHAOS_SEED") or str(random.SystemRandom().randrange(10**9))
    print(f"[chaos] {scenario}: CHAOS_SEED={seed}")
    return random.Random(f"{seed}/{scenario}")
