"""Multi-shot prompts: the --shot option, the provider's shot syntax, its rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from receiver.config import Settings
from receiver.context import Context
from receiver.errors import ValidationError
from receiver.providers.base import JobRequest
from receiver.providers.evolink_protocol import validate_request
from receiver.providers.shots import (
    Shot,
    check_shots,
    compose_prompt,
    parse_seconds,
    shots_in_prompt,
)
from receiver.submission.shots import parse_shot
from receiver.submission.spec import JobSpec, prepare
from tests.conftest import make_env


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    context = Context(Settings.from_env(make_env(tmp_path)))
    yield context
    context.close()


def test_the_option_reads_seconds_and_text() -> None:
    assert parse_shot("3: the fox runs through snow ") == Shot(3, "the fox runs through snow")
    # Only the first colon separates: the text may hold more.
    assert parse_shot("2:close-up: eyes open").text == "close-up: eyes open"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("the fox runs", "expected SECONDS:TEXT"),
        ("two:the fox runs", "expected SECONDS:TEXT"),
        ("0:the fox runs", "at least 1 second"),
        ("3:", "needs a description"),
        ("3:the fox; then snow", "may not contain ';'"),
    ],
)
def test_a_bad_shot_option_says_why(text: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        parse_shot(text)


@pytest.mark.parametrize(
    "seconds",
    [
        "\u00b2",  # superscript two: str.isdigit() says yes, int() says no
        "\u00b3",
        "\u0663",  # Arabic-Indic three: int() reads it, the provider's syntax does not
        "9" * 5000,  # more digits than int() converts
        "-3",
        "3.5",
    ],
)
def test_seconds_that_are_not_plain_digits_are_refused_not_crashed_on(seconds: str) -> None:
    assert parse_seconds(seconds) is None
    with pytest.raises(ValidationError, match="expected SECONDS:TEXT"):
        parse_shot(f"{seconds}:the fox runs")


def test_seconds_are_plain_digits() -> None:
    assert parse_seconds(" 12 ") == 12
    assert parse_seconds("007") == 7
    assert parse_seconds("") is None


def test_hand_written_shots_with_a_number_too_long_to_read_are_refused() -> None:
    with pytest.raises(ValidationError, match="unreadable seconds") as caught:
        shots_in_prompt(f"shot 1, {'9' * 5000}, a door opens;")
    assert caught.value.field == "prompt"


def test_shots_are_written_in_the_providers_syntax() -> None:
    shots = [Shot(2, "the fox wakes"), Shot(3, "it runs into the snow")]
    assert compose_prompt("A red fox, cinematic.", shots) == (
        "A red fox, cinematic. shot 1, 2, the fox wakes; shot 2, 3, it runs into the snow;"
    )
    assert compose_prompt("", shots[:1]) == "shot 1, 2, the fox wakes;"


def test_shots_must_add_up_to_the_duration() -> None:
    check_shots([Shot(2, "a"), Shot(3, "b")], 5)
    with pytest.raises(ValidationError, match=r"2 \+ 3 = 5 seconds but the duration is 6") as bad:
        check_shots([Shot(2, "a"), Shot(3, "b")], 6)
    # --shot's total is the default duration, so leaving it out is a way out.
    assert "leave the duration out to use their sum" in bad.value.message


def test_hand_written_shots_get_a_hint_that_holds_for_them() -> None:
    # Their sum is not the default duration: "leave out --duration" would change nothing.
    prompt = "shot 1, 2, a door opens; shot 2, 4, light floods in;"
    with pytest.raises(ValidationError) as caught:
        validate_request(JobRequest(prompt=prompt))
    assert caught.value.field == "prompt"
    assert "2 + 4 = 6 seconds but the duration is 5" in caught.value.message
    assert "give the duration 6" in caught.value.message
    assert "leave" not in caught.value.message
    assert validate_request(JobRequest(prompt=prompt, duration=6)).duration == 6


def test_at_most_six_shots() -> None:
    check_shots([Shot(2, "x")] * 6, 12)
    with pytest.raises(ValidationError, match="at most 6 shots, got 7"):
        check_shots([Shot(2, "x")] * 7, 14)


def test_the_provider_rules_check_shots_written_by_hand() -> None:
    good = JobRequest(prompt="shot 1, 2, a door opens; shot 2, 3, light floods in;", duration=5)
    assert validate_request(good).prompt == good.prompt
    bad = JobRequest(prompt="shot 1, 2, a door opens; shot 2, 4, light floods in;", duration=5)
    with pytest.raises(ValidationError) as caught:
        validate_request(bad)
    assert caught.value.field == "prompt"
    # Prompts without shot syntax are untouched by the rule.
    assert validate_request(JobRequest(prompt="a shot of espresso", duration=5))


def test_the_duration_defaults_to_the_shots_total(ctx: Context) -> None:
    spec = JobSpec(prompt="A fox.", shots=(Shot(4, "it sleeps"), Shot(3, "it wakes")))
    prepared = prepare(ctx, spec)
    assert prepared.request.duration == 7
    assert prepared.request.prompt == "A fox. shot 1, 4, it sleeps; shot 2, 3, it wakes;"
    with pytest.raises(ValidationError, match="duration is 5"):
        prepare(ctx, JobSpec(prompt="A fox.", shots=spec.shots, duration=5))


def test_a_prompt_too_long_with_its_shots_says_so(ctx: Context) -> None:
    shots = tuple(Shot(2, "w" * 400) for _ in range(5))
    with pytest.raises(ValidationError, match="with its 5 shots written in, the prompt is"):
        prepare(ctx, JobSpec(prompt="p" * 500, shots=shots))
    # The same prompt without shots is fine.
    assert prepare(ctx, JobSpec(prompt="p" * 500)).request.duration == 5


def test_shots_or_a_prompt_are_needed(ctx: Context) -> None:
    with pytest.raises(ValidationError, match="give a prompt, or shots"):
        prepare(ctx, JobSpec(prompt="  "))


@pytest.mark.parametrize("image", ["", "   "])
def test_an_empty_image_is_refused_not_turned_into_text_to_video(ctx: Context, image: str) -> None:
    with pytest.raises(ValidationError, match="is empty") as caught:
        prepare(ctx, JobSpec(prompt="A fox.", image=image))
    assert caught.value.field == "image"


def test_an_image_path_of_an_unknown_home_is_refused(ctx: Context) -> None:
    with pytest.raises(ValidationError, match="no home directory"):
        prepare(ctx, JobSpec(prompt="A fox.", image="~no-such-user-here-7f3a/frame.png"))
