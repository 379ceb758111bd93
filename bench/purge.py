"""Scenario ``purge``: how long forgetting a million rejected deliveries holds the write lock.

SQLite has one writer at a time: while a purge deletes, every callback waits for its commit
(the provider gives up after 10 s). Two identical databases are filled with 1,000,000
rejected deliveries past their retention (rows as the receiver writes them about junk:
summaries with a header digest), then:

- baseline, *one DELETE*: what the purge did before, one statement in one transaction;
- subject, *batched*: :func:`receiver.deliveries.purge_rejected`, a batch per transaction,
  then the freed pages given back to the file system a step at a time.

Each write transaction is timed from ``BEGIN IMMEDIATE`` to its commit: that is the time
the lock is held (target: at most 50 ms per batch).
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from bench.options import Options, progress
from bench.results import Check, Figure, Ratio, ScenarioResult, percentile
from receiver import clock
from receiver.deliveries import PURGE_BATCH, purge_rejected
from receiver.store.database import Connection
from receiver.store.migrate import migrate
from receiver.store.sqlite import SQLiteDatabase

__all__ = ["run"]

ROWS = 1_000_000
TARGET_HOLD_MS = 50.0


class _TimedDatabase(SQLiteDatabase):
    """SQLite whose write transactions are timed, lock taken to commit done."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.holds_ms: list[float] = []
        self.vacuum_ms: list[float] = []

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        started = time.perf_counter()
        with super().transaction() as conn:
            yield conn
        self.holds_ms.append((time.perf_counter() - started) * 1000)

    def _vacuum_step(self, raw: sqlite3.Connection) -> None:
        started = time.perf_counter()
        super()._vacuum_step(raw)
        self.vacuum_ms.append((time.perf_counter() - started) * 1000)


def run(options: Options) -> ScenarioResult:
    began = time.monotonic()
    workdir = options.workdir / "purge"
    workdir.mkdir(parents=True)
    rows = ROWS // 5 if options.quick else ROWS
    one = _filled(workdir / "one-delete.db", rows)
    progress(f"purge: one DELETE of {rows:,} rows")
    raw = one._connection()
    started = time.perf_counter()
    raw.execute("BEGIN IMMEDIATE")
    # The statement the purge ran before it went in batches.
    raw.execute(
        "DELETE FROM deliveries WHERE outcome = 'rejected' AND received_at < ?",
        (clock.to_db(clock.now()),),
    )
    raw.execute("COMMIT")
    single_ms = (time.perf_counter() - started) * 1000
    one_size = _checkpointed_size(one)
    one.close()

    batched = _filled(workdir / "batched.db", rows)
    size_before = os.path.getsize(batched.path)
    progress(f"purge: batched purge of {rows:,} rows")
    started = time.perf_counter()
    purged = purge_rejected(batched, retention=86400.0)
    total_ms = (time.perf_counter() - started) * 1000
    reclaimed_size = _checkpointed_size(batched)
    holds = sorted(batched.holds_ms)
    steps = sorted(batched.vacuum_ms)
    batched.close()
    longest = holds[-1] if holds else math.inf
    return ScenarioResult(
        name="purge",
        title=f"purging {rows:,} rejected deliveries (SQLite)",
        method=(
            f"Two identical SQLite databases, each with {rows:,} rejected deliveries 8 days old "
            "(summary rows as the receiver writes them about junk). Baseline: one DELETE in one "
            f"transaction. Subject: the receiver's purge, {PURGE_BATCH:,} rows per transaction, "
            "then incremental vacuum steps of 1 MB. Lock hold = BEGIN IMMEDIATE to COMMIT, timed "
            "in-process." + (" Quick run: a fifth of the rows." if options.quick else "")
        ),
        baseline="one DELETE",
        subject="batched",
        figures=[
            Figure(
                label="write transactions",
                baseline="1",
                subject=f"{len(holds):,} (batches of {PURGE_BATCH:,})",
            ),
            Figure(
                label="lock hold p50 / p99 / longest (ms)",
                baseline=f"{single_ms:,.0f} / {single_ms:,.0f} / {single_ms:,.0f}",
                subject=(
                    f"{percentile(holds, 0.5):.1f} / {percentile(holds, 0.99):.1f} / {longest:.1f}"
                    if holds
                    else "none"
                ),
            ),
            Figure(
                label="vacuum steps: count, longest (ms)",
                baseline="none (the file keeps its size)",
                subject=f"{len(steps):,}, {steps[-1]:.1f}" if steps else "none",
            ),
            Figure(
                label="whole purge (s)",
                baseline=f"{single_ms / 1000:.1f}",
                subject=f"{total_ms / 1000:.1f} (vacuum steps included)",
            ),
            Figure(
                label="file size after (MB)",
                baseline=f"{one_size / 1e6:,.1f} (space kept)",
                subject=f"{reclaimed_size / 1e6:,.1f} (from {size_before / 1e6:,.1f})",
            ),
        ],
        ratios=[
            Ratio(
                label="longest write-lock hold of a purge batch",
                value=f"{longest:.1f} ms",
                target=f"<= {TARGET_HOLD_MS:.0f} ms",
                met=longest <= TARGET_HOLD_MS,
            ),
            Ratio(
                label="longest write-lock hold of a vacuum step",
                value=f"{steps[-1]:.1f} ms" if steps else "none",
                target=f"<= {TARGET_HOLD_MS:.0f} ms",
                met=not steps or steps[-1] <= TARGET_HOLD_MS,
            ),
        ],
        checks=[
            Check(label="every row purged", ok=purged == rows, detail=f"{purged:,} of {rows:,}"),
            Check(
                label="the space went back to the file system",
                ok=reclaimed_size < size_before / 2,
                detail=f"{size_before:,} -> {reclaimed_size:,} bytes",
            ),
        ],
        notes=[],
        seconds=time.monotonic() - began,
    )


def _checkpointed_size(db: SQLiteDatabase) -> int:
    """The file's size once the write-ahead log is folded in (a vacuum truncates it then)."""
    db._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return os.path.getsize(db.path)


def _filled(path: Path, rows: int) -> _TimedDatabase:
    """A migrated database holding ``rows`` old rejected summary rows."""
    progress(f"purge: writing {rows:,} rejected deliveries to {path.name}")
    db = _TimedDatabase(path)
    migrate(db)
    old = clock.now() - timedelta(days=8)
    digest = json.dumps(
        {"_count": 100, "_bytes": 102_400, "user-agent": "junk/1.0", "content-type": "x/y"}
    )
    raw = db._connection()  # bulk load: a named query per row would take minutes
    raw.execute("BEGIN IMMEDIATE")
    raw.executemany(
        "INSERT INTO deliveries (id, provider, source, outcome, reason, client_addr, headers,"
        " body_size, received_at) VALUES (?, 'evolink', 'callback', 'rejected',"
        " 'bad_token: the callback token is not signed by any of our keys', ?, ?, 65536, ?)",
        (
            (
                f"dlv_{n:026d}",
                f"198.51.100.{n % 250}",
                digest,
                clock.to_db(old + timedelta(microseconds=n)),
            )
            for n in range(rows)
        ),
    )
    raw.execute("COMMIT")
    db.holds_ms.clear()
    return db
