"""The kinds of rule a catalogue entry sets on one request field, as data.

Each rule checks one JSON value and says, in words, what it accepts: the validator puts that
sentence in its refusal ("duration: seedance-2.0-text-to-video takes a whole number from 4
to 15, got 20"). The rules mirror what EvoLink's request schemas say (``enum``, ``minimum``,
``maxItems``...) tightened by the prose of its pages; ``lenient`` marks a rule whose fact the
reference calls UNCONFIRMED: a value it does not accept is passed on, not refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Flag",
    "Group",
    "Link",
    "Links",
    "ListOf",
    "Number",
    "OneOf",
    "Rule",
    "Text",
    "Whole",
]

#: A JSON scalar a rule may name (an enum member, a special duration, a default).
Scalar = str | int | float | bool


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def _is_url(value: object, *, data: bool) -> bool:
    if not isinstance(value, str) or not value.strip():
        return False
    # Some models also take data URLs or plain base64 (the reference says which).
    return data or value.lower().startswith(("http://", "https://"))


def _between(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"from {_num(low)} to {_num(high)}"
    if low is not None:
        return f"of at least {_num(low)}"
    if high is not None:
        return f"of at most {_num(high)}"
    return ""


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _count(low: int | None, high: int | None, what: str) -> str:
    if low is not None and high is not None:
        return f"exactly {low} {what}" if low == high else f"{low} to {high} {what}"
    if high is not None:
        return f"at most {high} {what}"
    if low is not None:
        return f"at least {low} {what}"
    return what


@dataclass(frozen=True, kw_only=True)
class Text:
    """A string, optionally of bounded length."""

    max_chars: int | None = None
    min_chars: int | None = None
    default: str | None = None
    lenient: bool = False

    def problem(self, value: object) -> str | None:
        if not isinstance(value, str):
            return self.describe()
        if self.max_chars is not None and len(value) > self.max_chars:
            return self.describe()
        if self.min_chars is not None and len(value) < self.min_chars:
            return self.describe()
        return None

    def describe(self) -> str:
        if self.max_chars is not None and self.min_chars:
            return f"text of {self.min_chars} to {self.max_chars} characters"
        if self.max_chars is not None:
            return f"text of at most {self.max_chars} characters"
        if self.min_chars:
            return f"text of at least {self.min_chars} characters"
        return "text"


@dataclass(frozen=True, kw_only=True)
class OneOf:
    """One of a fixed set of values (a JSON Schema ``enum``)."""

    values: tuple[Scalar, ...]
    default: Scalar | None = None
    lenient: bool = False

    def problem(self, value: object) -> str | None:
        # 1 == True in Python: compare types too, so that true is not taken for 1.
        if any(type(value) is type(allowed) and value == allowed for allowed in self.values):
            return None
        return self.describe()

    def describe(self) -> str:
        return "one of " + ", ".join(_show(value) for value in self.values)


@dataclass(frozen=True, kw_only=True)
class Whole:
    """A whole number in a range, or one of a few special values (``-1``, ``"auto"``)."""

    minimum: int | None = None
    maximum: int | None = None
    #: Values allowed outside the range: -1 ("the model chooses"), "auto", 0...
    also: tuple[Scalar, ...] = ()
    default: Scalar | None = None
    lenient: bool = False
    #: Whether a number with a fraction (EvoLink's ``type: number``) is accepted as well.
    fractions: bool = False

    def problem(self, value: object) -> str | None:
        if any(type(value) is type(special) and value == special for special in self.also):
            return None
        if not (_is_number(value) if self.fractions else _is_whole(value)):
            return self.describe()
        assert isinstance(value, int | float)
        if self.minimum is not None and value < self.minimum:
            return self.describe()
        if self.maximum is not None and value > self.maximum:
            return self.describe()
        return None

    def describe(self) -> str:
        what = "a number" if self.fractions else "a whole number"
        text = f"{what} {_between(self.minimum, self.maximum)}".rstrip()
        if self.also:
            text += " or " + " or ".join(_show(value) for value in self.also)
        return text


@dataclass(frozen=True, kw_only=True)
class Number:
    """A number (fractions allowed) in a range."""

    minimum: float | None = None
    maximum: float | None = None
    default: float | None = None
    lenient: bool = False

    def problem(self, value: object) -> str | None:
        if not _is_number(value):
            return self.describe()
        assert isinstance(value, int | float)
        if self.minimum is not None and value < self.minimum:
            return self.describe()
        if self.maximum is not None and value > self.maximum:
            return self.describe()
        return None

    def describe(self) -> str:
        return f"a number {_between(self.minimum, self.maximum)}".rstrip()


@dataclass(frozen=True, kw_only=True)
class Flag:
    """true or false."""

    default: bool | None = None
    lenient: bool = False

    def problem(self, value: object) -> str | None:
        return None if isinstance(value, bool) else self.describe()

    def describe(self) -> str:
        return "true or false"


@dataclass(frozen=True, kw_only=True)
class Link:
    """One URL given as a string (``image_start``, ``video_url``, ``audio_url``)."""

    #: Whether data URLs and plain base64 are accepted too.
    data: bool = False
    default: None = None
    lenient: bool = False

    def problem(self, value: object) -> str | None:
        return None if _is_url(value, data=self.data) else self.describe()

    def describe(self) -> str:
        return "one URL (a string)" if self.data else "one http(s) URL (a string)"


@dataclass(frozen=True, kw_only=True)
class Links:
    """A list of URLs (``image_urls``, ``video_urls``, ``audio_urls``), counted."""

    min_items: int | None = None
    max_items: int | None = None
    data: bool = False
    default: None = None
    lenient: bool = False

    def problem(self, value: object) -> str | None:
        if not isinstance(value, list | tuple):
            return self.describe()
        if not all(_is_url(item, data=self.data) for item in value):
            return self.describe()
        if self.min_items is not None and len(value) < self.min_items:
            return self.describe()
        if self.max_items is not None and len(value) > self.max_items:
            return self.describe()
        return None

    def describe(self) -> str:
        return "a list of " + _count(self.min_items, self.max_items, "http(s) URLs")


@dataclass(frozen=True, kw_only=True)
class ListOf:
    """A list of other values (``multi_prompt``, ``element_list``), counted; each item
    checked by ``item`` when given."""

    item: Rule | None = None
    min_items: int | None = None
    max_items: int | None = None
    default: None = None
    lenient: bool = False

    def problem(self, value: object) -> str | None:
        if not isinstance(value, list | tuple):
            return self.describe()
        if self.min_items is not None and len(value) < self.min_items:
            return self.describe()
        if self.max_items is not None and len(value) > self.max_items:
            return self.describe()
        if self.item is not None:
            for index, element in enumerate(value):
                inner = self.item.problem(element)
                if inner is not None:
                    return f"{self.describe()} (item {index + 1}: {inner})"
        return None

    def describe(self) -> str:
        return "a list of " + _count(self.min_items, self.max_items, "items")


@dataclass(frozen=True, kw_only=True)
class Group:
    """A JSON object with named fields (``model_params``); ``open`` lets unnamed ones pass."""

    fields: Mapping[str, Rule] = field(default_factory=dict, hash=False)
    required: tuple[str, ...] = ()
    open: bool = False
    default: None = None
    lenient: bool = False

    def __post_init__(self) -> None:
        if missing := [name for name in self.required if name not in self.fields]:
            raise ValueError(f"required fields without a rule: {', '.join(missing)}")

    def problem(self, value: object) -> str | None:
        if not isinstance(value, Mapping):
            return self.describe()
        for name in self.required:
            if name not in value:
                return f"an object with {name!r} (required)"
        for name, inner_value in value.items():
            rule = self.fields.get(name)
            if rule is None:
                if self.open:
                    continue
                known = ", ".join(self.fields) or "none"
                return f"an object without {name!r} (its fields: {known})"
            inner = rule.problem(inner_value)
            if inner is not None and not rule.lenient:
                return f"{name} must be {inner}"
        return None

    def describe(self) -> str:
        if not self.fields:
            return "an object"
        return "an object with " + ", ".join(self.fields)


#: Every kind of rule.
Rule = Text | OneOf | Whole | Number | Flag | Link | Links | ListOf | Group


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if value in {"-1", "0"} else value
    return str(value)
