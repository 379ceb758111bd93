"""``receiver models``: what EvoLink's catalogue knows, with its limits and prices; and the
``--param KEY=VALUE`` fields ``submit`` passes on to such models."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from typing import Any

from receiver.cli._common import print_json
from receiver.compat.stdlib_internals import SubParsers
from receiver.config import Settings
from receiver.errors import ValidationError
from receiver.providers.evolink_catalogue import Entry, entries_of_kind

__all__ = ["add_models", "entry_as_json", "parse_params"]

#: The fields a one-line summary shows first, when the model has them.
_SUMMARY_FIELDS = ("duration", "quality", "aspect_ratio", "size", "n", "prompt")


def add_models(commands: SubParsers) -> None:
    models = commands.add_parser(
        "models",
        help="the EvoLink models we know, with their limits and prices",
        description="Every model of EvoLink's catalogue the receiver checks requests for: "
        "its endpoint, fields and their limits, price rule and link lifetime. A model not "
        "listed can still be submitted with --allow-unknown-model (unchecked, unpriced).",
    )
    models.add_argument("--kind", choices=["video", "image", "audio"], help="only this kind")
    models.add_argument("--json", action="store_true", help="print the table as JSON")
    models.set_defaults(run=_models)


def _models(settings: Settings, args: argparse.Namespace) -> int:
    entries = entries_of_kind(args.kind)
    if args.json:
        print_json({"models": [entry_as_json(entry) for entry in entries]})
        return 0
    for entry in entries:
        print(_line(entry))
    print(f"{len(entries)} models; `receiver models --json` shows every field and note")
    return 0


def entry_as_json(entry: Entry) -> dict[str, Any]:
    """An entry as JSON: every field's rule in words, the price rule, the lifetimes."""
    return {
        "model": entry.model,
        "kind": entry.kind,
        "endpoint": entry.endpoint,
        "docs": entry.url,
        "required": list(entry.required),
        "at_least_one_of": [list(group) for group in entry.at_least_one_of],
        "fields": {
            name: {
                "rule": rule.describe(),
                "default": rule.default,
                "lenient": rule.lenient,
            }
            for name, rule in entry.fields.items()
        },
        "price": entry.price.describe() if entry.price is not None else None,
        "link_lifetime_hours": entry.link_lifetime.total_seconds() / 3600,
        "unconfirmed": list(entry.unconfirmed),
        "notes": list(entry.notes),
    }


def _line(entry: Entry) -> str:
    parts = [f"{entry.model} ({entry.kind})"]
    for name in _SUMMARY_FIELDS:
        rule = entry.fields.get(name)
        if rule is not None:
            parts.append(f"{name}: {rule.describe()}")
    inputs = [name for name in entry.fields if name.endswith(("_urls", "_url", "_start", "_end"))]
    if inputs:
        parts.append(f"inputs: {', '.join(inputs)}")
    parts.append(f"price: {entry.price.describe() if entry.price else 'unpriced'}")
    hours = entry.link_lifetime.total_seconds() / 3600
    parts.append(f"links: {hours:g} h")
    if entry.unconfirmed:
        parts.append("UNCONFIRMED: " + "; ".join(entry.unconfirmed))
    return " | ".join(parts)


def parse_params(items: Iterable[str]) -> dict[str, Any]:
    """``KEY=VALUE`` options as request fields: a JSON value (``5``, ``true``, ``["a"]``)
    or else the text as given; a dotted key fills a nested object
    (``model_params.web_search=true``)."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValidationError("--param", f"expected KEY=VALUE, got {item!r}")
        try:
            value: Any = json.loads(text)
        except ValueError:
            value = text
        *parents, leaf = key.split(".")
        target = params
        for parent in parents:
            inner = target.setdefault(parent, {})
            if not isinstance(inner, dict):
                raise ValidationError("--param", f"{parent} is set twice: as a value and fields")
            target = inner
        if leaf in target:
            raise ValidationError("--param", f"{key} is given twice")
        target[leaf] = value
    return params
