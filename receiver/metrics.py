"""Prometheus metrics: what an operator graphs and alerts on.

Counters are kept by the process that does the work (the receiver counts callbacks, a worker
counts archives); the queue's depth and the smallest remaining deadline margin are read from
the database at scrape time, so every replica reports the same truth about shared work.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from receiver import clock
from receiver.store.archive_tasks import ArchiveTasks
from receiver.store.database import Database

__all__ = [
    "ARCHIVES",
    "ARCHIVE_BYTES",
    "ARCHIVE_SECONDS",
    "CALLBACKS",
    "DEADLINE_WARNINGS",
    "NOTIFICATIONS",
    "REGISTRY",
    "UNLOGGED_REJECTIONS",
    "callback_counter",
    "registry_for",
]

REGISTRY = CollectorRegistry(auto_describe=True)

CALLBACKS = Counter(
    "receiver_callbacks",
    "Requests to the callback routes, by outcome "
    "(accepted, duplicate, stale, unknown_status, rejected) and source.",
    ["outcome", "source"],
    registry=REGISTRY,
)


@functools.cache
def callback_counter(outcome: str, source: str) -> Counter:
    """CALLBACKS for one outcome and source, looked up once (labels() locks and validates)."""
    return CALLBACKS.labels(outcome, source)


ARCHIVES = Counter(
    "receiver_archives",
    "Archive attempts by result (stored, retry, failed, expired).",
    ["result"],
    registry=REGISTRY,
)
UNLOGGED_REJECTIONS = Counter(
    "receiver_rejections_unlogged",
    "Requests to the callback routes without a valid token that were refused without being "
    "written to the delivery log, because RECEIVER_REJECTED_LOG_RATE was spent.",
    registry=REGISTRY,
)
NOTIFICATIONS = Counter(
    "receiver_notification_attempts",
    "Outbound notification attempts by resulting state "
    "(delivered, pending = will retry, failed, disabled; dropped = a final event that "
    "waited for a notifier longer than 24 h).",
    ["state"],
    registry=REGISTRY,
)
DEADLINE_WARNINGS = Counter(
    "receiver_archive_deadline_warnings",
    "Jobs whose video link was about to expire (less than RECEIVER_DEADLINE_WARNING left) "
    "while their archive was unfinished; each job counts once.",
    registry=REGISTRY,
)
ARCHIVE_BYTES = Counter(
    "receiver_archive_bytes", "Bytes of video stored in the bucket.", registry=REGISTRY
)
ARCHIVE_SECONDS = Histogram(
    "receiver_archive_seconds",
    "Time to download and store one video.",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800),
    registry=REGISTRY,
)


class _QueueCollector(Collector):
    def __init__(self, db: Database) -> None:
        self._db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._db.reading() as conn:
            queue = ArchiveTasks(conn).queue_state()
        depth = GaugeMetricFamily(
            "receiver_archive_queue_depth", "Archive tasks waiting or running.", labels=["state"]
        )
        depth.add_metric(["queued"], queue.queued)
        depth.add_metric(["running"], queue.running)
        yield depth
        margin = GaugeMetricFamily(
            "receiver_archive_min_deadline_margin_seconds",
            "Seconds left before the most urgent unfinished archive's link expires "
            "(absent when nothing is waiting).",
        )
        if queue.earliest_deadline is not None:
            seconds = (queue.earliest_deadline - clock.now()).total_seconds()
            margin.add_metric([], seconds)
        yield margin


class _WithQueue(Collector):
    """This process's counters, plus the shared queue as the database tells it."""

    def __init__(self, db: Database) -> None:
        self._queue = _QueueCollector(db)

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
        yield from self._queue.collect()


def registry_for(db: Database) -> CollectorRegistry:
    """What one app or worker exposes at /metrics (a registry per database, not global)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_WithQueue(db))
    return registry
