"""The ``archive`` scenario's figures, ratios, checks and notes, from what its stages measured.

Units are decimal, as in the issue's targets: MB = 10^6 bytes, GB = 10^9 bytes, for sizes,
throughput and resident memory alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bench.archive_proc import CpuUse
from bench.archive_verify import Verdict
from bench.results import Check, Figure, Ratio, ScenarioResult

__all__ = ["GB", "MB", "Side", "Stage", "result"]

MB = 1_000_000
GB = 1_000_000_000
TARGET_THROUGHPUT_RATIO = 1.0
TARGET_CPU_RATIO = 1.5
TARGET_PEAK_RSS = 150 * MB
#: Other processes using this share of a core during a stage make its figures suspect.
_DISTURBED = 0.35


@dataclass(frozen=True, kw_only=True)
class Side:
    """One client's run over one set of videos."""

    videos: int
    size: int
    wall: float
    #: CPU seconds of the client: every rclone process, or the receiver worker.
    client_cpu: float
    #: CPU of the store, the source and the whole machine over the same window.
    cpu: CpuUse
    #: Resident memory high-water mark of one process (the worker; the largest rclone).
    peak_rss: int
    #: rclone only: the largest sum over the processes running at once.
    peak_rss_total: int | None
    #: receiver only: resident memory once started, before the first task.
    idle_rss: int | None
    #: receiver only: from the tasks' commit to the first claim.
    claim_latency: float | None
    #: receiver only: attempts over every task (one each when nothing went wrong).
    attempts: int | None
    #: Why copies failed or were retried.
    errors: Sequence[str]

    @property
    def bytes(self) -> int:
        return self.videos * self.size

    @property
    def throughput(self) -> float:
        """MB/s."""
        return self.bytes / MB / self.wall if self.wall > 0 else 0.0

    def per_gb(self, seconds: float | None) -> float | None:
        return None if seconds is None else seconds / (self.bytes / GB)

    @property
    def store_cpu(self) -> float | None:
        return self.cpu.processes.get("store")

    @property
    def source_cpu(self) -> float | None:
        return self.cpu.processes.get("source")

    @property
    def other_cpu(self) -> float | None:
        """Every other process on the machine (the driver's polling included), roughly."""
        if self.cpu.machine is None:
            return None
        known = self.client_cpu + (self.store_cpu or 0.0) + (self.source_cpu or 0.0)
        return max(0.0, self.cpu.machine - known)

    def label(self) -> str:
        return f"{self.videos} x {self.size // MB} MB"


@dataclass(frozen=True, kw_only=True)
class Stage:
    side: Side
    verdict: Verdict


def result(
    *,
    baselines: Sequence[Stage],
    baseline_in_parts: Stage,
    subjects: Sequence[Stage],
    large: Stage | None,
    single_node: Sequence[Stage] = (),
    concurrency: int,
    part_size: int,
    quick: bool,
    seconds: float,
) -> ScenarioResult:
    """``baselines`` and ``subjects``: the rounds of each; the faster one is compared."""
    rclone, receiver = _fastest(baselines), _fastest(subjects)
    mib = f"{part_size / 1024**2:g} MiB"
    compared = _block(
        f"throughput, {receiver.label()}, {concurrency} at once (MB/s)", rclone, receiver
    )
    figures = [
        compared[0],
        Figure(
            label="  every run, in order (the faster one is shown)",
            baseline=", ".join(f"{stage.side.throughput:,.0f}" for stage in baselines),
            subject=", ".join(f"{stage.side.throughput:,.0f}" for stage in subjects),
        ),
        *compared[1:],
        *_block(
            f"rclone in {mib} parts, as the archiver sends them (MB/s)",
            baseline_in_parts.side,
            None,
        ),
    ]
    if large is not None:
        figures += _block(
            f"throughput, {large.side.label()}, {concurrency} at once (MB/s)", None, large.side
        )
    for stage in single_node:
        figures.append(
            Figure(
                label=f"receiver serve (web + worker), {stage.side.label()}: peak RSS (MB)",
                baseline="-",
                subject=f"{stage.side.peak_rss / MB:,.0f}",
            )
        )
    ratios = _ratios(rclone, receiver, large)
    ratios += [
        Ratio(
            label=f"receiver serve (web + worker) peak RSS, {stage.side.label()}",
            value=f"{stage.side.peak_rss / MB:,.0f} MB",
            target=f"<= {TARGET_PEAK_RSS // MB} MB",
            met=stage.side.peak_rss <= TARGET_PEAK_RSS,
        )
        for stage in single_node
    ]
    return ScenarioResult(
        name="archive",
        title="archiving videos into S3",
        method=_method(receiver, large, concurrency=concurrency, mib=mib, quick=quick),
        baseline="rclone",
        subject="receiver",
        figures=figures,
        ratios=ratios,
        checks=_checks(
            [
                *((f"rclone's defaults, run {n}", stage) for n, stage in enumerate(baselines, 1)),
                (f"in {mib} parts", baseline_in_parts),
            ],
            [
                *((f"{stage.side.label()}, run {n}", stage) for n, stage in enumerate(subjects, 1)),
                *([(large.side.label(), large)] if large else []),
                *((f"receiver serve, {stage.side.label()}", stage) for stage in single_node),
            ],
        ),
        notes=_notes(
            [
                *((f"rclone run {n}", stage.side) for n, stage in enumerate(baselines, 1)),
                (f"rclone in {mib} parts", baseline_in_parts.side),
                *((f"receiver run {n}", stage.side) for n, stage in enumerate(subjects, 1)),
                *([(f"receiver ({large.side.label()})", large.side)] if large else []),
            ],
            quick=quick,
        ),
        seconds=seconds,
    )


