"""Scenario ``archive``: how fast, how frugally, receiver's archiver stores videos in S3.

Twenty videos of 50 MB are served by Caddy on loopback (the provider's CDN, never the
bottleneck) and archived into SeaweedFS, credentials enforced, by a real ``receiver worker``
process. The baseline, measured in the same run on the same store with the same videos and
concurrency, is ``rclone copyurl``: a general-purpose tool in Go that does the same
download-into-S3 stream. On a two-core machine the store itself takes most of the CPU, so
every CPU-second a client spends is throughput lost: the figures are wall-clock MB/s, the
client's CPU-seconds per GB (and the store's and source's), and peak resident memory. A
last stage archives four 500 MB videos at once, to show memory does not grow with size.

Stages, each with dirty pages written out first and a bucket of its own warmed with one
small write (SeaweedFS allocates a bucket's volumes on its first write):

1. rclone, receiver, receiver, rclone (ABBA): the compared runs, each side's faster one kept.
   rclone is one ``rclone copyurl`` per video, :data:`CONCURRENCY` at once, with its own
   defaults (:mod:`bench.archive_rclone`); receiver is the worker with
   ``RECEIVER_ARCHIVE_CONCURRENCY`` = :data:`CONCURRENCY` (:mod:`bench.archive_worker`);
2. rclone again, for reference, in parts of the archiver's size (the same requests to the
   store as the archiver's multipart uploads);
3. receiver, 4 x 500 MB (skipped with ``--quick``);
4. ``receiver serve`` (the web app and its worker in one process), 4 x 50 MB and 4 x 500 MB
   (the latter skipped with ``--quick``): its peak memory, against the same target.

After each stage every object is read back and compared with its source's SHA-256
(:mod:`bench.archive_verify`): wrong bytes fail the run, whatever the speed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench import archive_proc, processes
from bench.archive_figures import MB, Side, Stage, result
from bench.archive_proc import CpuSnapshot
from bench.archive_rclone import Transfer, copy_urls, rclone_env
from bench.archive_source import Video, caddy_file_server, write_videos
from bench.archive_verify import s3_client, verify_archived, verify_objects
from bench.archive_worker import run_worker
from bench.options import Options, progress
from bench.results import ScenarioResult
from receiver.config import Settings
from receiver.devtools.seaweed import Credentials, SeaweedFS, free_ports
from receiver.errors import ServiceError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["CONCURRENCY", "run"]

CONCURRENCY = 4
VIDEOS, VIDEO_SIZE = 20, 50 * MB
QUICK_VIDEOS, QUICK_VIDEO_SIZE = 8, 10 * MB
LARGE_VIDEOS, LARGE_VIDEO_SIZE = 4, 500 * MB
#: A stage slower than this has surely hung.
_SLOWEST = 2 * MB
#: The compared runs, ABBA: a machine getting busier or quieter over the run weighs on both
#: alike, and each side keeps its faster run (the one others disturbed least).
_ROUNDS = ("rclone-1", "receiver-1", "receiver-2", "rclone-2")
#: Each stage has its own bucket and directory, named after it.
_STAGES = (*_ROUNDS, "rclone-parts", "large", "serve", "serve-large")


@dataclass(frozen=True, kw_only=True)
class _Store:
    endpoint: str
    credentials: Credentials
    pid: int | None


@dataclass(frozen=True, kw_only=True)
class _Rig:
    """What every stage runs against: the store, a client reading it back, the source."""

    workdir: Path
    store: _Store
    client: S3Client
    #: The base URL the videos are served under.
    source: str
    #: Other processes whose CPU each stage reads: the store and the source.
    watch: Mapping[str, int]


def run(options: Options) -> ScenarioResult:
    began = time.monotonic()
    workdir = options.workdir / "archive"
    sources = workdir / "videos"
    count, size = (QUICK_VIDEOS, QUICK_VIDEO_SIZE) if options.quick else (VIDEOS, VIDEO_SIZE)
    progress(f"archive: writing {count} videos of {size // MB} MB")
    videos = write_videos(sources, prefix="video", count=count, size=size)
    large: list[Video] = []
    if not options.quick:
        progress(f"archive: writing {LARGE_VIDEOS} videos of {LARGE_VIDEO_SIZE // MB} MB")
        large = write_videos(sources, prefix="large", count=LARGE_VIDEOS, size=LARGE_VIDEO_SIZE)

    with _seaweedfs(workdir) as store, caddy_file_server(sources, workdir) as (source, caddy):
        client = s3_client(
            store.endpoint, store.credentials.access_key, store.credentials.secret_key
        )
        for name in _STAGES:
            _warm_bucket(client, _bucket(name))
        rig = _Rig(
            workdir=workdir,
            store=store,
            client=client,
            source=source,
            watch={"source": caddy, **({"store": store.pid} if store.pid is not None else {})},
        )
        part_size = Settings.from_env(_worker_env(rig, "receiver-1")).part_size
        rounds = {
            name: (
                _rclone_stage(rig, videos, name=name)
                if name.startswith("rclone")
                else _receiver_stage(rig, videos, name=name)
            )
            for name in _ROUNDS
        }
        in_parts = _rclone_stage(rig, videos, name="rclone-parts", part_size=part_size)
        large_stage = _receiver_stage(rig, large, name="large") if large else None
        # The single-node deployment (and `make run`): the web app and the worker in one
        # process, its memory held to the same target.
        single_node = [
            _receiver_stage(rig, batch, name=name, single_node=True)
            for name, batch in (("serve", videos[:CONCURRENCY]), ("serve-large", large))
            if batch
        ]
    return result(
        baselines=[rounds["rclone-1"], rounds["rclone-2"]],
        baseline_in_parts=in_parts,
        subjects=[rounds["receiver-1"], rounds["receiver-2"]],
        large=large_stage,
        single_node=single_node,
        concurrency=CONCURRENCY,
        part_size=part_size,
        quick=options.quick,
        seconds=time.monotonic() - began,
    )


@contextlib.contextmanager
def _seaweedfs(workdir: Path) -> Iterator[_Store]:
    """SeaweedFS as the tests run it: loopback, credentials enforced, telemetry off."""
    credentials = Credentials("bench" + secrets.token_hex(6), secrets.token_urlsafe(24))
    data_dir = workdir / "seaweedfs"
    progress("archive: starting SeaweedFS")
    server = SeaweedFS(data_dir, credentials, log_path=workdir / "seaweedfs.log")
    try:
        server.start()
    except ServiceError as exc:
        raise processes.ProcessFailed(f"SeaweedFS did not start: {exc}") from exc
    try:
        # The library does not say its pid; its data dir, unique to this run, names it.
        pid = archive_proc.pid_with_argument(f"-dir={data_dir / 'data'}")
        yield _Store(endpoint=server.endpoint_url, credentials=credentials, pid=pid)
    finally:
        server.stop()


def _bucket(stage: str) -> str:
    return f"bench-{stage}"


def _warm_bucket(client: S3Client, bucket: str) -> None:
    """Create the bucket and write to it once, so its volumes exist before the clock runs."""
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key="warm-up", Body=b"warm-up")
    client.delete_object(Bucket=bucket, Key="warm-up")


def _rclone_stage(
    rig: _Rig, videos: Sequence[Video], *, name: str, part_size: int | None = None
) -> Stage:
    """``name`` picks the bucket and the log directory; ``part_size`` see :func:`rclone_env`."""
    bucket = _bucket(name)
    env = rclone_env(
        endpoint=rig.store.endpoint,
        access_key=rig.store.credentials.access_key,
        secret_key=rig.store.credentials.secret_key,
        config=rig.workdir / "rclone.conf",
        part_size=part_size,
    )
    keys = {f"videos/{video.name}": video for video in videos}
    transfers = [Transfer(url=f"{rig.source}/{v.name}", key=key) for key, v in keys.items()]
    shape = f"in {part_size / 1024**2:g} MiB parts" if part_size else "rclone's defaults"
    progress(f"archive: {name}: rclone copyurl, {len(videos)} URLs, {CONCURRENCY} at once, {shape}")
    _flush()
    start = CpuSnapshot.take(rig.watch)
    copied = copy_urls(
        transfers,
        bucket=bucket,
        concurrency=CONCURRENCY,
        env=env,
        log_dir=rig.workdir / name,
        timeout=_timeout(videos),
    )
    cpu = start.until(CpuSnapshot.take(rig.watch))
    progress(f"archive: {name}: reading back what rclone stored")
    return Stage(
        side=Side(
            videos=len(videos),
            size=videos[0].size,
            wall=copied.wall,
            client_cpu=copied.cpu,
            cpu=cpu,
            peak_rss=copied.peak_rss_process,
            peak_rss_total=copied.peak_rss_total,
            idle_rss=None,
            claim_latency=None,
            attempts=None,
            errors=copied.failures,
        ),
        verdict=verify_objects(rig.client, bucket, keys),
    )


def _receiver_stage(
    rig: _Rig, videos: Sequence[Video], *, name: str, single_node: bool = False
) -> Stage:
    """``name`` picks the bucket and names the stage's own directory (database, log);
    ``single_node``: ``receiver serve`` (web app and worker in one process) archives."""
    workdir = rig.workdir / name
    workdir.mkdir(parents=True, exist_ok=True)
    command = ["worker"]
    if single_node:
        command = ["serve", "--host", "127.0.0.1", "--port", str(free_ports(1)[0])]
    progress(f"archive: {name}: receiver {command[0]}, {len(videos)} videos, {CONCURRENCY} at once")
    _flush()
    tasks, archived = run_worker(
        db_path=workdir / "receiver.db",
        urls=[f"{rig.source}/{video.name}" for video in videos],
        env=_worker_env(rig, name),
        log=workdir / "worker.log",
        watch=rig.watch,
        timeout=_timeout(videos),
        command=command,
    )
    progress(f"archive: {name}: reading back what the archiver stored")
    expected = {task.job_id: video for task, video in zip(tasks, videos, strict=True)}
    return Stage(
        side=Side(
            videos=len(videos),
            size=videos[0].size,
            wall=archived.wall,
            client_cpu=archived.cpu.processes.get("subject", 0.0),
            cpu=archived.cpu,
            peak_rss=archived.peak_rss,
            peak_rss_total=None,
            idle_rss=archived.idle_rss,
            claim_latency=archived.claim_latency,
            attempts=archived.attempts,
            errors=archived.errors,
        ),
        verdict=verify_archived(rig.client, workdir / "receiver.db", _bucket(name), expected),
    )


def _worker_env(rig: _Rig, name: str) -> dict[str, str]:
    """The worker's settings for stage ``name``: its own database and bucket."""
    return {
        **processes.clean_env(),
        "RECEIVER_DATABASE_URL": f"sqlite:///{rig.workdir / name / 'receiver.db'}",
        "RECEIVER_S3_ENDPOINT_URL": rig.store.endpoint,
        "RECEIVER_S3_BUCKET": _bucket(name),
        "AWS_ACCESS_KEY_ID": rig.store.credentials.access_key,
        "AWS_SECRET_ACCESS_KEY": rig.store.credentials.secret_key,
        "AWS_REGION": "us-east-1",
        "RECEIVER_SECRET_KEYS": secrets.token_urlsafe(32),
        "RECEIVER_ARCHIVE_CONCURRENCY": str(CONCURRENCY),
        # Loopback downloads from Caddy; nothing here is reachable from outside.
        "RECEIVER_INSECURE": "1",
        # Info, for the one line that says the worker is running (bench.archive_worker).
        "RECEIVER_LOG_LEVEL": "info",
        "RECEIVER_LOG_FORMAT": "json",
        # Nothing in a benchmark may reach the real provider: point it at a closed port.
        "EVOLINK_BASE_URL": "http://127.0.0.1:9",
    }


def _flush() -> None:
    """Write out dirty pages now, so the last stage's writeback does not land in this one."""
    os.sync()


def _timeout(videos: Sequence[Video]) -> float:
    return sum(video.size for video in videos) / _SLOWEST + 60
