"""Every result of a task, exactly once: several videos, images, songs, and no file at all.

Jobs are submitted with the CLI (``receiver submit --model M --param n=N``) to the simulator,
which makes each model's output shape (``receiver/devtools/simulator/outputs.py``); the
receiver stores one asset per result in SeaweedFS (docs/storage.md).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Stack
from tests.e2e.test_walking_skeleton import s3_sha256

pytestmark = pytest.mark.e2e


def _submit(stack: Stack, *args: str) -> dict[str, Any]:
    return json.loads(stack.cli("submit", *args, "--json").stdout)  # type: ignore[no-any-return]


def _stored(stack: Stack, job_id: str) -> dict[str, Any]:
    job = stack.wait_for(job_id, "stored", "expired", "failed")
    assert job["status"] == "stored", job
    return job


def _check_assets(
    stack: Stack, job: dict[str, Any], count: int, content_type: str, extension: str
) -> None:
    assets = job["assets"]
    assert [a["result_index"] for a in assets] == list(range(count))
    assert job["asset"] == assets[0]
    assert len({a["key"] for a in assets}) == count
    assert len({a["sha256"] for a in assets}) == count
    for index, asset in enumerate(assets):
        assert asset["content_type"] == content_type
        assert asset["key"].endswith(f"/{job['id']}/{index}.{extension}")
        assert s3_sha256(stack, asset["bucket"], asset["key"]) == asset["sha256"]
    # One event, and so one notification, for the job: every file listed.
    stored = [e for e in job["events"] if e["type"] == "asset.stored"]
    assert len(stored) == 1
    assert [a["key"] for a in stored[0]["data"]["assets"]] == [a["key"] for a in assets]


def test_a_video_job_with_two_results_stores_two_videos(stack: Stack) -> None:
    stack.simulator("PATCH", "/_simulator/config", json={"duplicate_callbacks": 2})
    submitted = _submit(stack, "a fox", "--model", "veo-3.1-generate-preview", "--param", "n=2")
    job = _stored(stack, submitted["id"])
    _check_assets(stack, job, 2, "video/mp4", "mp4")
    assert all(a["width"] == 320 and a["height"] == 180 for a in job["assets"])
    stats = stack.simulator("GET", "/_simulator/stats")["tasks"][job["task_id"]]
    # Exactly once under duplicate callbacks: each file downloaded once, stored once.
    assert stats["downloads"] == 1
    assert stats["media_downloads"] == {"1": 1}
    outcomes = [d["outcome"] for d in job["deliveries"]]
    assert outcomes.count("accepted") == 1
    assert outcomes.count("duplicate") >= 2


# The per-result leases and claims are proven on both engines by the two-video test and
# tests/integration/test_archive_results.py; the other kinds on SQLite keep the suite's budget.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_image_job_with_four_images_stores_four_pngs(stack: Stack) -> None:
    submitted = _submit(stack, "a lighthouse", "--model", "gpt-image-2", "--param", "n=4")
    job = _stored(stack, submitted["id"])
    _check_assets(stack, job, 4, "image/png", "png")
    assert [(a["width"], a["height"]) for a in job["assets"]] == [
        (16 + index, 8 + index) for index in range(4)
    ]


# The per-result leases and claims are proven on both engines by the two-video test and
# tests/integration/test_archive_results.py; the other kinds on SQLite keep the suite's budget.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_suno_job_stores_every_song_of_its_result_data(stack: Stack) -> None:
    submitted = _submit(stack, "a sea shanty", "--model", "suno-v5-beta")
    job = _stored(stack, submitted["id"])
    _check_assets(stack, job, 2, "audio/mpeg", "mp3")
    assert all(a["duration_seconds"] and a["duration_seconds"] > 0.3 for a in job["assets"])
    # The songs' other fields are kept with the job, their links taken out.
    songs = job["result_data"]["songs"]
    assert [song["title"] for song in songs] == ["Song 1", "Song 2"]
    assert all("audio_url" not in song for song in songs)


# The per-result leases and claims are proven on both engines by the two-video test and
# tests/integration/test_archive_results.py; the other kinds on SQLite keep the suite's budget.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_suno_link_lives_72_hours(stack: Stack) -> None:
    submitted = _submit(stack, "a lullaby", "--model", "suno-v5-beta")
    job = _stored(stack, submitted["id"])
    completed = next(e for e in job["events"] if e["type"] == "job.completed")
    created = datetime.fromisoformat(completed["created_at"].replace("Z", "+00:00"))
    # The model's documented lifetime (and the link's own expiry, the same), not 24 h.
    deadline = _archive_deadline(stack, job["id"])
    assert timedelta(hours=71) < deadline - created <= timedelta(hours=72, minutes=1)


def _archive_deadline(stack: Stack, job_id: str) -> datetime:
    from receiver.store.archive_tasks import ArchiveTasks
    from receiver.store.database import open_database

    db = open_database(stack.env["RECEIVER_DATABASE_URL"])
    try:
        with db.reading() as conn:
            tasks = ArchiveTasks(conn).for_job(job_id)
    finally:
        db.close()
    assert len(tasks) == 2
    return tasks[0].deadline_at


# The per-result leases and claims are proven on both engines by the two-video test and
# tests/integration/test_archive_results.py; the other kinds on SQLite keep the suite's budget.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_task_with_no_file_completes_with_its_result_data(stack: Stack) -> None:
    submitted = _submit(
        stack,
        "--model",
        "kling-custom-element",
        "--param",
        "model_params.element_name=hero",
        "--param",
        "model_params.element_description=our hero",
        "--param",
        "model_params.reference_type=image_refer",
        "--param",
        "model_params.element_image_list="
        + json.dumps(
            {
                "frontal_image": "https://example.com/f.png",
                "refer_images": [{"image_url": "https://example.com/r.png"}],
            }
        ),
    )
    job = _stored(stack, submitted["id"])
    assert job["asset"] is None
    assert job["assets"] == []
    assert job["result_data"]["element_id"].startswith("element-")


# Saving is the same code whatever the engine: SQLite keeps the suite's budget.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_cli_saves_every_image_of_a_job_into_a_directory(stack: Stack, tmp_path: Path) -> None:
    into = tmp_path / "images"
    # submit --wait --download DIR/: every file, as DIR/<job id>/<n>.<ext>, paths on stdout.
    done = stack.cli(
        "submit", "a lighthouse", "--model", "gpt-image-2", "--param", "n=3",
        "--wait", "--download", f"{into}/",
    )  # fmt: skip
    (job_dir,) = into.iterdir()
    job = stack.show(job_dir.name)
    paths = [job_dir / f"{index}.png" for index in range(3)]
    assert done.stdout.splitlines() == [str(path) for path in paths]
    for path, asset in zip(paths, job["assets"], strict=True):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == asset["sha256"]
    assert sorted(p.name for p in job_dir.iterdir()) == ["0.png", "1.png", "2.png"]

    # A file path cannot hold three files: refused before anything is downloaded.
    single = tmp_path / "one.png"
    for command in (["wait", job["id"], "--download"], ["download", job["id"], "--to"]):
        refused = stack.cli(*command, str(single), check=False)
        assert refused.returncode == 2, refused.stderr
        assert f"job {job['id']} has 3 files" in refused.stderr
        assert "directory" in refused.stderr
        assert not single.exists()
        assert not list(tmp_path.glob("*.partial"))

    # receiver download JOB --to DIR, again: each file saved over, checked again;
    # --json lists each one.
    listed = json.loads(stack.cli("download", job["id"], "--to", str(into), "--json").stdout)
    assert [f["path"] for f in listed["files"]] == [str(path) for path in paths]
    assert [f["result_index"] for f in listed["files"]] == [0, 1, 2]
    assert [f["sha256"] for f in listed["files"]] == [a["sha256"] for a in job["assets"]]
    assert listed["path"] == str(paths[0])

    # wait --json: every file and its link, and where each was saved.
    waited = json.loads(
        stack.cli("wait", job["id"], "--json", "--download", f"{tmp_path}/again/").stdout
    )
    assert [a["key"] for a in waited["assets"]] == [a["key"] for a in job["assets"]]
    assert len(waited["video_urls"]) == 3
    assert waited["video_urls"][0] == waited["video_url"]
    assert waited["saved"] == [str(tmp_path / "again" / job["id"] / f"{n}.png") for n in range(3)]
    for url, asset in zip(waited["video_urls"], job["assets"], strict=True):
        assert hashlib.sha256(httpx.get(url, timeout=30).content).hexdigest() == asset["sha256"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_file_path_for_several_files_is_refused_before_paying(
    stack: Stack, tmp_path: Path
) -> None:
    before = stack.simulator("GET", "/_simulator/stats")["tasks"]
    for model_args in (["gpt-image-2", "--param", "n=4"], ["suno-v5-beta"]):
        refused = stack.cli(
            "submit",
            "a lighthouse",
            "--model",
            *model_args,
            "--wait",
            "--download",
            str(tmp_path / "one-file.png"),
            check=False,
        )
        assert refused.returncode == 2, refused.stderr
        assert "save them in a directory" in refused.stderr
    assert stack.simulator("GET", "/_simulator/stats")["tasks"] == before
    assert not (tmp_path / "one-file.png").exists()
