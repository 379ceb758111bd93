"""Preparing a batch: every row judged on its own, whatever goes wrong with one of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from receiver.config import Settings
from receiver.context import Context
from receiver.submission import spec as spec_module
from receiver.submission.batch import prepare_rows
from receiver.submission.rows import read_rows
from receiver.submission.spec import JobSpec, PreparedJob
from tests.conftest import make_env


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    context = Context(Settings.from_env(make_env(tmp_path)))
    yield context
    context.close()


def test_a_row_that_breaks_anything_is_reported_and_the_others_go_on(
    tmp_path: Path, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "jobs.jsonl"
    path.write_text(
        '{"prompt": "a fox"}\n'
        '{"prompt": "a frame", "image": "frame\\u0000.png"}\n'
        '{"prompt": "boom"}\n'
        '{"prompt": "a kite", "shots": "\\u00b2:it flies"}\n'
        '{"prompt": "a lantern", "duration": 4}\n'
    )
    real_prepare = spec_module.prepare

    def prepare(ctx: Context, spec: JobSpec, **options: Any) -> PreparedJob:
        # A fault no input we know of causes any more: the kind a catch-all exists for.
        if spec.prompt == "boom":
            raise ZeroDivisionError("an unforeseen bug")
        return real_prepare(ctx, spec, **options)

    monkeypatch.setattr("receiver.submission.batch.prepare", prepare)
    with capture_logs() as logs:
        report = prepare_rows(ctx, read_rows(path), base_dir=tmp_path)
    outcomes = {row.line: (row.outcome, row.error) for row in report.rows}
    assert outcomes[1] == ("ready", None)
    assert outcomes[2][0] == "invalid"
    assert "not a usable file name" in (outcomes[2][1] or "")
    assert outcomes[3] == ("invalid", "cannot check: ZeroDivisionError('an unforeseen bug')")
    assert outcomes[4][0] == "invalid"
    assert "expected SECONDS:TEXT" in (outcomes[4][1] or "")
    assert outcomes[5] == ("ready", None)
    assert report.credits("ready") == 36.0 + 28.8
    unexpected = [entry for entry in logs if entry["event"] == "batch.row_unexpected_error"]
    assert [entry["line"] for entry in unexpected] == [3]


def test_comment_lines_are_reported_as_skipped_and_do_not_fail_the_batch(
    tmp_path: Path, ctx: Context
) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text("prompt\n#hashtag trends video\na fox\n")
    report = prepare_rows(ctx, read_rows(path), base_dir=tmp_path)
    assert [(row.line, row.outcome, row.comment) for row in report.rows] == [
        (2, "skipped", "#hashtag trends video"),
        (3, "ready", None),
    ]
    assert report.all_ok


def test_rows_without_a_price_are_counted_apart(tmp_path: Path, ctx: Context) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text("prompt,model\na fox,kling-v3\na kite,kling-v2-6\n")
    report = prepare_rows(ctx, read_rows(path), base_dir=tmp_path, provider_name="kling")
    assert [row.credits for row in report.rows] == [36.0, None]
    assert (report.credits("ready"), report.unpriced("ready")) == (36.0, 1)
