"""``receiver submit`` and ``receiver costs`` in-process: what a person reads, and exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from PIL import Image

from receiver import logs
from receiver.cli import main
from tests.conftest import make_env

pytestmark = pytest.mark.integration


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name, value in make_env(tmp_path, RECEIVER_MAX_CREDITS_PER_DAY="50").items():
        monkeypatch.setenv(name, value)
    # In-process, main() must not reconfigure the session's logging for every later test;
    # logs still go to stderr, so stdout holds only the command's output, as in real use.
    monkeypatch.setattr(logs, "configure", lambda *args, **kwargs: None)
    before = structlog.get_config()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    yield tmp_path
    structlog.configure(**before)


def test_a_dry_run_prices_a_multi_shot_image_job(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = env / "frame.jpg"
    Image.new("RGB", (1080, 1920), (20, 20, 20)).save(frame, "JPEG")
    argv = ["submit", "A bottle.", "--image", str(frame), "--shot", "3:it turns"]
    status = main([*argv, "--shot", "3:it shines", "--quality", "1080p", "--dry-run", "--json"])
    assert status == 1  # 6 s at 1080p is 54 credits: more than the budget of 50
    plan = json.loads(capsys.readouterr().out)
    assert plan["model"] == "kling-v3-turbo-image-to-video"
    assert plan["duration"] == 6
    assert plan["credits"] == 54.0
    assert plan["prompt"] == "A bottle. shot 1, 3, it turns; shot 2, 3, it shines;"
    assert plan["within_budget"] is False

    assert main([*argv, "--dry-run"]) == 0  # 3 s at 720p: 21.6
    out = capsys.readouterr().out
    assert "kling-v3-turbo-image-to-video, 3 s at 720p: 21.6 credits" in out
    assert "0 of 50 credits spent" in out
    assert "28.4 would remain" in out


def test_bad_input_gets_a_clear_message_and_status_2(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["submit", "a fox", "--shot", "2:wakes", "--shot", "2:runs", "--duration", "5"]) == 2
    )
    assert "the shots last 2 + 2 = 4 seconds but the duration is 5" in capsys.readouterr().err
    small = env / "small.png"
    Image.new("RGB", (200, 200)).save(small, "PNG")
    assert main(["submit", "a fox", "--image", str(small), "--dry-run"]) == 2
    assert "both sides must be at least 300 px" in capsys.readouterr().err
    assert main(["submit", "--from", str(env / "missing.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_costs_with_nothing_spent(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["costs", "--by", "day"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["day", "jobs", "credits"]
    assert "today (UTC): 0 of 50 credits spent" in out


def test_a_batch_that_could_not_be_waited_for_is_not_sent(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = env / "jobs.csv"
    batch.write_text("prompt\na fox\n")
    assert main(["submit", "--from", str(batch), "--wait"]) == 2
    assert "RECEIVER_ADMIN_TOKEN: is not set" in capsys.readouterr().err
    assert not (env / "receiver.db").exists()  # nothing was recorded, so nothing was sent
