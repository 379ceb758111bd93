"""Idempotent submissions, batch re-runs, the budget in file order and deletions, on both
databases against the provider simulator."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from receiver import jobs
from receiver.config import Settings
from receiver.context import Context
from receiver.deletion import JobNotSettled, delete_job
from receiver.devtools.simulator import SimulatorConfig, create_app
from receiver.errors import ProviderRateLimited, ProviderUnavailable
from receiver.jobs import KeyJobDeleted, Submitted
from receiver.submission.batch import prepare_rows, submit_rows
from receiver.submission.budget import budget_today
from receiver.submission.idempotency import IdempotencyConflict, client_key
from receiver.submission.rows import BatchRow
from receiver.submission.spec import JobSpec, prepare, submit_once
from tests.conftest import make_env, run_sql
from tests.servers import run_server

pytestmark = pytest.mark.integration

SIMULATOR = SimulatorConfig(delay=600, allow_http_callbacks=True, allow_private_callbacks=True)


@pytest.fixture
def simulator() -> Iterator[tuple[str, httpx.Client]]:
    with run_server(create_app(SIMULATOR)) as url, httpx.Client(base_url=url) as client:
        yield url, client


def context(tmp_path: Path, **env: str) -> Context:
    return Context(Settings.from_env(make_env(tmp_path, **env)))


def tasks(sim: httpx.Client) -> int:
    return len(sim.get("/_simulator/stats").json()["tasks"])


def test_the_same_key_and_request_make_one_job_and_one_charge(
    tmp_path: Path, database_url: str, simulator: tuple[str, httpx.Client]
) -> None:
    url, sim = simulator
    with context(
        tmp_path,
        RECEIVER_DATABASE_URL=database_url,
        EVOLINK_BASE_URL=url,
        RECEIVER_MAX_CREDITS_PER_DAY="40",
    ) as ctx:
        prepared = prepare(ctx, JobSpec(prompt="a lantern"))
        key = client_key("order-17", prepared)
        first = submit_once(ctx, prepared, key=key)
        # 36 of 40 spent: a second charge would not even fit, and none is made.
        again = submit_once(ctx, prepare(ctx, JobSpec(prompt="a lantern")), key=key)
        assert (first.replayed, again.replayed) == (False, True)
        assert again.job.id == first.job.id
        assert tasks(sim) == 1
        budget = budget_today(ctx.db, 40)
        assert budget is not None
        assert budget.spent_today == 36.0

        other = prepare(ctx, JobSpec(prompt="a kite"))
        with pytest.raises(IdempotencyConflict, match="'order-17' was used for a different"):
            submit_once(ctx, other, key=client_key("order-17", other))
        assert tasks(sim) == 1
        assert len(run_sql(ctx.db, "SELECT id FROM jobs")) == 1


def test_identical_requests_at_once_make_one_job(
    tmp_path: Path, database_url: str, simulator: tuple[str, httpx.Client]
) -> None:
    url, sim = simulator
    with context(tmp_path, RECEIVER_DATABASE_URL=database_url, EVOLINK_BASE_URL=url) as ctx:
        prepared = prepare(ctx, JobSpec(prompt="a heron"))
        key = client_key("race", prepared)
        _ = ctx.db, ctx.signer
        start = threading.Barrier(8)
        results: list[Submitted] = []

        def submit() -> None:
            start.wait()
            # Past the early look-up: the unique key inside the transaction must decide.
            results.append(jobs.submit(ctx, prepared.request, key=key))

        threads = [threading.Thread(target=submit) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(results) == 8
        assert len({result.job.id for result in results}) == 1
        assert sum(not result.replayed for result in results) == 1
        assert len(run_sql(ctx.db, "SELECT id FROM jobs")) == 1
        assert tasks(sim) == 1


def test_a_refused_create_frees_its_key_and_a_timeout_keeps_it(
    tmp_path: Path, database_url: str, simulator: tuple[str, httpx.Client]
) -> None:
    url, sim = simulator
    with context(tmp_path, RECEIVER_DATABASE_URL=database_url, EVOLINK_BASE_URL=url) as ctx:
        sim.patch("/_simulator/config", json={"rate_limit_next": 1})
        prepared = prepare(ctx, JobSpec(prompt="a lantern"))
        key = client_key("retry-me", prepared)
        with pytest.raises(ProviderRateLimited):
            submit_once(ctx, prepared, key=key)
        # A 429 created nothing: the same key sends the request again.
        second = submit_once(ctx, prepared, key=key)
        assert not second.replayed
        assert second.job.status == "pending"
        assert tasks(sim) == 1
    # No answer at all: the provider may have made the task, so the key stays with the job.
    with context(
        tmp_path, RECEIVER_DATABASE_URL=database_url, EVOLINK_BASE_URL="http://127.0.0.1:9"
    ) as ctx:
        prepared = prepare(ctx, JobSpec(prompt="a boat"))
        key = client_key("unsure", prepared)
        with pytest.raises(ProviderUnavailable):
            submit_once(ctx, prepared, key=key)
        again = submit_once(ctx, prepared, key=key)
        assert again.replayed
        assert again.job.status == "submit_failed"


def test_a_batch_run_again_submits_only_what_is_new_and_fits_in_file_order(
    tmp_path: Path, database_url: str, simulator: tuple[str, httpx.Client]
) -> None:
    url, sim = simulator
    with context(
        tmp_path,
        RECEIVER_DATABASE_URL=database_url,
        EVOLINK_BASE_URL=url,
        RECEIVER_MAX_CREDITS_PER_DAY="100",
    ) as ctx:
        specs = [JobSpec(prompt=f"clip {n}") for n in range(2, 10)]
        rows = [BatchRow(line=n, spec=spec) for n, spec in enumerate(specs, 2)]
        plan = prepare_rows(ctx, rows, base_dir=tmp_path, identity="file:/b.csv")
        ready = prepare_rows(ctx, rows, base_dir=tmp_path, identity="file:/b.csv")
        report = submit_rows(ctx, ready, concurrency=8)
        # Eight jobs of 36 for 100 credits: the first two lines, whichever thread is faster,
        # and exactly the lines the plan (the dry run) named.
        submitted = [row.line for row in report.rows if row.outcome == "submitted"]
        assert submitted == [2, 3]
        assert [row.line for row in plan.rows if row.outcome == "ready"] == submitted
        assert [row.outcome for row in plan.rows] == [
            "ready" if row.line in submitted else "refused" for row in report.rows
        ]
        assert tasks(sim) == 2

        # Run again: the two submitted rows are found, nothing is sent twice.
        again = prepare_rows(ctx, rows, base_dir=tmp_path, identity="file:/b.csv")
        found = {row.line: (row.outcome, row.job_id) for row in again.rows}
        assert found[2] == ("existing", report.rows[0].job_id)
        assert found[3] == ("existing", report.rows[1].job_id)
        submit_rows(ctx, again)
        assert tasks(sim) == 2

        # Deleting a job frees no budget, and its row is not submitted again either.
        first = report.rows[0].job_id
        assert first is not None
        run_sql(ctx.db, "UPDATE jobs SET status = 'failed' WHERE id = :id", id=first)
        delete_job(ctx, first, by="test")
        budget = budget_today(ctx.db, 100)
        assert budget is not None
        assert budget.spent_today == 72.0
        third = prepare_rows(ctx, rows, base_dir=tmp_path, identity="file:/b.csv")
        assert third.rows[0].outcome == "existing"
        assert third.rows[0].status == "deleted"
        assert third.rows[0].prepared is not None
        with pytest.raises(KeyJobDeleted):
            submit_once(ctx, third.rows[0].prepared, key=third.rows[0].key)
        assert tasks(sim) == 2


def test_a_deleted_job_leaves_an_audit_and_no_rows(
    tmp_path: Path, database_url: str, simulator: tuple[str, httpx.Client]
) -> None:
    url, _ = simulator
    with context(tmp_path, RECEIVER_DATABASE_URL=database_url, EVOLINK_BASE_URL=url) as ctx:
        job = submit_once(ctx, prepare(ctx, JobSpec(prompt="a lantern"))).job
        with pytest.raises(JobNotSettled, match="is pending"):
            delete_job(ctx, job.id, by="test")
        run_sql(ctx.db, "UPDATE jobs SET status = 'failed' WHERE id = :id", id=job.id)
        deleted = delete_job(ctx, job.id, by="ann@desk", reason="a bad take")
        assert (deleted.status, deleted.object_uri) == ("failed", None)
        for table, column in (("jobs", "id"), ("events", "job_id"), ("deliveries", "job_id")):
            sql = f"SELECT * FROM {table} WHERE {column} = :id"
            assert run_sql(ctx.db, sql, id=job.id) == []
        (audit,) = run_sql(ctx.db, "SELECT * FROM deletions")
        assert (audit["job_id"], audit["deleted_by"], audit["reason"]) == (
            job.id,
            "ann@desk",
            "a bad take",
        )
        assert audit["credits"] == 36.0
        with pytest.raises(Exception, match=r"deleted already, at .* by ann@desk"):
            delete_job(ctx, job.id, by="test")
