"""Group commit: units share a commit, fail alone, and are answered only once committed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from receiver.store.database import Connection, Database
from receiver.store.group_commit import GroupCommitter
from tests.conftest import run_sql
from tests.factories import insert_job

pytestmark = pytest.mark.integration


def insert(job_id: str) -> Callable[[Connection], str]:
    def work(conn: Connection) -> str:
        return insert_job(conn, job_id=job_id)

    return work


def test_units_share_commits_and_fail_alone(db: Database) -> None:
    committer = GroupCommitter(db)
    commits = 0
    original = db.transaction

    def counting_transaction() -> AbstractContextManager[Connection]:
        nonlocal commits
        commits += 1
        return original()

    db.transaction = counting_transaction  # type: ignore[method-assign]
    committer.start()

    async def main() -> list[str | BaseException]:
        units = [committer.run(insert(f"job_{n}")) for n in range(50)]
        units.append(committer.run(insert("job_3")))  # a duplicate id
        return await asyncio.gather(*units, return_exceptions=True)

    results = asyncio.run(main())
    committer.stop()
    db.transaction = original  # type: ignore[method-assign]
    assert results[:50] == [f"job_{n}" for n in range(50)]
    assert isinstance(results[50], Exception)  # only the duplicate failed
    (row,) = run_sql(db, "SELECT COUNT(*) AS n FROM jobs")
    assert row["n"] == 50
    assert commits < 50  # several units per commit


def test_nothing_is_answered_before_its_commit(db: Database) -> None:
    committer = GroupCommitter(db)
    committer.start()
    seen_committed: list[bool] = []

    async def main() -> None:
        job_id = await committer.run(insert("job_visible"))
        # Another connection must already see the row when the answer arrives.
        rows = await asyncio.to_thread(run_sql, db, "SELECT id FROM jobs WHERE id = :id", id=job_id)
        seen_committed.append(len(rows) == 1)

    asyncio.run(main())
    committer.stop()
    assert seen_committed == [True]


def test_a_stopped_committer_refuses_work(db: Database) -> None:
    committer = GroupCommitter(db)
    committer.start()
    committer.stop()

    async def main() -> None:
        with pytest.raises(RuntimeError, match="not running"):
            await committer.run(insert("job_late"))

    asyncio.run(main())
