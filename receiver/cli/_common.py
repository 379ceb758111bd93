"""Helpers the command modules share: the context, durations, progress, printing."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from receiver.config import Settings, parse_duration

if TYPE_CHECKING:
    from receiver.context import Context

__all__ = ["context", "duration", "positive", "print_details", "print_json", "progress"]


def context(settings: Settings) -> Context:
    # Imported here: `receiver --help` should not pay for boto3 and the database drivers.
    from receiver.context import Context

    return Context(settings)


def duration(text: str) -> timedelta:
    try:
        return timedelta(seconds=parse_duration(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive(text: str) -> int:
    """A count of at least 1 (``--limit``, ``--concurrency``): argparse says what is wrong."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


@contextmanager
def progress(total: int, what: str) -> Iterator[Any]:
    """A progress bar on a terminal (stderr), nothing otherwise."""
    from tqdm import tqdm

    with tqdm(
        total=total, desc=what, unit="", file=sys.stderr, disable=not sys.stderr.isatty()
    ) as bar:
        yield bar


def print_details(details: Any, *, as_json: bool) -> None:
    from receiver import presenters

    if as_json:
        print_json(presenters.details_json(details))
    else:
        print(presenters.text_details(details))


def print_json(document: Any) -> None:
    print(json.dumps(document, indent=2))
