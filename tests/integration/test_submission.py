"""Submitting with real parts: images staged in SeaweedFS, the budget and the cost report on
both databases, 429s honoured, against the provider simulator."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image

from receiver import clock
from receiver.config import Settings
from receiver.context import Context
from receiver.devtools.seaweed import SeaweedFS
from receiver.devtools.simulator import SimulatorConfig, create_app
from receiver.errors import ConfigError, ProviderError, ProviderRateLimited
from receiver.submission import cost
from receiver.submission.budget import BudgetExceeded, BudgetUnpriced, budget_today
from receiver.submission.images import check_image, stage_image
from receiver.submission.pacing import Pacer
from receiver.submission.spec import JobSpec, prepare, submit_prepared
from tests.conftest import make_env, run_sql, s3_env
from tests.servers import run_server

pytestmark = pytest.mark.integration

#: Tasks that never finish during a test: only the create answers matter here.
SIMULATOR = SimulatorConfig(delay=600, allow_http_callbacks=True, allow_private_callbacks=True)


@pytest.fixture
def simulator() -> Iterator[tuple[str, httpx.Client]]:
    with run_server(create_app(SIMULATOR)) as url, httpx.Client(base_url=url) as client:
        yield url, client


def context(tmp_path: Path, **env: str) -> Context:
    return Context(Settings.from_env(make_env(tmp_path, **env)))


def test_a_local_image_is_staged_once_and_served_by_its_presigned_url(
    tmp_path: Path, seaweedfs: SeaweedFS
) -> None:
    path = tmp_path / "frame.png"
    Image.new("RGB", (640, 360), (10, 120, 200)).save(path, "PNG")
    with context(tmp_path, **s3_env(seaweedfs)) as ctx:
        ctx.store.ensure_bucket()
        image = check_image(path)
        first = stage_image(ctx.store, image, prefix="inputs/", expires_in=600)
        again = stage_image(ctx.store, image, prefix="inputs/", expires_in=600)
        assert first.key == again.key == f"inputs/{image.sha256}.png"
        assert first.uri == f"s3://{ctx.settings.s3_bucket}/{first.key}"
        fetched = httpx.get(first.url, timeout=10)
        assert fetched.status_code == 200
        assert fetched.content == path.read_bytes()
        head = ctx.store.head(first.key)
        assert head is not None
        assert head["ContentType"] == "image/png"
        assert ctx.store.open_uploads("inputs/") == []
        # Without the signature the bucket refuses: the URL itself is the permission.
        assert httpx.get(first.url.split("?")[0], timeout=10).status_code == 403


def test_an_image_job_records_where_its_frame_lives_not_the_signed_url(
    tmp_path: Path, seaweedfs: SeaweedFS, simulator: tuple[str, httpx.Client]
) -> None:
    path = tmp_path / "frame.jpg"
    Image.new("RGB", (720, 1280), (240, 200, 10)).save(path, "JPEG")
    url, sim = simulator
    # The simulator fetches each first frame at create, as the provider will.
    sim.patch("/_simulator/config", json={"fetch_images": True})
    with context(tmp_path, **s3_env(seaweedfs), EVOLINK_BASE_URL=url) as ctx:
        ctx.store.ensure_bucket()
        prepared = prepare(ctx, JobSpec(prompt="the sun rises", image=str(path)))
        assert prepared.request.model == "kling-v3-turbo-image-to-video"
        staged = stage_image(ctx.store, check_image(path), prefix="inputs/", expires_in=600)
        forged = staged.url.replace("Signature=", "Signature=0")
        with pytest.raises(ProviderError, match="image_start: fetching the image answered 403"):
            submit_prepared(
                ctx,
                dataclasses.replace(
                    prepared,
                    image=None,
                    request=dataclasses.replace(prepared.request, image_url=forged),
                ),
            )
        job = submit_prepared(ctx, prepared)
        assert job.params["image"].startswith(f"s3://{ctx.settings.s3_bucket}/inputs/")
        assert job.params["image"].endswith(".jpg")
        assert "image_url" not in job.params
        assert "Signature" not in json.dumps(job.params)


def test_the_budget_refuses_what_does_not_fit_and_costs_add_up(
    tmp_path: Path, database_url: str, simulator: tuple[str, httpx.Client]
) -> None:
    url, sim = simulator
    # 36 (5 s, 720p) + 45 (5 s, 1080p) + 21.6 (3 s, 720p) = 102.6: exactly the limit.
    ctx = context(
        tmp_path,
        RECEIVER_DATABASE_URL=database_url,
        EVOLINK_BASE_URL=url,
        RECEIVER_MAX_CREDITS_PER_DAY="102.6",
    )
    try:
        five = submit_prepared(ctx, prepare(ctx, JobSpec(prompt="a lantern")))
        hd = submit_prepared(ctx, prepare(ctx, JobSpec(prompt="a kite", quality="1080p")))
        assert (five.credits_reserved, hd.credits_reserved) == (36.0, 45.0)
        short = prepare(ctx, JobSpec(prompt="a boat", duration=3))
        assert short.credits == 21.6
        submit_prepared(ctx, short)
        with pytest.raises(BudgetExceeded) as refused:
            submit_prepared(ctx, prepare(ctx, JobSpec(prompt="one more", duration=3)))
        assert "102.6 of today's 102.6" in refused.value.message
        assert "RECEIVER_MAX_CREDITS_PER_DAY" in refused.value.message
        # Refused before anything was recorded or sent.
        assert len(run_sql(ctx.db, "SELECT id FROM jobs")) == 3
        assert len(sim.get("/_simulator/stats").json()["tasks"]) == 3

        since = clock.now() - timedelta(days=1)
        (by_model,) = cost.spending(ctx, since=since, by="model")
        assert (by_model.key, by_model.jobs, by_model.credits) == (
            "kling-v3-turbo-text-to-video",
            3,
            102.6,
        )
        assert by_model.estimated_jobs == 0
        (by_day,) = cost.spending(ctx, since=since, by="day")
        assert by_day.key == clock.now().strftime("%Y-%m-%d")
        assert by_day.credits == 102.6
    finally:
        ctx.close()


def test_a_refused_submission_costs_nothing_and_an_unconfirmed_one_its_estimate(
    tmp_path: Path, database_url: str, simulator: tuple[str, httpx.Client]
) -> None:
    url, sim = simulator
    with context(tmp_path, RECEIVER_DATABASE_URL=database_url, EVOLINK_BASE_URL=url) as ctx:
        sim.patch("/_simulator/config", json={"rate_limit_next": 1})
        with pytest.raises(ProviderRateLimited):
            submit_prepared(ctx, prepare(ctx, JobSpec(prompt="too soon")))
        job = submit_prepared(ctx, prepare(ctx, JobSpec(prompt="a lantern", duration=4)))
        # As if the provider's answer had carried no usage: our estimate stands in.
        run_sql(ctx.db, "UPDATE jobs SET credits_reserved = NULL WHERE id = :id", id=job.id)
        (line,) = cost.spending(ctx, since=clock.now() - timedelta(hours=1))
        assert (line.jobs, line.credits, line.estimated_jobs) == (1, 28.8, 1)


def test_429s_are_retried_for_the_same_job(
    tmp_path: Path, database_url: str, simulator: tuple[str, httpx.Client]
) -> None:
    url, sim = simulator
    with context(tmp_path, RECEIVER_DATABASE_URL=database_url, EVOLINK_BASE_URL=url) as ctx:
        sim.patch("/_simulator/config", json={"rate_limit_next": 2})
        pacer = Pacer(max_pause=0.05)
        job = submit_prepared(ctx, prepare(ctx, JobSpec(prompt="patience")), pacer=pacer)
        assert job.status == "pending"
        assert pacer.rate_limited == 2
        assert len(run_sql(ctx.db, "SELECT id FROM jobs")) == 1
        types = [row["type"] for row in run_sql(ctx.db, "SELECT type FROM events ORDER BY seq")]
        assert types == ["job.submitted"]


def test_the_jobs_api_takes_shots_dry_runs_and_reports_costs(
    tmp_path: Path, database_url: str, simulator: tuple[str, httpx.Client]
) -> None:
    from receiver.runtime import web_app

    token = "admin-token-for-tests-0123456789"
    ctx = context(
        tmp_path,
        RECEIVER_DATABASE_URL=database_url,
        EVOLINK_BASE_URL=simulator[0],
        RECEIVER_ADMIN_TOKEN=token,
        RECEIVER_MAX_CREDITS_PER_DAY="80",
        # Never used to send: Kling's job is refused by the budget before that.
        KLING_ACCESS_KEY="ak-never-sent",
        KLING_SECRET_KEY="sk-never-sent-" + "s" * 24,
    )
    auth = {"Authorization": f"Bearer {token}"}
    try:
        with (
            run_server(web_app(ctx, archive=False)) as base,
            httpx.Client(base_url=base, headers=auth, timeout=10) as api,
        ):
            shots = {"prompt": "A fox.", "shots": ["2:it wakes", {"seconds": 4, "text": "it runs"}]}
            estimate = api.post("/v1/jobs", json={**shots, "quality": "1080p", "dry_run": True})
            assert estimate.status_code == 200
            assert estimate.json() == {
                "dry_run": True,
                "provider": "evolink",
                "model": "kling-v3-turbo-text-to-video",
                "prompt": "A fox. shot 1, 2, it wakes; shot 2, 4, it runs;",
                "duration": 6,
                "quality": "1080p",
                "credits": 54.0,  # 6 s x 7.2 x 1.25
                "budget": {"limit": 80.0, "spent_today": 0.0, "remaining": 80.0},
                "within_budget": True,
            }
            assert run_sql(ctx.db, "SELECT id FROM jobs") == []

            bad_sum = api.post("/v1/jobs", json={**shots, "duration": 5})
            assert bad_sum.status_code == 400
            assert bad_sum.json()["field"] == "shot"
            # Digits int() cannot read are the caller's mistake, named as such.
            for body, field in (
                ({"prompt": "x", "shots": ["\u00b2:a"]}, "shot"),
                ({"prompt": "x", "duration": "\u00b3"}, "duration"),
            ):
                answer = api.post("/v1/jobs", json=body)
                assert answer.status_code == 400
                assert (answer.json()["error"], answer.json()["field"]) == (
                    "invalid_request",
                    field,
                )
            not_json = api.post("/v1/jobs", content=b"{prompt")
            assert not_json.status_code == 400
            assert not_json.json()["message"] == "the body must be a JSON object"
            unpriced = api.post(
                "/v1/jobs", json={"prompt": "x", "provider": "kling", "model": "kling-v2-6"}
            )
            assert unpriced.status_code == 402
            assert unpriced.json()["error"] == "budget_unpriced"
            local = api.post("/v1/jobs", json={"prompt": "x", "image_url": "/etc/hosts"})
            assert local.status_code == 400
            assert local.json()["field"] == "image_url"

            created = api.post("/v1/jobs", json=shots)  # 6 s at 720p: 43.2
            assert created.status_code == 201
            assert created.json()["credits_reserved"] == 43.2
            fits = api.post("/v1/jobs", json={"prompt": "a lantern"})  # 36 more: 79.2
            assert fits.status_code == 201
            refused = api.post("/v1/jobs", json={"prompt": "one more", "duration": 3})
            assert refused.status_code == 402
            assert refused.json()["error"] == "budget_exceeded"

            spent = api.get("/v1/costs", params={"by": "day"}).json()
            assert spent["total_credits"] == 79.2
            assert spent["unpriced_jobs"] == 0
            assert spent["groups"][0]["jobs"] == 2
            assert spent["budget"]["remaining"] == 0.8
            assert api.get("/v1/costs", params={"by": "colour"}).status_code == 400
    finally:
        ctx.close()


def test_a_batch_racing_for_the_last_credits_spends_no_more_than_the_budget(
    tmp_path: Path, database_url: str, simulator: tuple[str, httpx.Client]
) -> None:
    from receiver.submission.batch import prepare_rows, submit_rows
    from receiver.submission.rows import BatchRow

    ctx = context(
        tmp_path,
        RECEIVER_DATABASE_URL=database_url,
        EVOLINK_BASE_URL=simulator[0],
        RECEIVER_MAX_CREDITS_PER_DAY="100",
    )
    try:
        rows = [BatchRow(line=n, spec=JobSpec(prompt=f"clip {n}")) for n in range(2, 10)]
        report = prepare_rows(ctx, rows, base_dir=tmp_path)
        submit_rows(ctx, report, concurrency=8)
        # Eight jobs of 36 credits race for a budget of 100: exactly two fit.
        assert report.count("submitted") == 2
        refused = [row for row in report.rows if row.outcome == "refused"]
        assert len(refused) == 6
        assert all("RECEIVER_MAX_CREDITS_PER_DAY" in (row.error or "") for row in refused)
        assert len(run_sql(ctx.db, "SELECT id FROM jobs")) == 2
    finally:
        ctx.close()


def test_the_providers_reserved_credits_count_not_our_estimate(
    tmp_path: Path, database_url: str, simulator: tuple[str, httpx.Client]
) -> None:
    url, sim = simulator
    # The provider reserves half the documented price: 18 credits for a 5 s job, not 36.
    sim.patch("/_simulator/config", json={"reserved_credits_factor": 0.5})
    ctx = context(
        tmp_path,
        RECEIVER_DATABASE_URL=database_url,
        EVOLINK_BASE_URL=url,
        RECEIVER_MAX_CREDITS_PER_DAY="60",
    )
    try:
        first = submit_prepared(ctx, prepare(ctx, JobSpec(prompt="a lantern")))
        assert first.credits_reserved == 18.0
        # 18 spent + 36 estimated = 54 fits in 60; counted at our estimate, 72 would not.
        second = submit_prepared(ctx, prepare(ctx, JobSpec(prompt="a kite")))
        assert second.credits_reserved == 18.0
        budget = budget_today(ctx.db, 60)
        assert budget is not None
        assert budget.spent_today == 36.0
        (line,) = cost.spending(ctx, since=clock.now() - timedelta(hours=1))
        assert (line.jobs, line.credits, line.estimated_jobs) == (2, 36.0, 0)
        # The provider's figure is what the budget holds the next job against: 36 + 36 > 60.
        with pytest.raises(BudgetExceeded, match="36 of today's 60"):
            submit_prepared(ctx, prepare(ctx, JobSpec(prompt="a boat")))
    finally:
        ctx.close()


def test_a_refused_image_job_leaves_no_object_in_the_bucket(
    tmp_path: Path, seaweedfs: SeaweedFS, simulator: tuple[str, httpx.Client]
) -> None:
    path = tmp_path / "frame.png"
    Image.new("RGB", (640, 360), (90, 10, 10)).save(path, "PNG")
    key = f"inputs/{check_image(path).sha256}.png"
    over_budget = context(
        tmp_path,
        **s3_env(seaweedfs),
        EVOLINK_BASE_URL=simulator[0],
        RECEIVER_MAX_CREDITS_PER_DAY="20",
    )
    no_key = context(
        tmp_path,
        **s3_env(seaweedfs),
        RECEIVER_S3_BUCKET=over_budget.settings.s3_bucket,
        EVOLINK_API_KEY="",
    )
    try:
        over_budget.store.ensure_bucket()
        spec = JobSpec(prompt="the sun rises", image=str(path), duration=3)  # 21.6 > 20
        with pytest.raises(BudgetExceeded):
            submit_prepared(over_budget, prepare(over_budget, spec))
        with pytest.raises(ConfigError, match="EVOLINK_API_KEY"):
            submit_prepared(no_key, prepare(no_key, spec))
        assert over_budget.store.head(key) is None
        assert sim_tasks(simulator[1]) == 0
    finally:
        over_budget.close()
        no_key.close()


def sim_tasks(sim: httpx.Client) -> int:
    return len(sim.get("/_simulator/stats").json()["tasks"])


def test_the_budgets_own_check_refuses_a_job_without_a_price(
    tmp_path: Path, database_url: str
) -> None:
    from receiver.jobs import submit_job
    from receiver.providers.base import JobRequest

    ctx = context(
        tmp_path,
        RECEIVER_DATABASE_URL=database_url,
        RECEIVER_MAX_CREDITS_PER_DAY="1000",
        KLING_ACCESS_KEY="ak-never-sent",
        KLING_SECRET_KEY="sk-never-sent-" + "s" * 24,
    )
    try:
        request = JobRequest(prompt="a heron", model="kling-v2-6")
        # The check inside the transaction, for callers that skip submit_prepared's.
        with pytest.raises(BudgetUnpriced, match="no price in credits"):
            submit_job(ctx, request, provider_name="kling")
        assert run_sql(ctx.db, "SELECT id FROM jobs") == []
    finally:
        ctx.close()
