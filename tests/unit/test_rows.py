"""Reading batch files: CSV and JSON Lines rows, line numbers, row errors that stop nothing."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from receiver.errors import ValidationError
from receiver.submission.rows import read_rows
from receiver.submission.shots import Shot
from receiver.submission.spec import JobSpec


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_rows_with_their_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ads.csv",
        "prompt,duration,quality,Aspect-Ratio,shots\n"
        "a red fox,5,1080p,9:16,\n"
        "\n"
        '"a long prompt\nover two lines",3,,,\n'
        "a kite,twelve,,,\n"
        ",,,,2:the door opens; 3:light floods in\n",
    )
    rows = read_rows(path)
    assert [row.line for row in rows] == [2, 4, 6, 7]
    first, second, bad, shots = rows
    assert first.spec is not None
    assert (first.spec.prompt, first.spec.duration, first.spec.quality) == ("a red fox", 5, "1080p")
    assert first.spec.aspect_ratio == "9:16"
    assert second.spec is not None
    assert second.spec.prompt == "a long prompt\nover two lines"
    assert second.spec.quality is None  # an empty cell takes the model's default (in prepare)
    assert bad.spec is None
    assert bad.error is not None
    assert "twelve" in bad.error
    assert shots.spec is not None
    assert shots.spec.shots == (Shot(2, "the door opens"), Shot(3, "light floods in"))


def test_json_lines_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "jobs.jsonl",
        '{"prompt": "a lantern", "duration": 4}\n'
        '{"prompt": "a boat", "shots": ["2:it leaves", {"seconds": 3, "text": "it sails"}]}\n'
        "not json\n"
        "[1, 2]\n"
        '{"prompt": "x", "colour": "red"}\n'
        '{"prompt": 7}\n',
    )
    rows = read_rows(path)
    assert [row.line for row in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0].spec is not None
    assert rows[0].spec.duration == 4
    assert rows[1].spec is not None
    assert rows[1].spec.shots == (
        Shot(2, "it leaves"),
        Shot(3, "it sails"),
    )
    errors = [row.error or "" for row in rows[2:]]
    assert errors[0].startswith("not JSON")
    assert "JSON object" in errors[1]
    assert errors[2].startswith("colour: unknown field")
    assert errors[3].startswith("prompt: must be text")


def test_options_fill_what_a_row_leaves_out(tmp_path: Path) -> None:
    path = write(tmp_path, "jobs.csv", "prompt,quality\na fox,\na kite,720p\n")
    rows = read_rows(path, defaults={"quality": "1080p", "duration": 8})
    assert [(row.spec.quality, row.spec.duration) for row in rows if row.spec] == [
        ("1080p", 8),
        ("720p", 8),
    ]


def test_an_unknown_csv_column_stops_the_batch(tmp_path: Path) -> None:
    # A misspelt column would silently drop an option from every row: refuse the file.
    path = write(tmp_path, "jobs.csv", "prompt,durration\na fox,5\n")
    with pytest.raises(ValidationError, match="unknown column 'durration'"):
        read_rows(path)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.csv", "", "holds no jobs"),
        ("header-only.csv", "prompt\n", "holds no jobs"),
        ("latin1.csv", "prompt\ncaf\xe9\n", "not UTF-8"),
        ("no-prompt.csv", "duration\n5\n", "needs a prompt or shots column"),
    ],
)
def test_a_file_that_holds_no_batch(tmp_path: Path, name: str, content: str, problem: str) -> None:
    path = tmp_path / name
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(ValidationError, match=problem):
        read_rows(path)


def test_the_format_is_guessed_without_an_extension(tmp_path: Path) -> None:
    rows = read_rows(write(tmp_path, "jobs", '{"prompt": "a fox"}\n'))
    assert rows[0].spec is not None
    assert rows[0].spec.prompt == "a fox"


def test_digits_int_cannot_read_make_a_row_invalid_not_the_batch_crash(tmp_path: Path) -> None:
    # "²".isdigit() is True but int("²") raises: each row must still be judged on its own.
    path = write(
        tmp_path,
        "jobs.csv",
        "prompt,shots,duration\nx,\u00b2:a,\na fox,,\u00b3\na kite,,5\nx,2:a;\u00b3:b,\n",
    )
    rows = read_rows(path)
    assert [row.line for row in rows] == [2, 3, 4, 5]
    bad_shot, bad_duration, good, bad_second_shot = rows
    assert bad_shot.spec is None
    assert "expected SECONDS:TEXT" in (bad_shot.error or "")
    assert bad_duration.spec is None
    assert "duration: must be a whole number of seconds" in (bad_duration.error or "")
    assert good.spec is not None
    assert good.spec.duration == 5
    assert bad_second_shot.spec is None
    jsonl = write(tmp_path, "jobs.jsonl", '{"prompt": "x", "duration": "\u00b2"}\n')
    (row,) = read_rows(jsonl)
    assert "must be a whole number" in (row.error or "")


def test_a_cell_of_spaces_is_empty_and_the_option_fills_it(tmp_path: Path) -> None:
    path = write(tmp_path, "jobs.csv", "prompt,quality,duration,image\na fox,   ,  ,  \n")
    (row,) = read_rows(path, defaults={"quality": "1080p", "duration": 8})
    assert row.spec is not None
    assert (row.spec.quality, row.spec.duration, row.spec.image) == ("1080p", 8, None)


def test_comment_lines_are_kept_as_skipped_rows_and_a_quoted_hash_is_a_prompt(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "jobs.csv",
        'prompt,duration\n#hashtag trends video,5\n"#hashtag trends video",5\n  # a note\n',
    )
    comment, prompt, note = read_rows(path)
    assert (comment.line, comment.spec, comment.comment) == (2, None, "#hashtag trends video,5")
    assert prompt.spec is not None
    assert prompt.spec.prompt == "#hashtag trends video"
    assert (note.line, note.comment) == (4, "# a note")
    only_comments = write(tmp_path, "notes.csv", "prompt\n# nothing yet\n")
    with pytest.raises(ValidationError, match="holds no jobs"):
        read_rows(only_comments)


def test_a_row_that_breaks_the_reader_is_reported_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from receiver.submission import rows as rows_module

    real = rows_module.spec_from_mapping

    def spec_from_mapping(data: Mapping[str, Any]) -> JobSpec:
        # A fault no input we know of causes any more: the kind a catch-all exists for.
        if data.get("prompt") == "boom":
            raise ValueError("an unforeseen bug")
        return real(data)

    monkeypatch.setattr(rows_module, "spec_from_mapping", spec_from_mapping)
    first, boom, last = read_rows(write(tmp_path, "jobs.csv", "prompt\na fox\nboom\na kite\n"))
    assert first.spec is not None
    assert last.spec is not None
    assert (boom.line, boom.spec) == (3, None)
    assert boom.error == "cannot read this row: ValueError('an unforeseen bug')"
