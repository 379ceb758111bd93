"""After the run: is every acknowledged callback committed, and every retry a duplicate?

A fast 2xx means nothing if it was sent before the write was durable, so once the receiver
has stopped, the benchmark opens its database read-only and checks, for every job that got
a 2xx, that exactly one delivery was *accepted*, the job is ``completed`` and its archive task
exists; and that every other acknowledged delivery is recorded as a *duplicate*.

This reads the tables with its own plain SQL rather than through ``receiver.store``: an
audit should not trust the code it audits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Audit", "audit"]


@dataclass(frozen=True, kw_only=True)
class Audit:
    #: Distinct jobs at least one of whose callbacks got a 2xx, and all 2xx answers.
    acked_jobs: int
    acked_requests: int
    #: Requests that got no HTTP answer: the receiver may or may not have committed them.
    unanswered: int
    #: Distinct jobs any callback was sent for, and all requests sent.
    sent_jobs: int
    sent_requests: int
    #: Rows in ``deliveries`` by outcome.
    accepted: int
    duplicates: int
    other: dict[str, int]
    #: Acknowledged jobs without one accepted delivery, ``completed`` status and archive task.
    missing: int
    #: Jobs with more than one accepted delivery (a retry applied twice).
    double_accepted: int

    @property
    def ok(self) -> bool:
        rows = self.accepted + self.duplicates + sum(self.other.values())
        if self.missing or self.double_accepted or self.other:
            return False
        # An unanswered request may or may not have been committed: then the figures can only
        # lie between what was acknowledged and what was sent.
        return (
            self.acked_jobs <= self.accepted <= self.sent_jobs
            and self.acked_requests <= rows <= self.sent_requests
            and (
                self.unanswered > 0
                or (self.accepted, rows) == (self.acked_jobs, self.acked_requests)
            )
        )

    def __str__(self) -> str:
        parts = [
            f"{self.acked_jobs:,} jobs got a 2xx and {self.accepted:,} deliveries are committed "
            "as accepted"
        ]
        if self.missing:
            parts.append(
                f"{self.missing:,} acknowledged jobs lack their one accepted delivery, "
                "completed status or archive task"
            )
        else:
            parts.append("each acknowledged job has one, is completed and has its archive task")
        if self.double_accepted:
            parts.append(f"{self.double_accepted:,} jobs were accepted twice")
        rows = self.accepted + self.duplicates + sum(self.other.values())
        parts.append(
            f"{self.acked_requests:,} 2xx answers, {rows:,} delivery rows "
            f"({self.accepted:,} accepted + {self.duplicates:,} duplicate"
            + "".join(f" + {n:,} {outcome}" for outcome, n in sorted(self.other.items()))
            + ")"
        )
        if self.unanswered:
            parts.append(
                f"{self.unanswered:,} requests got no answer in time, which the receiver may "
                f"still have committed: accepted lies between the {self.acked_jobs:,} "
                f"acknowledged and the {self.sent_jobs:,} jobs sent for, rows between "
                f"{self.acked_requests:,} and {self.sent_requests:,}"
            )
        return "; ".join(parts)


def audit(
    db_path: Path,
    acked_jobs: Set[str],
    *,
    acked_requests: int,
    unanswered: int,
    sent_jobs: int,
    sent_requests: int,
    junk: bool = False,
) -> Audit:
    """``junk``: requests without a valid token were sent alongside; their rejected rows are
    not deliveries of the callbacks audited here, and are left out."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        outcomes = dict(
            conn.execute("SELECT outcome, COUNT(*) FROM deliveries GROUP BY outcome").fetchall()
        )
        if junk:
            outcomes.pop("rejected", None)
        accepted_per_job = dict(
            conn.execute(
                "SELECT job_id, COUNT(*) FROM deliveries WHERE outcome = 'accepted' GROUP BY job_id"
            ).fetchall()
        )
        completed_with_task = {
            job_id
            for (job_id,) in conn.execute(
                "SELECT j.id FROM jobs j JOIN archive_tasks a ON a.job_id = j.id "
                "WHERE j.status = 'completed'"
            )
        }
    finally:
        conn.close()
    missing = sum(
        1
        for job_id in acked_jobs
        if accepted_per_job.get(job_id) != 1 or job_id not in completed_with_task
    )
    return Audit(
        acked_jobs=len(acked_jobs),
        acked_requests=acked_requests,
        unanswered=unanswered,
        sent_jobs=sent_jobs,
        sent_requests=sent_requests,
        accepted=outcomes.pop("accepted", 0),
        duplicates=outcomes.pop("duplicate", 0),
        other=outcomes,
        missing=missing,
        double_accepted=sum(1 for n in accepted_per_job.values() if n > 1),
    )