def _fastest(stages: Sequence[Stage]) -> Side:
    """The faster run, with the highest memory of all: memory is not a matter of luck."""
    sides = [stage.side for stage in stages]
    fastest = max(sides, key=lambda side: side.throughput)
    totals = [side.peak_rss_total for side in sides if side.peak_rss_total is not None]
    return replace(
        fastest,
        peak_rss=max(side.peak_rss for side in sides),
        peak_rss_total=max(totals) if totals else None,
    )


def _block(title: str, rclone: Side | None, receiver: Side | None) -> list[Figure]:
    """A throughput row and the rows under it; a column without a run says so."""
    rows: list[tuple[str, Callable[[Side], str]]] = [
        ("  wall time (s)", lambda s: f"{s.wall:.2f}"),
        ("  CPU-s per GB: client / SeaweedFS / Caddy / other", _cpu_per_gb),
        ("  peak RSS of the client (MB)", _peak_rss),
    ]
    if receiver is not None:
        rows += [
            ("  RSS of the idle worker, before its first task (MB)", _idle_rss),
            (
                "  first claim after the commit (s)",
                lambda s: "n/a" if s.claim_latency is None else f"{s.claim_latency:.2f}",
            ),
        ]

    def cell(side: Side | None, show: Callable[[Side], str]) -> str:
        return "n/a" if side is None else show(side)

    def throughput(side: Side) -> str:
        return f"{side.throughput:,.0f}"

    return [
        Figure(label=title, baseline=cell(rclone, throughput), subject=cell(receiver, throughput)),
        *(
            Figure(label=label, baseline=cell(rclone, show), subject=cell(receiver, show))
            for label, show in rows
        ),
    ]


def _cpu_per_gb(side: Side) -> str:
    values = (side.client_cpu, side.store_cpu, side.source_cpu, side.other_cpu)
    return " / ".join(
        "?" if (value := side.per_gb(seconds)) is None else f"{value:.2f}" for seconds in values
    )


def _peak_rss(side: Side) -> str:
    if side.peak_rss_total is None:
        return f"{side.peak_rss / MB:,.0f}"
    return f"{side.peak_rss / MB:,.0f} each, {side.peak_rss_total / MB:,.0f} together"


def _idle_rss(side: Side) -> str:
    return "n/a" if side.idle_rss is None else f"{side.idle_rss / MB:,.0f}"


def _ratios(rclone: Side, receiver: Side, large: Stage | None) -> list[Ratio]:
    speed = receiver.throughput / rclone.throughput if rclone.throughput else 0.0
    cpu = receiver.client_cpu / rclone.client_cpu if rclone.client_cpu else float("inf")
    ratios = [
        Ratio(
            label="throughput, receiver / rclone",
            value=f"{speed:.0%}",
            target=f">= {TARGET_THROUGHPUT_RATIO:.0%}",
            met=speed >= TARGET_THROUGHPUT_RATIO,
        ),
        Ratio(
            label="client CPU per GB, receiver / rclone",
            value=f"{cpu:.2f}x",
            target=f"<= {TARGET_CPU_RATIO:g}x",
            met=cpu <= TARGET_CPU_RATIO,
        ),
    ]
    for side in (receiver, large.side if large else None):
        if side is not None:
            ratios.append(
                Ratio(
                    label=f"receiver peak RSS, {side.label()}",
                    value=f"{side.peak_rss / MB:,.0f} MB",
                    target=f"<= {TARGET_PEAK_RSS // MB} MB",
                    met=side.peak_rss <= TARGET_PEAK_RSS,
                )
            )
    return ratios


