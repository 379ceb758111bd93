"""A batch from a CSV file to stored videos: invalid rows, injected 429s, costs, --wait."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

#: Line number -> what is wrong with that row of the file below.
INVALID = {
    8: "duration: must be between 3 and 15 seconds, got 20",
    13: "the shots last 2 + 2 = 4 seconds but the duration is 5",
    19: "cannot read",
    27: "quality: must be one of 720p, 1080p, got '4k'",
}


def batch_file(folder: Path) -> tuple[Path, float]:
    """30 rows (26 valid, 4 invalid) and what the valid ones cost, summed by hand."""
    Image.new("RGB", (960, 540), (30, 90, 160)).save(folder / "frame.png", "PNG")
    rows = ["prompt,duration,quality,shots,image"]
    for line in range(2, 32):
        if line == 8:
            rows.append(f"clip {line},20,,,")
        elif line == 13:
            rows.append(f"clip {line},5,,2:the door opens; 2:light floods in,")
        elif line == 19:
            rows.append(f"clip {line},5,,,missing.png")
        elif line == 27:
            rows.append(f"clip {line},5,4k,,")
        elif line in {3, 4, 5}:
            rows.append(f"clip {line},5,1080p,,")  # 45 credits each
        elif line in {10, 11}:
            rows.append(f"clip {line},,,2:the door opens; 3:light floods in,")  # 5 s: 36
        elif line == 30:
            rows.append(f"clip {line},4,,,frame.png")  # image-to-video, 4 s: 28.8
        else:
            rows.append(f'"clip {line}, a product shot",5,,,')  # 36 each
    path = folder / "ads.csv"
    path.write_text("\n".join(rows) + "\n")
    # 20 rows at 36, 3 at 45, 2 multi-shot at 36, one image row at 28.8.
    return path, 20 * 36 + 3 * 45 + 2 * 36 + 28.8


def run(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "receiver", *args],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_a_batch_from_a_csv_to_stored_videos(stack: Stack, tmp_path: Path) -> None:
    path, expected_credits = batch_file(tmp_path)

    dry = run(stack, "submit", "--from", str(path), "--dry-run", "--json")
    assert dry.returncode == 1, dry.stderr  # some rows are invalid
    plan = json.loads(dry.stdout)
    assert plan["dry_run"] is True
    assert (plan["ready"], plan["invalid"]) == (26, 4)
    assert plan["credits"] == pytest.approx(expected_credits)
    assert stack.simulator("GET", "/_simulator/stats")["tasks"] == {}

    # Five 429s to honour, and first frames fetched at create as the provider does.
    stack.simulator(
        "PATCH", "/_simulator/config", json={"rate_limit_next": 5, "fetch_images": True}
    )
    result = run(stack, "submit", "--from", str(path), "--concurrency", "4", "--wait", "--json")
    assert result.returncode == 1, result.stderr  # the invalid rows
    report = json.loads(result.stdout)
    rows: dict[int, dict[str, Any]] = {row["line"]: row for row in report["rows"]}
    assert sorted(rows) == list(range(2, 32))
    for line, problem in INVALID.items():
        assert rows[line]["outcome"] == "invalid"
        assert problem in rows[line]["error"]
        assert rows[line]["job_id"] is None
    stored = [row for row in rows.values() if row["outcome"] == "stored"]
    assert len(stored) == 26
    assert all(row["uri"].startswith("s3://") for row in stored)
    assert report["rate_limited"] >= 5
    assert report["credits"] == pytest.approx(expected_credits)
    assert stack.simulator("GET", "/_simulator/config")["rate_limit_next"] == 0

    # Every valid row made exactly one task, and every task's video is the one stored.
    tasks = stack.simulator("GET", "/_simulator/stats")["tasks"]
    assert len(tasks) == 26
    jobs = [json.loads(line) for line in stack.cli("jobs", "--json").stdout.splitlines()]
    assert sorted(job["id"] for job in jobs) == sorted(row["job_id"] for row in stored)
    for job in jobs:
        assert job["status"] == "stored"
        assert job["asset"]["sha256"] == tasks[job["task_id"]]["sha256"]
    image_job = stack.show(rows[30]["job_id"])
    assert image_job["model"] == "kling-v3-turbo-image-to-video"
    assert image_job["params"]["image"].startswith("s3://")

    costs = json.loads(stack.cli("costs", "--json").stdout)
    assert costs["total_credits"] == pytest.approx(expected_credits)
    by_model = {group["model"]: group for group in costs["groups"]}
    assert by_model["kling-v3-turbo-image-to-video"]["credits"] == pytest.approx(28.8)
    assert by_model["kling-v3-turbo-text-to-video"]["jobs"] == 25
