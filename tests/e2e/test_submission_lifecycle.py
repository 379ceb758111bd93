"""Issue 19 through the shipped commands: idempotency keys on the CLI and the API, a batch
file run twice, its budget in file order, broken CSV refused, an image job's aspect ratio."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.e2e.conftest import ADMIN_TOKEN, Stack

pytestmark = pytest.mark.e2e

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def task_count(stack: Stack) -> int:
    return len(stack.simulator("GET", "/_simulator/stats")["tasks"])


def post_job(stack: Stack, body: dict[str, Any], key: str) -> httpx.Response:
    headers = {**AUTH, "Idempotency-Key": key}
    return httpx.post(f"{stack.receiver_url}/v1/jobs", json=body, headers=headers, timeout=30)


# One engine end to end: the core runs on both in tests/integration/test_idempotency.py.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_idempotency_keys_on_the_cli_and_the_api_and_an_image_jobs_aspect(
    stack: Stack, tmp_path: Path
) -> None:
    first = json.loads(
        stack.cli("submit", "a lantern", "--idempotency-key", "o-17", "--json").stdout
    )
    again = stack.cli("submit", "a lantern", "--idempotency-key", "o-17", "--json")
    assert json.loads(again.stdout)["id"] == first["id"]
    assert "seen before" in again.stderr
    assert task_count(stack) == 1
    other = stack.cli("submit", "a kite", "--idempotency-key", "o-17", check=False)
    assert other.returncode == 1
    assert "'o-17' was used for a different request" in other.stderr
    assert task_count(stack) == 1

    # Two identical POSTs at once: one job, one 201, one 200 that says it is a replay.
    answers: list[httpx.Response] = []
    start = threading.Barrier(2)

    def post() -> None:
        start.wait()
        answers.append(post_job(stack, {"prompt": "a heron"}, "api-1"))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [200, 201]
    assert len({answer.json()["id"] for answer in answers}) == 1
    replay = next(answer for answer in answers if answer.status_code == 200)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert task_count(stack) == 2
    conflict = post_job(stack, {"prompt": "a heron", "duration": 7}, "api-1")
    assert conflict.status_code == 409
    assert conflict.json()["error"] == "idempotency_conflict"
    # The CLI and the API share one core: the API's key finds the API's job.
    shared = json.loads(
        stack.cli("submit", "a heron", "--idempotency-key", "api-1", "--json").stdout
    )
    assert shared["id"] == replay.json()["id"]
    assert task_count(stack) == 2

    # A portrait first frame: the job records the frame's aspect, not the text default.
    frame = tmp_path / "portrait.png"
    Image.new("RGB", (720, 1280), (200, 120, 40)).save(frame, "PNG")
    job = json.loads(stack.cli("submit", "a tower", "--image", str(frame), "--json").stdout)
    assert (job["params"]["aspect_ratio"], job["params"]["frame"]) == ("9:16", "720x1280")
    wrong = stack.cli(
        "submit", "a tower", "--image", str(frame), "--aspect-ratio", "16:9", check=False
    )
    assert wrong.returncode == 2
    assert "720x1280 (9:16)" in wrong.stderr


def batch(folder: Path, first_prompt: str = "clip 2") -> Path:
    path = folder / "ads.csv"
    path.write_text(
        "prompt,duration,quality\n"
        f"{first_prompt},5,\n"  # 36
        "clip 3,5,1080p\n"  # 45
        ",,\n"  # every cell empty: skipped, and listed
        "clip 5,5,\n"  # 36
        "clip 6,3,\n"  # 21.6
    )
    return path


def run_batch(stack: Stack, path: Path, *args: str, budget: str) -> tuple[int, dict[int, Any]]:
    stack.env["RECEIVER_MAX_CREDITS_PER_DAY"] = budget
    try:
        result = stack.cli("submit", "--from", str(path), "--json", *args, check=False)
    finally:
        del stack.env["RECEIVER_MAX_CREDITS_PER_DAY"]
    assert result.returncode in {0, 1}, result.stderr
    report = json.loads(result.stdout)
    return result.returncode, {row["line"]: row for row in report["rows"]}


def outcomes(rows: dict[int, Any]) -> dict[int, str]:
    return {line: row["outcome"] for line, row in rows.items()}


# One engine end to end: the core runs on both in tests/integration/test_idempotency.py.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_batch_run_twice_held_to_its_budget_in_file_order(stack: Stack, tmp_path: Path) -> None:
    path = batch(tmp_path)
    # 110 credits: 36 + 45 fit, the next 36 does not (29 left), 21.6 does.
    expected = {2: "ready", 3: "ready", 4: "skipped", 5: "refused", 6: "ready"}
    code, dry = run_batch(stack, path, "--dry-run", budget="110")
    assert (code, outcomes(dry)) == (1, expected)
    assert dry[4]["note"] == "every cell is empty"
    assert "go to the rows above it" in dry[5]["error"]
    assert task_count(stack) == 0
    code, real = run_batch(stack, path, "--concurrency", "4", budget="110")
    submitted = {line: "submitted" if o == "ready" else o for line, o in expected.items()}
    assert (code, outcomes(real)) == (1, submitted)
    assert task_count(stack) == 3

    # The same file again, with room for the refused row: only that row is sent.
    code, rerun = run_batch(stack, path, budget="1000")
    assert code == 0
    assert outcomes(rerun) == {
        2: "existing",
        3: "existing",
        4: "skipped",
        5: "submitted",
        6: "existing",
    }
    assert all(rerun[line]["job_id"] == real[line]["job_id"] for line in (2, 3, 6))
    assert task_count(stack) == 4

    # An edited row is a new job; the others are still found.
    code, edited = run_batch(stack, batch(tmp_path, "clip 2 brighter"), budget="1000")
    assert code == 0
    assert outcomes(edited)[2] == "submitted"
    assert edited[2]["job_id"] != real[2]["job_id"]
    assert [edited[line]["outcome"] for line in (3, 5, 6)] == ["existing"] * 3
    assert task_count(stack) == 5

    # A forgotten closing quote: the file is refused, naming the line, and nothing is sent.
    broken = tmp_path / "broken.csv"
    broken.write_text('prompt,duration\nclip a,5\n"clip b, a shot,5\n"clip c",5\nclip d,5\n')
    refused = stack.cli("submit", "--from", str(broken), check=False)
    assert refused.returncode == 2
    assert "line 3:" in refused.stderr
    assert "closing quote" in refused.stderr
    assert task_count(stack) == 5