def _checks(
    baselines: Sequence[tuple[str, Stage]], subjects: Sequence[tuple[str, Stage]]
) -> list[Check]:
    def detail(stages: Sequence[tuple[str, Stage]]) -> str:
        parts = []
        for name, stage in stages:
            text = f"{name}: {stage.verdict}"
            if stage.side.attempts is None and stage.side.errors:
                text += f"; failed copies: {'; '.join(stage.side.errors[:3])}"
            parts.append(text)
        return "; ".join(parts)

    return [
        Check(
            label="receiver stored every video byte for byte",
            ok=all(stage.verdict.ok for _, stage in subjects),
            detail=detail(subjects),
        ),
        Check(
            label="rclone copied every video byte for byte, every run",
            ok=all(stage.verdict.ok and not stage.side.errors for _, stage in baselines),
            detail=detail(baselines),
        ),
    ]


def _notes(sides: Sequence[tuple[str, Side]], *, quick: bool) -> list[str]:
    notes = []
    if quick:
        notes.append("Quick run: fewer, smaller videos, and no 500 MB stage.")
    disturbed = []
    for name, side in sides:
        if side.attempts is not None and side.attempts > side.videos:
            notes.append(
                f"The archiver needed {side.attempts} attempts for {side.videos} videos "
                f"({name}); it said: {'; '.join(side.errors[:3])}. Retries cost time and CPU "
                "that these figures include."
            )
        other = side.other_cpu
        if other is not None and side.cpu.seconds > 0 and other / side.cpu.seconds >= _DISTURBED:
            disturbed.append(f"{name}: {other / side.cpu.seconds:.0%}")
        if side.store_cpu is None:
            notes.append(f"SeaweedFS's CPU could not be read during the {name} stage.")
    if disturbed:
        notes.append(
            "Other processes on the machine kept part of a core busy during some runs "
            f"({', '.join(disturbed)}): their figures are disturbed. Of the repeated runs the "
            "faster, least disturbed one is shown; rerun on a quiet machine to trust the rest."
        )
    return notes


def _method(receiver: Side, large: Stage | None, *, concurrency: int, mib: str, quick: bool) -> str:
    stage = (
        f" A last stage archives {large.side.label()} videos, {concurrency} at once, with the "
        "same worker settings, to show that memory does not grow with the size of a video."
        if large is not None
        else ""
    )
    return (
        f"{receiver.label()} videos (valid MP4s: the simulator's sample followed by a `free` "
        "box of random bytes) are served by Caddy (`caddy file-server`) on loopback and "
        "copied into SeaweedFS (credentials enforced, one bucket per stage, warmed with one "
        "write) by the baseline, one `rclone copyurl` process per video, and by a real "
        f"`receiver worker` process, {concurrency} videos at once for both "
        f"(`RECEIVER_ARCHIVE_CONCURRENCY={concurrency}`), one after the other in the same "
        "run. The baseline is rclone with its defaults, as `rclone copyurl` comes: a file "
        "under 200 MiB goes up in one streamed PUT. A second rclone run, for reference, sets "
        f"chunk size and upload cutoff to the archiver's part size ({mib}), so the store "
        "gets the same multipart uploads from both (rclone then keeps 4 parts in flight per "
        "file, buffered in memory); the ratios are against the first. rclone (defaults) and "
        "receiver run twice each, in the order rclone, receiver, receiver, rclone: each "
        "side's faster run is shown and compared, with the higher peak RSS of its two runs. "
        "The worker is started first and waited for; its jobs, `completed` with their "
        "archive tasks queued as a callback leaves them, are committed at once, and its "
        "clock runs from the first claim to the last task ended (the worker's polling "
        "latency before the first claim is shown apart); rclone's runs from the first "
        "process started to the last ended, its processes' start-up included. CPU-seconds "
        "are user + system time from `/proc` (rclone's from each process's `wait4` usage); "
        "*other* is the machine's busy time minus the processes named (the driver's polling "
        "included). Peak RSS is the worker's `VmHWM`; for rclone, the largest process's and "
        "the largest sum of those running at once (sampled every 50 ms). Nothing is pinned: "
        "the store, the source and the client share the machine's cores as they would in "
        "production. Dirty pages are written out (`sync`) before "
        f"each stage.{stage} After each stage every object is read back and its SHA-256 "
        "compared with the source's." + (" Quick run: fewer, smaller videos." if quick else "")
    )
