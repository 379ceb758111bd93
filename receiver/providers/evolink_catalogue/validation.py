"""Checking a request against its catalogue entry, building its body, pricing it.

Pure functions of an :class:`Entry` and the request's fields (EvoLink's names, JSON values):
each refusal names the field and the model's rule, e.g. ``duration:
seedance-2.0-text-to-video takes a whole number from 4 to 15, got 20``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from receiver.errors import ValidationError
from receiver.providers.evolink_catalogue import pricing
from receiver.providers.evolink_catalogue.entry import Entry

__all__ = ["check_fields", "credits_for", "request_body", "unknown_model_body"]

#: Fields a request never gives itself: the model is the entry's, the callback is ours.
_RESERVED = ("model", "callback_url")


def check_fields(entry: Entry, fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` checked by ``entry``'s rules: the body's fields, without the unset (None)
    ones; raises :class:`ValidationError` naming the first field that breaks a rule.

    A rule marked lenient (its fact is UNCONFIRMED) lets any value of the right field pass.
    """
    body: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None:
            continue
        if name in _RESERVED:
            raise ValidationError(name, "is set by the receiver, not by the request")
        rule = entry.fields.get(name)
        if rule is None:
            known = ", ".join(sorted(entry.fields))
            raise ValidationError(name, f"{entry.model} takes no {name!r}; its fields are {known}")
        problem = rule.problem(value)
        if problem is not None and not rule.lenient:
            raise ValidationError(name, f"{entry.model} takes {problem}, got {_shown(value)}")
        if name in entry.required and isinstance(value, str) and not value.strip():
            raise ValidationError(name, f"{entry.model} requires {name}: it must not be empty")
        body[name] = value
    for name in entry.required:
        if name not in body:
            rule = entry.fields[name]
            raise ValidationError(name, f"{entry.model} requires {name} ({rule.describe()})")
    for group in entry.at_least_one_of:
        if not any(name in body for name in group):
            raise ValidationError(
                group[0], f"{entry.model} needs at least one of {', '.join(group)}"
            )
    return body


def request_body(entry: Entry, fields: Mapping[str, Any], *, callback_url: str) -> dict[str, Any]:
    """The JSON body of ``POST {entry.endpoint}`` for ``fields`` (checked again here)."""
    return {"model": entry.model, **check_fields(entry, fields), "callback_url": callback_url}


def unknown_model_body(
    model: str, fields: Mapping[str, Any], *, callback_url: str
) -> dict[str, Any]:
    """The body for a model the catalogue does not know: its fields passed on unchecked."""
    body = {name: value for name, value in fields.items() if value is not None}
    for name in _RESERVED:
        if name in body:
            raise ValidationError(name, "is set by the receiver, not by the request")
    return {"model": model, **body, "callback_url": callback_url}


def credits_for(entry: Entry, body: Mapping[str, Any]) -> float | None:
    """What a checked body costs by the entry's price rule, or None when it has none."""
    if entry.price is None:
        return None
    return pricing.credits(entry.price, body, entry.defaults)


def _shown(value: object) -> str:
    """A refused value as the person typed it, cut short."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
