"""``receiver submit`` and ``receiver costs`` in-process: what a person reads, and exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import structlog
from PIL import Image

from receiver import logs
from receiver.cli import main
from receiver.devtools.simulator import SimulatorConfig, create_app
from tests.conftest import make_env
from tests.servers import run_server

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


def test_digits_python_cannot_read_get_a_message_not_a_traceback(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["submit", "--shot", "\u00b2:a", "--dry-run"]) == 2
    assert "expected SECONDS:TEXT" in capsys.readouterr().err
    batch = env / "jobs.csv"
    batch.write_text("prompt,shots,duration\nx,\u00b2:a,\na fox,,\u00b3\na kite,,3\n")
    assert main(["submit", "--from", str(batch), "--dry-run"]) == 1  # invalid rows
    out = capsys.readouterr().out
    assert "line 2     invalid" in out
    assert "line 3     invalid" in out
    assert "line 4     ready" in out  # the good row is still judged and priced
    assert "3 rows: 1 ready, 2 invalid; would cost 21.6 credits" in out


@pytest.mark.parametrize("since", ["1000000d", "99999999999d"])
def test_a_period_too_long_is_a_usage_error(
    env: Path, capsys: pytest.CaptureFixture[str], since: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["costs", "--since", since])
    assert exited.value.code == 2
    assert "too long: at most 36500d" in capsys.readouterr().err


def test_the_image_option_is_read_from_here_and_image_cells_from_the_batch_folder(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(env)
    Image.new("RGB", (640, 360)).save(env / "here.png", "PNG")
    folder = env / "batches"
    folder.mkdir()
    Image.new("RGB", (360, 640)).save(folder / "there.png", "PNG")
    batch = folder / "jobs.csv"
    batch.write_text("prompt,image\na fox,\na kite,there.png\n")
    argv = ["submit", "--from", str(batch), "--image", "here.png", "--duration", "3"]
    assert main([*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "2 rows: 2 ready; would cost 43.2 credits" in out
    # Not the other way round: the option is not looked for next to the batch file.
    (env / "here.png").rename(folder / "here.png")
    assert main([*argv, "--dry-run"]) == 1
    assert f"cannot read {env / 'here.png'}" in capsys.readouterr().out


def test_an_empty_image_option_is_refused(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["submit", "a fox", "--image", "", "--dry-run"]) == 2
    assert "image: is empty" in capsys.readouterr().err
    batch = env / "jobs.csv"
    batch.write_text("prompt\na fox\n")
    assert main(["submit", "--from", str(batch), "--image", " ", "--dry-run"]) == 2
    assert "--image: is empty" in capsys.readouterr().err


def test_comment_lines_show_in_the_summary(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    batch = env / "jobs.csv"
    batch.write_text('prompt\n#hashtag trends video\n"#hashtag trends, quoted"\n')
    assert main(["submit", "--from", str(batch), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "line 2     skipped" in out
    assert "comment: #hashtag trends video" in out
    assert "line 3     ready" in out
    assert "2 rows: 1 ready, 1 skipped; would cost 36 credits" in out


def test_a_kling_model_without_a_price_does_not_fit_a_budget(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["submit", "a heron", "--provider", "kling", "--dry-run"]
    assert main([*argv, "--model", "kling-v2-6"]) == 1
    out = capsys.readouterr().out
    assert "kling-v2-6, 5 s at 720p: unknown credits" in out
    assert "1 job without a price would be refused" in out
    assert main([*argv, "--duration", "3"]) == 0  # kling-v3: EvoLink's price, 21.6
    assert "kling-v3, 3 s at 720p: 21.6 credits" in capsys.readouterr().out


def test_kling_jobs_in_costs_and_the_budget(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tasks that never finish during the test: only the create answers matter.
    config = SimulatorConfig(delay=600, allow_http_callbacks=True, allow_private_callbacks=True)
    with run_server(create_app(config)) as url, httpx.Client(base_url=url) as sim:
        monkeypatch.setenv("KLING_BASE_URL", url)
        monkeypatch.setenv("KLING_ACCESS_KEY", "ak-costs")
        monkeypatch.setenv("KLING_SECRET_KEY", "sk-costs-" + "s" * 24)
        kling = ["submit", "a heron", "--provider", "kling", "--json"]
        # Under a budget (50), a model without a price is refused before anything happens.
        assert main([*kling, "--model", "kling-v2-6"]) == 1
        refused = capsys.readouterr().err
        assert "kling-v2-6 on kling has no price in credits" in refused
        assert "RECEIVER_MAX_CREDITS_PER_DAY" in refused
        assert sim.get("/_simulator/stats").json()["tasks"] == {}
        # kling-v3 counts EvoLink's price for the same model: 3 s at 720p is 21.6.
        assert main([*kling, "--duration", "3"]) == 0
        assert json.loads(capsys.readouterr().out)["model"] == "kling-v3"
        assert main([*kling, "--duration", "5"]) == 1  # 21.6 + 36 > 50
        assert "this job would cost 36 credits" in capsys.readouterr().err
        monkeypatch.delenv("RECEIVER_MAX_CREDITS_PER_DAY")
        assert main([*kling, "--model", "kling-v2-6"]) == 0  # no budget: it may go
        capsys.readouterr()
        assert len(sim.get("/_simulator/stats").json()["tasks"]) == 2

    assert main(["costs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["model", "jobs", "credits", "unpriced"]
    assert lines[1].split() == ["kling-v2-6", "1", "n/a", "1"]  # unknown, not 0.00
    assert lines[2].split() == ["kling-v3", "1", "21.60", "0"]
    assert lines[3].split() == ["total", "2", "21.60", "1"]
    assert lines[4] == "(1 job at our estimate: the provider has not said what it reserved)"
    assert lines[5] == "(1 job with no price at all: unknown credits, not in the total)"
    assert main(["costs", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["groups"][0] == {
        "model": "kling-v2-6",
        "jobs": 1,
        "credits": None,
        "estimated_jobs": 0,
        "unpriced_jobs": 1,
    }
    assert (report["total_credits"], report["unpriced_jobs"]) == (21.6, 1)
