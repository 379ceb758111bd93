"""Query parameters read strictly: a bad one is a ``400`` that names it, never a guess.

A value out of range is refused rather than clamped (``limit=-1`` is a mistake, not a
request for one job), a name the route does not take is refused (``?limt=5`` would
otherwise be ignored without a word), and so are a name given twice and an empty value
(``?status=``: leave the parameter out instead).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime, timedelta

from starlette.datastructures import QueryParams
from starlette.responses import JSONResponse

from receiver import clock
from receiver.config import parse_duration
from receiver.errors import ValidationError

__all__ = ["Query", "invalid_parameter", "sequence_number"]

_DIGITS = re.compile(r"[0-9]{1,18}")
#: A job id as receiver.clock.new_id writes it.
_JOB_ID = re.compile(r"job_[0-9a-z]{26}")


def invalid_parameter(exc: ValidationError) -> JSONResponse:
    """The answer to a bad query parameter (or field of a body): 400 naming it."""
    return JSONResponse({"error": "bad_request", "field": exc.field, "message": exc.message}, 400)


def sequence_number(name: str, value: str | None) -> int | None:
    """An event sequence number (0 or more) from a parameter or header ``name``."""
    if value is None:
        return None
    if not _DIGITS.fullmatch(value):
        raise ValidationError(name, "must be an event sequence number (a whole number, 0 or more)")
    return int(value)


class Query:
    """The query parameters of one request, for a route that takes ``allowed``.

    Raises :class:`~receiver.errors.ValidationError` for an unknown or repeated name at
    once, and for a bad value when it is read.
    """

    def __init__(self, params: QueryParams, allowed: Collection[str]) -> None:
        for name in params:
            if name not in allowed:
                expected = ", ".join(allowed) or "none"
                raise ValidationError(
                    name, f"is not a parameter of this route (it takes {expected})"
                )
            if len(params.getlist(name)) > 1:
                raise ValidationError(name, "is given more than once")
        self._params = params

    def text(self, name: str) -> str | None:
        value = self._params.get(name)
        if value == "":
            raise ValidationError(name, "is empty (leave the parameter out instead)")
        return value

    def choice(self, name: str, choices: Collection[str]) -> str | None:
        value = self.text(name)
        if value is not None and value not in choices:
            raise ValidationError(name, f"must be one of {', '.join(choices)}")
        return value

    def integer(self, name: str, *, default: int, minimum: int, maximum: int) -> int:
        """A whole number from ``minimum`` to ``maximum``; ``default`` when not given."""
        value = self.text(name)
        if value is None:
            return default
        if not _DIGITS.fullmatch(value) or not minimum <= int(value) <= maximum:
            raise ValidationError(name, f"must be a whole number from {minimum} to {maximum}")
        return int(value)

    def job_id(self, name: str) -> str | None:
        value = self.text(name)
        if value is not None and not _JOB_ID.fullmatch(value):
            raise ValidationError(name, "must be a job id (job_ and 26 letters and digits)")
        return value

    def sequence_number(self, name: str) -> int | None:
        return sequence_number(name, self.text(name))

    def since(self, name: str, default: str | None = None) -> datetime | None:
        """The moment a duration (``24h``, ``7d``) ago; None when not given, nor ``default``."""
        value = self.text(name)
        value = default if value is None else value
        if value is None:
            return None
        try:
            return clock.now() - timedelta(seconds=parse_duration(value))
        except ValueError as exc:
            raise ValidationError(name, str(exc)) from exc
