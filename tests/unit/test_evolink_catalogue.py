"""EvoLink's catalogue: held to the reference's schemas, and its validator held to the table.

The property-based tests draw requests from the table itself: every valid draw passes and
builds a body, and one wrong value per rule kind is refused with a message naming the field,
the model and the rule.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from receiver.errors import ValidationError
from receiver.providers.evolink_catalogue import ABSENT, CATALOGUE, ENDPOINTS, Entry
from receiver.providers.evolink_catalogue.rules import (
    Flag,
    Group,
    Link,
    Links,
    ListOf,
    Number,
    OneOf,
    Rule,
    Text,
    Whole,
)
from receiver.providers.evolink_catalogue.validation import (
    check_fields,
    credits_for,
    request_body,
    unknown_model_body,
)

#: EvoLink's request schemas as the reference publishes them, kept with the tests so the
#: table is checked against them in any checkout (the copy is compared with the team's
#: reference below, where that is present).
_SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "evolink-request-schemas.json"
_REFERENCE = Path(__file__).resolve().parents[3] / "shared/reference/evolink-request-schemas.json"


def _schemas() -> Mapping[str, Any]:
    models: Mapping[str, Any] = json.loads(_SCHEMAS.read_text())["models"]
    return models


@pytest.mark.skipif(
    not _REFERENCE.exists(), reason="the team's reference is not beside this checkout"
)
def test_the_kept_schemas_are_the_references() -> None:
    assert _SCHEMAS.read_bytes() == _REFERENCE.read_bytes(), (
        "shared/reference/evolink-request-schemas.json changed: copy it to tests/data/ and "
        "review the catalogue's entries against it"
    )


# --- the table against the reference --------------------------------------------------


def test_every_model_of_the_reference_has_an_entry_or_a_reason() -> None:
    schemas = _schemas()
    missing = sorted(set(schemas) - set(CATALOGUE) - set(ABSENT))
    assert missing == []
    assert all(reason.strip() for reason in ABSENT.values())
    # And nothing is in the table that the reference does not document.
    assert sorted(set(CATALOGUE) - set(schemas)) == []


def test_each_entry_is_at_its_schemas_endpoint_and_page() -> None:
    for model, schema in _schemas().items():
        entry = CATALOGUE[model]
        assert entry.endpoint == schema["endpoint"], model
        assert schema["page"].endswith(entry.page), model


_TYPES: Mapping[str, tuple[type, ...]] = {
    "string": (Text, OneOf, Link),
    "integer": (Whole, OneOf),
    "number": (Whole, Number, OneOf),
    "boolean": (Flag,),
    "array": (Links, ListOf),
    "object": (Group,),
}


def _agrees(where: str, rule: Rule, schema: Mapping[str, Any]) -> list[str]:
    """How ``rule`` accepts more than ``schema`` allows, or misses one of its facts."""
    kind = schema.get("type")
    if "oneOf" in schema and kind != "object":
        kinds = {option["type"] for option in schema["oneOf"]}
        if not isinstance(rule, Whole) or not kinds <= {"integer", "string"}:
            return [f"{where}: oneOf {kinds} as {type(rule).__name__}"]
        return []
    if isinstance(kind, str) and kind in _TYPES and not isinstance(rule, _TYPES[kind]):
        return [f"{where}: {kind} as {type(rule).__name__}"]
    problems = [
        *_enum_problems(where, rule, schema),
        *_range_problems(where, rule, schema),
        *_length_problems(where, rule, schema),
        *_group_problems(where, rule, schema),
    ]
    default = schema.get("default")
    if default is not None and rule.default is not None and rule.default != default:
        problems.append(f"{where}: default {rule.default!r} != {default!r}")
    return problems


def _enum_problems(where: str, rule: Rule, schema: Mapping[str, Any]) -> list[str]:
    if "enum" not in schema:
        return []
    if not isinstance(rule, OneOf):
        return [f"{where}: enum {schema['enum']} as {type(rule).__name__}"]
    if not set(rule.values) <= set(schema["enum"]):
        return [f"{where}: {rule.values} not within {schema['enum']}"]
    return []


def _range_problems(where: str, rule: Rule, schema: Mapping[str, Any]) -> list[str]:
    if not isinstance(rule, Whole | Number):
        return []
    problems = []
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and (rule.minimum is None or rule.minimum < low):
        problems.append(f"{where}: minimum {rule.minimum} below {low}")
    if high is not None and (rule.maximum is None or rule.maximum > high):
        problems.append(f"{where}: maximum {rule.maximum} above {high}")
    specials = [value for value in getattr(rule, "also", ()) if isinstance(value, int)]
    for special in specials:
        if (low is not None and special < low) or (high is not None and special > high):
            problems.append(f"{where}: special value {special} outside {low}..{high}")
    return problems


def _length_problems(where: str, rule: Rule, schema: Mapping[str, Any]) -> list[str]:
    if isinstance(rule, Text):
        got = (rule.min_chars, rule.max_chars)
        expected = (schema.get("minLength"), schema.get("maxLength"))
    elif isinstance(rule, Links | ListOf):
        got = (rule.min_items, rule.max_items)
        expected = (schema.get("minItems"), schema.get("maxItems"))
    else:
        return []
    problems = [f"{where}: bounds {got} != {expected}"] if got != expected else []
    if isinstance(rule, ListOf) and rule.item is not None and "items" in schema:
        problems += _agrees(f"{where}[]", rule.item, schema["items"])
    return problems


def _group_problems(where: str, rule: Rule, schema: Mapping[str, Any]) -> list[str]:
    if not isinstance(rule, Group) or rule.open:
        return []
    problems = []
    properties = schema.get("properties", {})
    required = schema.get("required", ())
    # A schema may require a field it does not describe (suno-persona's description).
    if set(rule.fields) != set(properties) | set(required):
        problems.append(f"{where}: fields {sorted(rule.fields)} != {sorted(properties)}")
    if set(rule.required) != set(required):
        problems.append(f"{where}: required {rule.required} != {required}")
    for name, inner in rule.fields.items():
        if name in properties:
            problems += _agrees(f"{where}.{name}", inner, properties[name])
    return problems


def test_each_entrys_fields_agree_with_its_json_schema() -> None:
    problems: list[str] = []
    for model, schema in _schemas().items():
        entry = CATALOGUE[model]
        body = schema["request_schema"]
        properties = {
            name: value
            for name, value in body["properties"].items()
            if name not in {"model", "callback_url"}
        }
        if set(entry.fields) != set(properties):
            problems.append(f"{model}: fields {sorted(entry.fields)} != {sorted(properties)}")
        required = set(body.get("required", ())) - {"model"}
        if not required <= set(entry.required):
            problems.append(f"{model}: required {entry.required} misses {required}")
        for name, rule in entry.fields.items():
            if name in properties:
                problems += _agrees(f"{model}.{name}", rule, properties[name])
    assert problems == []


def test_link_lifetimes_follow_the_reference() -> None:
    for model, entry in CATALOGUE.items():
        if model.startswith("suno-"):
            expected = timedelta(hours=72)
        elif model.startswith("mj-v8.1"):
            expected = timedelta(days=30)
        else:
            expected = timedelta(hours=24)
        assert entry.link_lifetime == expected, model


def test_the_unconfirmed_facts_are_said_in_the_table() -> None:
    assert all(CATALOGUE[m].unconfirmed for m in CATALOGUE if m.startswith("mj-"))
    assert any("UNCONFIRMED" in fact for fact in CATALOGUE["mj-v7"].unconfirmed)


# --- drawing requests from the table ---------------------------------------------------

_URL = "https://example.com/input.png"


@functools.singledispatch
def _valid(rule: Any, *, required: bool = False) -> st.SearchStrategy[Any]:
    raise TypeError(rule)


@_valid.register
def _(rule: Text, *, required: bool = False) -> st.SearchStrategy[Any]:
    low = max(rule.min_chars or 0, 1 if required else 0)
    high = min(rule.max_chars or 40, 40)
    return st.text(alphabet="abc xyz", min_size=low, max_size=max(low, high)).filter(
        lambda text: not required or bool(text.strip())
    )


@_valid.register
def _(rule: OneOf, *, required: bool = False) -> st.SearchStrategy[Any]:
    return st.sampled_from(rule.values)


@_valid.register
def _(rule: Whole, *, required: bool = False) -> st.SearchStrategy[Any]:
    low = rule.minimum if rule.minimum is not None else -1000
    high = rule.maximum if rule.maximum is not None else 1000
    numbers: st.SearchStrategy[Any] = st.integers(low, high)
    if rule.fractions:
        numbers = numbers | st.floats(low, high, allow_nan=False)
    return numbers | st.sampled_from(rule.also) if rule.also else numbers


@_valid.register
def _(rule: Number, *, required: bool = False) -> st.SearchStrategy[Any]:
    low = rule.minimum if rule.minimum is not None else -1e6
    high = rule.maximum if rule.maximum is not None else 1e6
    return st.floats(low, high, allow_nan=False)


@_valid.register
def _(rule: Flag, *, required: bool = False) -> st.SearchStrategy[Any]:
    return st.booleans()


@_valid.register
def _(rule: Link, *, required: bool = False) -> st.SearchStrategy[Any]:
    return st.just(_URL)


@_valid.register
def _(rule: Links, *, required: bool = False) -> st.SearchStrategy[Any]:
    low = rule.min_items or 0
    high = rule.max_items if rule.max_items is not None else low + 3
    return st.lists(st.just(_URL), min_size=low, max_size=min(high, low + 3))


@_valid.register
def _(rule: ListOf, *, required: bool = False) -> st.SearchStrategy[Any]:
    item = _valid(rule.item) if rule.item is not None else st.just("x")
    low = rule.min_items or 0
    high = rule.max_items if rule.max_items is not None else low + 2
    return st.lists(item, min_size=low, max_size=min(high, low + 2))


@_valid.register
def _(rule: Group, *, required: bool = False) -> st.SearchStrategy[Any]:
    return _valid_group(rule)


def _valid_group(rule: Group) -> st.SearchStrategy[dict[str, Any]]:
    required = {name: _valid(rule.fields[name], required=True) for name in rule.required}
    optional = {
        name: _valid(inner) for name, inner in rule.fields.items() if name not in rule.required
    }
    return st.fixed_dictionaries(required, optional=optional)


@st.composite
def _valid_request(draw: st.DrawFn, entry: Entry) -> dict[str, Any]:
    fields: dict[str, Any] = draw(_valid_group(Group(fields=entry.fields, required=entry.required)))
    for group in entry.at_least_one_of:
        if not any(name in fields for name in group):
            name = draw(st.sampled_from(group))
            fields[name] = draw(_valid(entry.fields[name], required=True))
            rule = entry.fields[name]
            if isinstance(rule, Links) and not fields[name]:
                fields[name] = [_URL]
    return fields


@functools.singledispatch
def _invalid(rule: Any) -> list[Any]:
    """Values ``rule`` must refuse: one per way of breaking it."""
    raise TypeError(rule)


@_invalid.register
def _(rule: Text) -> list[Any]:
    return [42] if rule.max_chars is None else [42, "a" * (rule.max_chars + 1)]


@_invalid.register
def _(rule: OneOf) -> list[Any]:
    return ["not-one-of-them", 987654321]


@_invalid.register
def _(rule: Whole) -> list[Any]:
    wrong: list[Any] = ["five", [5]]
    if rule.minimum is not None and rule.minimum - 1 not in rule.also:
        wrong.append(rule.minimum - 1)
    if rule.maximum is not None and rule.maximum + 1 not in rule.also:
        wrong.append(rule.maximum + 1)
    return wrong if rule.fractions else [*wrong, 5.5]


@_invalid.register
def _(rule: Number) -> list[Any]:
    wrong: list[Any] = ["five"]
    if rule.minimum is not None:
        wrong.append(rule.minimum - 1)
    if rule.maximum is not None:
        wrong.append(rule.maximum + 1)
    return wrong


@_invalid.register
def _(rule: Flag) -> list[Any]:
    return ["yes", 1]


@_invalid.register
def _(rule: Link) -> list[Any]:
    return [42] if rule.data else ["ftp://example.com/a.png", 42]


@_invalid.register
def _(rule: Links) -> list[Any]:
    wrong: list[Any] = [_URL]
    if rule.max_items is not None:
        wrong.append([_URL] * (rule.max_items + 1))
    if rule.min_items:
        wrong.append([_URL] * (rule.min_items - 1))
    return wrong


@_invalid.register
def _(rule: ListOf) -> list[Any]:
    return ["x"] if rule.max_items is None else ["x", ["x"] * (rule.max_items + 1)]


@_invalid.register
def _(rule: Group) -> list[Any]:
    return ["x"] if rule.open else ["x", {"no-such-field": 1}]


_MODELS = sorted(CATALOGUE)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_every_valid_draw_passes_and_builds_its_body(data: st.DataObject) -> None:
    entry = CATALOGUE[data.draw(st.sampled_from(_MODELS))]
    fields = data.draw(_valid_request(entry))
    assert check_fields(entry, fields) == fields
    body = request_body(entry, fields, callback_url="https://r.example/cb")
    assert body == {"model": entry.model, **fields, "callback_url": "https://r.example/cb"}
    credits = credits_for(entry, fields)
    assert credits is None or credits >= 0
    if entry.price is None:
        assert credits is None


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_every_invalid_draw_is_refused_naming_the_field_and_the_rule(
    data: st.DataObject,
) -> None:
    entry = CATALOGUE[data.draw(st.sampled_from(_MODELS))]
    fields = data.draw(_valid_request(entry))
    strict = [name for name, rule in entry.fields.items() if not rule.lenient]
    if not strict:
        return
    name = data.draw(st.sampled_from(strict))
    rule = entry.fields[name]
    fields[name] = data.draw(st.sampled_from(_invalid(rule)))
    with pytest.raises(ValidationError) as refused:
        check_fields(entry, fields)
    assert refused.value.field == name
    assert entry.model in refused.value.message
    if not isinstance(rule, Group):
        assert rule.describe() in refused.value.message


@pytest.mark.parametrize("model", _MODELS)
def test_every_rule_of_every_model_refuses_each_wrong_value(model: str) -> None:
    """The deterministic sweep behind the draws: each field, each way of breaking it."""
    entry = CATALOGUE[model]
    base = {name: _minimal(entry.fields[name]) for name in entry.required}
    for group in entry.at_least_one_of:
        if not any(name in base for name in group):
            base[group[0]] = _minimal(entry.fields[group[0]]) or [_URL]
    assert check_fields(entry, base) == base
    for name, rule in entry.fields.items():
        if rule.lenient:
            continue
        for wrong in _invalid(rule):
            with pytest.raises(ValidationError) as refused:
                check_fields(entry, {**base, name: wrong})
            assert refused.value.field == name, (name, wrong)
    # A field the model does not have, and each required one left out.
    with pytest.raises(ValidationError, match="takes no 'no_such_field'"):
        check_fields(entry, {**base, "no_such_field": 1})
    for name in entry.required:
        with pytest.raises(ValidationError) as refused:
            check_fields(entry, {key: value for key, value in base.items() if key != name})
        assert refused.value.field == name


@functools.singledispatch
def _minimal(rule: Any) -> Any:
    """The smallest value ``rule`` accepts."""
    raise TypeError(rule)


@_minimal.register
def _(rule: Text) -> Any:
    return "a" * max(rule.min_chars or 1, 1)


@_minimal.register
def _(rule: OneOf) -> Any:
    return rule.values[0]


@_minimal.register(Whole)
@_minimal.register(Number)
def _(rule: Whole | Number) -> Any:
    return rule.minimum if rule.minimum is not None else 1


@_minimal.register
def _(rule: Flag) -> Any:
    return True


@_minimal.register
def _(rule: Link) -> Any:
    return _URL


@_minimal.register
def _(rule: Links) -> Any:
    return [_URL] * max(rule.min_items or 1, 1)


@_minimal.register
def _(rule: ListOf) -> Any:
    item = _minimal(rule.item) if rule.item is not None else "x"
    return [item] * max(rule.min_items or 1, 1)


@_minimal.register
def _(rule: Group) -> Any:
    return {name: _minimal(rule.fields[name]) for name in rule.required}


# --- the messages, the prices, the unknown ----------------------------------------------


def test_the_refusal_names_the_field_the_model_and_its_rule() -> None:
    entry = CATALOGUE["seedance-2.0-text-to-video"]
    with pytest.raises(ValidationError) as refused:
        check_fields(entry, {"prompt": "a fox", "duration": 20})
    assert str(refused.value) == (
        "duration: seedance-2.0-text-to-video takes a whole number from 4 to 15, got 20"
    )


@pytest.mark.parametrize(
    ("model", "fields", "credits"),
    [
        # 13.5 credits/s at 720p, x2.5 at 1080p; at least 25.002.
        ("seedance-2.0-text-to-video", {"prompt": "a", "duration": 5}, 67.5),
        ("seedance-2.0-text-to-video", {"prompt": "a", "duration": 4, "quality": "1080p"}, 135.0),
        ("seedance-2.0-text-to-video", {"prompt": "a", "duration": 4, "quality": "480p"}, 25.11),
        # A reference video bills on the input's seconds too: unpriced.
        ("seedance-2.0-reference-to-video", {"prompt": "a", "video_urls": [_URL]}, None),
        # -1 (the model chooses) holds 30 s.
        ("seedance-2.5-text-to-video", {"prompt": "a", "duration": -1}, 602.7),
        # Audio on (the default) doubles Seedance 1.5 Pro.
        ("seedance-1.5-pro", {"prompt": "a", "duration": 5}, 17.78),
        ("seedance-1.5-pro", {"prompt": "a", "duration": 5, "generate_audio": False}, 8.89),
        ("kling-v3-turbo-text-to-video", {"prompt": "a", "duration": 5}, 36.0),
        ("kling-v3-turbo-text-to-video", {"prompt": "a", "duration": 5, "quality": "1080p"}, 45.0),
        ("grok-imagine-video-1.0-i2v", {"prompt": "a", "image_urls": [_URL, _URL]}, 14.47),
        ("sora-2-preview", {"prompt": "a", "duration": 4}, 23.04),
        ("veo3.1-pro-beta", {"prompt": "a"}, 162.0),
        ("suno-v5-beta", {}, 8.0),
        ("gpt-image-2", {"prompt": "a", "n": 4}, None),
    ],
)
def test_prices_come_from_the_table(
    model: str, fields: dict[str, Any], credits: float | None
) -> None:
    entry = CATALOGUE[model]
    assert credits_for(entry, check_fields(entry, fields)) == credits


def test_an_unknown_models_fields_are_passed_on_but_never_the_callback() -> None:
    body = unknown_model_body("brand-new", {"prompt": "a", "n": 2}, callback_url="https://c")
    assert body == {"model": "brand-new", "prompt": "a", "n": 2, "callback_url": "https://c"}
    with pytest.raises(ValidationError) as refused:
        unknown_model_body("brand-new", {"callback_url": "https://evil"}, callback_url="x")
    assert refused.value.field == "callback_url"


def test_every_kind_has_its_endpoint() -> None:
    kinds = {entry.kind for entry in CATALOGUE.values()}
    assert kinds == {"video", "image", "audio"}
    assert ENDPOINTS == {
        "video": "/v1/videos/generations",
        "image": "/v1/images/generations",
        "audio": "/v1/audios/generations",
    }
