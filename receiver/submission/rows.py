"""Reading a batch file: one job per row, CSV or JSON Lines, the options of ``submit`` as columns.

Every row is read on its own: a row that cannot become a :class:`JobSpec` is kept with its
line number and the reason, and the others go on. Only a problem with the file as a whole
(unreadable, not UTF-8, an unknown CSV column that would silently drop an option) stops it.

Columns: ``prompt``, ``shots`` (``"2:the fox wakes; 3:it runs"``, or in JSON a list of
``"SECONDS:TEXT"`` strings or ``{"seconds": …, "text": …}`` objects), ``image`` (a URL or a
file path, relative to the batch file), ``duration``, ``aspect_ratio``, ``quality``,
``model``, ``negative_prompt``, ``sound``. ``image_url`` is accepted for ``image``, and
dashes for underscores (``aspect-ratio``), so the command's own option names work. A cell
of nothing but spaces is empty.

A CSV line that starts with ``#`` is a comment: it is kept as a skipped row (with its text),
so the summary shows it and a prompt such as ``#hashtag trends`` is never dropped unseen;
quoted (``"#hashtag trends"``), the same cell is a prompt. A row whose cells are all empty
(``,,,``) is kept as a skipped row too; only a line with nothing on it is passed over.

CSV is read strictly: a quote that is not closed where a cell ends (``"clip 2, a shot,5``
with its closing quote forgotten) would otherwise swallow the lines after it into one cell,
and two rows would become one paid job. Such a file is refused whole, naming the line where
the row with the stray quote starts, before anything is sent.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from receiver.errors import ReceiverError, ValidationError
from receiver.providers.shots import Shot, parse_seconds
from receiver.submission.shots import parse_shot
from receiver.submission.spec import JobSpec

__all__ = ["COLUMNS", "BatchRow", "read_rows", "spec_from_mapping"]

log = structlog.get_logger(__name__)

COLUMNS = (
    "prompt",
    "shots",
    "image",
    "duration",
    "aspect_ratio",
    "quality",
    "model",
    "negative_prompt",
    "sound",
)
_ALIASES = {"image_url": "image", "shot": "shots"}
_TEXT_COLUMNS = ("prompt", "image", "aspect_ratio", "quality", "model", "negative_prompt", "sound")


@dataclass(frozen=True, kw_only=True)
class BatchRow:
    """One row of a batch file: a job to submit, or why it cannot be one."""

    line: int
    spec: JobSpec | None = None
    error: str | None = None
    #: A comment line's text: the row is skipped, and the summary says so.
    comment: str | None = None
    #: Every cell is empty: the row is skipped, and the summary says so.
    empty: bool = False


def _column(name: str) -> str:
    key = name.strip().lower().replace("-", "_")
    return _ALIASES.get(key, key)


def read_rows(path: Path, *, defaults: Mapping[str, Any] | None = None) -> list[BatchRow]:
    """The rows of a CSV or JSON Lines file (chosen by its extension, else by its content).

    ``defaults`` fill the columns a row leaves out or empty (the command line's options).
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ValidationError("--from", f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ValidationError("--from", f"{path} is not UTF-8 text ({exc.reason})") from None
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson", ".json"} or (
        suffix != ".csv" and text.lstrip().startswith("{")
    ):
        rows = list(_json_lines(text, defaults or {}))
    else:
        rows = list(_csv_rows(text, path, defaults or {}))
    if all(row.comment is not None or row.empty for row in rows):
        raise ValidationError("--from", f"{path} holds no jobs")
    return rows


def _json_lines(text: str, defaults: Mapping[str, Any]) -> Iterator[BatchRow]:
    for line, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield BatchRow(line=line, error=f"not JSON: {exc.msg} (column {exc.colno})")
            continue
        except RecursionError:
            yield BatchRow(line=line, error="not JSON we accept: nested too deeply")
            continue
        if not isinstance(data, dict):
            yield BatchRow(line=line, error="expected a JSON object, one job per line")
            continue
        yield _row(line, {_column(key): value for key, value in data.items()}, defaults)


class _RawLines:
    """The lines handed to ``csv.reader``, kept so a row's first line can be read as written
    (a comment's ``#`` must be the line's own first character, not a quoted cell's)."""

    def __init__(self, text: str) -> None:
        self._lines = io.StringIO(text, newline="")
        self.taken: list[str] = []

    def __iter__(self) -> Iterator[str]:
        for line in self._lines:
            self.taken.append(line)
            yield line


def _csv_rows(text: str, path: Path, defaults: Mapping[str, Any]) -> Iterator[BatchRow]:
    raw = _RawLines(text)
    # strict: a stray or unclosed quote is an error, never a silent merge of rows.
    reader = csv.reader(raw, strict=True)
    try:
        header = [_column(name) for name in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        raise ValidationError("--from", f"{path}: line 1: {exc}") from None
    if unknown := [name for name in header if name and name not in COLUMNS]:
        raise ValidationError(
            "--from",
            f"{path}: unknown column {', '.join(map(repr, unknown))}; "
            f"the columns are {', '.join(COLUMNS)}",
        )
    if "prompt" not in header and "shots" not in header:
        raise ValidationError("--from", f"{path}: the header needs a prompt or shots column")
    first_line = 2
    while True:
        raw.taken.clear()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # Whatever follows a broken quote cannot be trusted: no row of the file is sent.
            raise ValidationError(
                "--from",
                f"{path}: line {first_line}: unreadable CSV ({exc}, noticed on line "
                f"{reader.line_num}); is a quote in the row that starts on line {first_line} "
                "missing its closing quote? Nothing was submitted",
            ) from None
        # A quoted cell may span lines: report the line where the row starts.
        line, first_line = first_line, reader.line_num + 1
        if len(cells) <= 1 and not "".join(cells).strip():
            continue  # a line with nothing (or only spaces) on it
        if not any(cell.strip() for cell in cells):
            yield BatchRow(line=line, empty=True)
            continue
        written = raw.taken[0].strip() if raw.taken else ""
        if written.startswith("#"):
            yield BatchRow(line=line, comment=written)
            continue
        if len(cells) > len(header):
            yield BatchRow(
                line=line, error=f"{len(cells)} cells but the header names {len(header)} columns"
            )
            continue
        yield _row(
            line,
            {name: cell for name, cell in zip(header, cells, strict=False) if name},
            defaults,
        )


def _row(line: int, data: Mapping[str, Any], defaults: Mapping[str, Any]) -> BatchRow:
    given = {name: value for name, value in data.items() if not _empty(value)}
    try:
        return BatchRow(line=line, spec=spec_from_mapping({**defaults, **given}))
    except ReceiverError as exc:
        return BatchRow(line=line, error=exc.message)
    except Exception as exc:
        # A row is judged on its own, whatever goes wrong: one row must never stop the rest.
        log.warning("batch.row_unreadable", line=line, error=repr(exc))
        return BatchRow(line=line, error=f"cannot read this row: {exc!r}")


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def spec_from_mapping(data: Mapping[str, Any]) -> JobSpec:
    """A :class:`JobSpec` from named values (a CSV row's strings, or JSON's types)."""
    if unknown := sorted(set(data) - set(COLUMNS)):
        raise ValidationError(unknown[0], f"unknown field; the fields are {', '.join(COLUMNS)}")
    values: dict[str, Any] = {}
    for name in _TEXT_COLUMNS:
        value = data.get(name)
        if _empty(value):
            continue
        if not isinstance(value, str):
            raise ValidationError(name, f"must be text, got {type(value).__name__}")
        values[name] = value.strip()
    duration = data.get("duration")
    if isinstance(duration, int) and not isinstance(duration, bool):
        values["duration"] = duration
    elif not _empty(duration):
        seconds = parse_seconds(duration) if isinstance(duration, str) else None
        if seconds is None:
            raise ValidationError(
                "duration", f"must be a whole number of seconds, got {duration!r}"
            )
        values["duration"] = seconds
    values["shots"] = _shots(data.get("shots"))
    return JobSpec(**values)


def _shots(value: Any) -> tuple[Shot, ...]:
    if _empty(value):
        return ()
    if isinstance(value, str):
        # In a CSV cell shots are separated by ';', which a shot's text cannot hold anyway.
        return tuple(parse_shot(part) for part in value.split(";") if part.strip())
    if not isinstance(value, list):
        raise ValidationError("shots", "must be a list of shots or 'SECONDS:TEXT; ...' text")
    shots = []
    for item in value:
        if isinstance(item, str):
            shots.append(parse_shot(item))
        elif isinstance(item, dict) and set(item) == {"seconds", "text"}:
            if not isinstance(item["text"], str):
                raise ValidationError("shot", "a shot's text must be text")
            shots.append(Shot(item["seconds"], item["text"]))
        else:
            raise ValidationError(
                "shots", 'each shot is "SECONDS:TEXT" or {"seconds": N, "text": "..."}'
            )
    return tuple(shots)
