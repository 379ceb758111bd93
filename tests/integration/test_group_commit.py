"""Group commit: units share a commit, fail alone, and are answered only once committed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from receiver import clock
from receiver.store.database import Connection, Database
from receiver.store.group_commit import GroupCommitter
from tests.conftest import run_sql

pytestmark = pytest.mark.integration


def insert(job_id: str) -> Callable[[Connection], str]:
    def work(conn: Connection) -> str:
        conn.execute(
            "insert_job",
            id=job_id,
            provider="evolink",
            model="m",
            prompt="p",
            params="{}",
            status="pending",
            now=clock.to_db(clock.now()),
        )
        return job_id

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


def counted(db: Database) -> list[int]:
    """A counter of ``db``'s write transactions from now on."""
    commits = [0]
    original = db.transaction

    def counting_transaction() -> AbstractContextManager[Connection]:
        commits[0] += 1
        return original()

    db.transaction = counting_transaction  # type: ignore[method-assign]
    return commits


def test_a_unit_close_behind_joins_the_commit_under_way(db: Database) -> None:
    committer = GroupCommitter(db, gap=0.5, linger=5.0)
    committer.start()

    commits = counted(db)

    async def main() -> list[str]:
        first = asyncio.ensure_future(committer.run(insert("job_first")))
        await asyncio.sleep(0.05)  # well inside the gap
        second = await committer.run(insert("job_second"))
        return [await first, second]

    assert asyncio.run(main()) == ["job_first", "job_second"]
    committer.stop()
    assert commits == [1]  # one transaction carried both


def test_a_lone_unit_waits_for_the_gap_not_the_linger(db: Database) -> None:
    committer = GroupCommitter(db, gap=0.01, linger=60.0)
    committer.start()

    async def main() -> str:
        # Were the thread to wait out the linger, this would time out.
        return await asyncio.wait_for(committer.run(insert("job_alone")), timeout=30)

    assert asyncio.run(main()) == "job_alone"
    committer.stop()
