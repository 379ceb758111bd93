"""Issue 19's pure rules: batch files read strictly, budgets held in file order, an image job's
aspect ratio, and the idempotency keys of a batch's rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from receiver.config import Settings
from receiver.context import Context
from receiver.errors import ProviderError, ProviderRateLimited, ProviderUnavailable, ValidationError
from receiver.jobs import _recorded_params
from receiver.submission.batch import prepare_rows
from receiver.submission.budget import BudgetState, allot
from receiver.submission.idempotency import (
    IdempotencyConflict,
    batch_keys,
    client_key,
    definitely_not_created,
    fingerprint,
)
from receiver.submission.images import StagedImage, frame_aspect
from receiver.submission.rows import read_rows
from receiver.submission.spec import JobSpec, prepare
from tests.conftest import make_env


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    context = Context(Settings.from_env(make_env(tmp_path)))
    yield context
    context.close()


def write(tmp_path: Path, text: str, name: str = "ads.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ── batch files ──


def test_a_missing_closing_quote_refuses_the_file_with_its_line(tmp_path: Path) -> None:
    # Before: lines 3 and 4 merged into one prompt, one paid job for two rows.
    path = write(tmp_path, 'prompt,duration\nclip 2,5\n"clip 3, a shot,5\n"clip 4",5\nclip 5,5\n')
    with pytest.raises(ValidationError) as refused:
        read_rows(path)
    assert "line 3:" in refused.value.message
    assert "closing quote" in refused.value.message
    assert "Nothing was submitted" in refused.value.message


def test_a_quote_left_open_to_the_end_refuses_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'prompt,duration\n"clip 2, a shot,5\nclip 3,5\nclip 4,5\n')
    with pytest.raises(ValidationError, match="line 2: unreadable CSV"):
        read_rows(path)


def test_a_quoted_prompt_over_two_lines_is_still_one_row(tmp_path: Path) -> None:
    path = write(tmp_path, 'prompt,duration\n"line one\nline two",5\nclip 4,5\n')
    rows = read_rows(path)
    assert [row.line for row in rows] == [2, 4]
    assert rows[0].spec is not None
    assert rows[0].spec.prompt == "line one\nline two"


def test_a_row_of_empty_cells_is_reported_as_skipped(tmp_path: Path, ctx: Context) -> None:
    # Before: `,,` vanished from the report without a line.
    path = write(tmp_path, "prompt,duration,quality\na fox,5,\n,,\n   \n\na kite,5,\n")
    report = prepare_rows(ctx, read_rows(path), base_dir=tmp_path)
    assert [(row.line, row.outcome, row.note) for row in report.rows] == [
        (2, "ready", None),
        (3, "skipped", "every cell is empty"),
        (6, "ready", None),
    ]
    assert report.all_ok


def test_a_file_of_nothing_but_empty_rows_holds_no_jobs(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="holds no jobs"):
        read_rows(write(tmp_path, "prompt,duration\n,\n,\n"))


# ── the budget, in file order ──


def test_a_batch_is_held_to_the_budget_in_file_order() -> None:
    budget = BudgetState(limit=100, spent_today=10)
    verdicts = allot(budget, [36, 45, 36, 7.2, None])
    # 36 + 45 fit in 90; the third 36 does not (9 left); 7.2 does; an unpriced job never.
    assert [verdict is None for verdict in verdicts] == [True, True, False, True, False]
    assert "10 are spent and 81 go to the rows above it" in (verdicts[2] or "")
    assert "RECEIVER_MAX_CREDITS_PER_DAY" in (verdicts[2] or "")
    assert "no price in credits" in (verdicts[4] or "")
    assert allot(None, [36, None]) == [None, None]
    # Cents, as the single check: 36 + 36 + 28.8 is exactly 100.8.
    assert allot(BudgetState(limit=100.8, spent_today=0), [36, 36, 28.8]) == [None] * 3


# ── an image job's aspect ratio ──


@pytest.mark.parametrize(
    ("size", "aspect"),
    [
        ((720, 1280), "9:16"),
        ((1280, 720), "16:9"),
        ((1000, 562), "16:9"),
        ((512, 512), "1:1"),
        ((1000, 700), "10:7"),
        ((600, 800), "3:4"),
    ],
)
def test_a_frame_is_called_by_its_real_aspect(size: tuple[int, int], aspect: str) -> None:
    assert frame_aspect(*size) == aspect


def frame(tmp_path: Path, size: tuple[int, int]) -> Path:
    path = tmp_path / f"frame-{size[0]}x{size[1]}.png"
    Image.new("RGB", size, (20, 40, 60)).save(path, "PNG")
    return path


def test_a_portrait_frame_records_9_16_not_the_default(tmp_path: Path, ctx: Context) -> None:
    # Before: a 720x1280 frame's job recorded aspect_ratio "16:9", the text default.
    prepared = prepare(ctx, JobSpec(prompt="a tower", image=str(frame(tmp_path, (720, 1280)))))
    assert prepared.image is not None
    staged = StagedImage(bucket="b", key="inputs/x.png", url="https://s/x", width=720, height=1280)
    params = _recorded_params(dataclasses.replace(prepared.request, image_url=staged.url), staged)
    assert params["aspect_ratio"] == "9:16"
    assert params["frame"] == "720x1280"
    assert params["image"] == "s3://b/inputs/x.png"
    # A URL frame is not ours to measure: no aspect ratio is recorded at all.
    by_url = prepare(ctx, JobSpec(prompt="a tower", image="https://img.example/f.png"))
    assert "aspect_ratio" not in _recorded_params(by_url.request, None)


def test_an_aspect_ratio_against_the_frame_is_refused(tmp_path: Path, ctx: Context) -> None:
    path = str(frame(tmp_path, (720, 1280)))
    with pytest.raises(ValidationError, match=r"720x1280 \(9:16\).*not '16:9'"):
        prepare(ctx, JobSpec(prompt="a tower", image=path, aspect_ratio="16:9"))
    # The frame's own is accepted, and asks for the same video as none at all.
    same = prepare(ctx, JobSpec(prompt="a tower", image=path, aspect_ratio="9:16"))
    assert fingerprint(same) == fingerprint(prepare(ctx, JobSpec(prompt="a tower", image=path)))
    with pytest.raises(ValidationError, match="takes the aspect ratio of its first frame"):
        prepare(ctx, JobSpec(prompt="a", image="https://img.example/f.png", aspect_ratio="1:1"))
    # Text-to-video still defaults to 16:9 and takes the three the provider names.
    assert prepare(ctx, JobSpec(prompt="a")).request.aspect_ratio == "16:9"
    assert prepare(ctx, JobSpec(prompt="a", aspect_ratio="9:16")).request.aspect_ratio == "9:16"


# ── idempotency keys ──


def test_a_rows_key_survives_moves_and_changes_with_its_request(ctx: Context) -> None:
    a, b, c = (prepare(ctx, JobSpec(prompt=p)) for p in ("a fox", "a kite", "a boat"))
    first = [key.key for key in batch_keys("file:/x/ads.csv", [a, b, c])]
    # A row inserted above and the rows reordered: every old row keeps its key.
    new = prepare(ctx, JobSpec(prompt="new"))
    moved = [key.key for key in batch_keys("file:/x/ads.csv", [c, new, a, b])]
    assert {first[0], first[1], first[2]} <= set(moved)
    # An edited row is a new request: a new key; the others keep theirs.
    edited = prepare(ctx, JobSpec(prompt="a kite", quality="1080p"))
    again = [key.key for key in batch_keys("file:/x/ads.csv", [a, edited, c])]
    assert (again[0], again[2]) == (first[0], first[2])
    assert again[1] not in first
    # Two identical rows are two jobs; another file (or --idempotency-key) another batch.
    twice = batch_keys("file:/x/ads.csv", [a, a])
    assert twice[0].key != twice[1].key
    assert batch_keys("file:/y/ads.csv", [a])[0].key != first[0]


def test_a_client_key_is_checked_and_scoped(ctx: Context) -> None:
    prepared = prepare(ctx, JobSpec(prompt="a fox"))
    assert client_key(" order-17 ", prepared).key == "submit:order-17"
    for bad in ("", "   ", "x" * 256, "naïve", "tab\there"):
        with pytest.raises(ValidationError):
            client_key(bad, prepared)
    message = IdempotencyConflict(key="order-17", job_id="job_1").message
    assert "different request" in message


def test_only_an_answered_refusal_frees_a_key() -> None:
    assert definitely_not_created(ProviderRateLimited("slow down"))
    assert definitely_not_created(ProviderError("bad", status_code=400))
    assert not definitely_not_created(ProviderUnavailable("timed out"))
    assert not definitely_not_created(ProviderError("oops", status_code=502))
    assert not definitely_not_created(RuntimeError("a bug"))
