"""The helpers both providers' protocol modules share, held to plain implementations."""

from __future__ import annotations

import random

import pytest

from receiver.errors import ValidationError
from receiver.providers import protocol_common as common
from receiver.providers.base import JobRequest
from receiver.providers.evolink_models import MODELS


def plain_storable(text: str) -> bool:
    """The rule itself, without the ASCII shortcut: no NUL, and encodable as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


_SAMPLES = [
    "",
    "task-unified-1757169743-v3turbot2v",
    "https://cdn.example.com/v.mp4?sig=abc",
    "\x00",
    "t\x00",
    "\x7f",
    "caf\u00e9",
    "\u955c\u5934",
    "\U0001f3ac",
    "\ud800",
    "a\udfffb",
    "\x00\u00e9",
]


@pytest.mark.parametrize("text", _SAMPLES)
def test_storable_agrees_with_the_plain_rule(text: str) -> None:
    assert common.storable(text) == plain_storable(text)


def test_storable_agrees_with_the_plain_rule_on_random_text() -> None:
    rng = random.Random(17)
    # ASCII, NUL, Latin-1, CJK, lone surrogates, astral characters: every path of both.
    alphabet = [chr(c) for c in (*range(0, 128), 0xE9, 0x955C, 0xD800, 0xDFFF, 0x1F3AC)]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
        assert common.storable(text) == plain_storable(text), repr(text)


def test_video_urls_keep_fetchable_storable_urls_once_in_order() -> None:
    candidates: list[object] = [
        "https://a.example/1.mp4",
        3,
        None,
        "ftp://a.example/2.mp4",
        "http://a.example/3.mp4",
        "https://a.example/1.mp4",
        "https://a.example/\x00.mp4",
        "https://a.example/" + "x" * 5000,
    ]
    assert common.video_urls(candidates) == ("https://a.example/1.mp4", "http://a.example/3.mp4")


def test_text_is_clipped_and_numbers_bounded() -> None:
    assert common.clipped_text("e" * 3000) == "e" * 2000
    assert common.clipped_text("a\x00") is None
    assert common.int_or_none(3.9) == 3
    assert common.int_or_none(True) is None
    assert common.int_or_none(float("inf")) is None
    assert common.int_or_none(10**10) is None
    assert common.float_or_none(1e300) is None
    assert common.float_or_none(2) == 2.0


def test_prompt_limits_are_the_models() -> None:
    model = MODELS["kling-v3-turbo-text-to-video"]
    assert common.checked_prompt(JobRequest(prompt=" p "), model) == "p"
    with pytest.raises(ValidationError, match="the limit is 2500") as caught:
        common.checked_prompt(JobRequest(prompt="p" * 2501), model)
    assert caught.value.field == "prompt"
    with pytest.raises(ValidationError) as caught:
        common.checked_prompt(JobRequest(prompt="p", negative_prompt="n" * 2501), model)
    assert caught.value.field == "negative_prompt"
