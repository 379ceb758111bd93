"""``receiver models`` and ``receiver submit`` with EvoLink's catalogue models, in-process."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from receiver import logs
from receiver.cli import main
from tests.conftest import make_env

pytestmark = pytest.mark.integration


def _use_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Iterator[None]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(logs, "configure", lambda *args, **kwargs: None)
    before = structlog.get_config()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    yield
    structlog.configure(**before)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from _use_env(monkeypatch, make_env(tmp_path))


@pytest.fixture
def budget_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from _use_env(monkeypatch, make_env(tmp_path, RECEIVER_MAX_CREDITS_PER_DAY="500"))


@pytest.mark.usefixtures("env")
def test_models_lists_a_kind_with_its_limits_and_prices(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["models", "--kind", "audio", "--json"]) == 0
    listed = {model["model"]: model for model in json.loads(capsys.readouterr().out)["models"]}
    assert {entry["kind"] for entry in listed.values()} == {"audio"}
    suno = listed["suno-v5-beta"]
    assert suno["endpoint"] == "/v1/audios/generations"
    assert suno["link_lifetime_hours"] == 72
    assert suno["price"] == "8 credits per request"
    assert suno["fields"]["duration"]["rule"] == "a whole number from 10 to 360"
    assert main(["models"]) == 0
    text = capsys.readouterr().out
    assert "seedance-2.0-text-to-video (video)" in text
    assert "mj-v8.1 (image)" in text
    assert "links: 720 h" in text
    assert "127 models" in text


@pytest.mark.usefixtures("env")
def test_a_seedance_dry_run_goes_through_prepare(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["submit", "--model", "seedance-2.0-text-to-video", "a fox in the snow"]
    assert main([*argv, "--duration", "8", "--dry-run", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["model"], answer["duration"], answer["credits"]) == (
        "seedance-2.0-text-to-video",
        8,
        108.0,
    )
    assert main([*argv, "--duration", "20", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "duration: seedance-2.0-text-to-video takes a whole number from 4 to 15, got 20" in err


@pytest.mark.usefixtures("env")
def test_params_reach_the_models_rules(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["submit", "--model", "veo-3.1-generate-preview", "a heron", "--dry-run"]
    assert main([*argv, "--param", "n=2", "--param", "seed=7"]) == 0
    capsys.readouterr()
    assert main([*argv, "--param", "n=9"]) == 2
    assert "n: veo-3.1-generate-preview takes a whole number from 1 to 4, got 9" in (
        capsys.readouterr().err
    )


@pytest.mark.usefixtures("budget_env")
def test_an_unknown_model_needs_the_opt_in_and_is_unpriced(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["submit", "--model", "seedance-9.0", "a fox", "--param", "n=2"]
    assert main([*argv, "--dry-run"]) == 2
    assert "--allow-unknown-model" in capsys.readouterr().err
    # Opted in: checked by nothing but unpriced, so a daily budget cannot hold it.
    assert main([*argv, "--allow-unknown-model", "--dry-run", "--json"]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert (answer["credits"], answer["within_budget"]) == (None, False)
    assert main([*argv, "--allow-unknown-model"]) != 0
    assert "no price" in capsys.readouterr().err.lower()
