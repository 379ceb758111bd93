"""Multi-shot videos: several shots written inside one prompt, in Kling's shot syntax.

Kling 3.0 (on EvoLink and directly) takes up to six shots in the prompt, each written
``shot n, m, words;`` (shot number, its seconds, what it shows), and the shots' seconds must
add up to the video's duration. The keyword is the one the provider's page gives; it is
written here once, so a change of spelling is a change of one line. How many shots a model
takes is its :attr:`~receiver.providers.models.ModelSpec.max_shots`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from receiver.errors import ValidationError

__all__ = [
    "MAX_SHOTS",
    "Shot",
    "check_shots",
    "compose_prompt",
    "parse_seconds",
    "shots_in_prompt",
]

#: Kling 3.0's limit, the default of :func:`check_shots`.
MAX_SHOTS = 6
#: One shot as the provider reads it inside a prompt (ASCII digits: what the provider reads).
_SHOT_IN_PROMPT = re.compile(r"\bshot\s+(\d+)\s*,\s*(\d+)\s*,\s*([^;]*);", re.IGNORECASE | re.ASCII)


@dataclass(frozen=True)
class Shot:
    seconds: int
    text: str

    def __post_init__(self) -> None:
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, int):
            raise ValidationError("shot", f"seconds must be a whole number, got {self.seconds!r}")
        if self.seconds < 1:
            raise ValidationError("shot", f"a shot lasts at least 1 second, got {self.seconds}")
        text = self.text.strip()
        if not text:
            raise ValidationError("shot", "a shot needs a description after SECONDS:")
        # ';' ends a shot in the provider's syntax, and a line break would split the prompt.
        if ";" in text or "\n" in text or "\r" in text:
            raise ValidationError(
                "shot", f"a shot's text may not contain ';' or a line break: {text[:60]!r}"
            )
        object.__setattr__(self, "text", text)


def parse_seconds(text: str) -> int | None:
    """A whole number of seconds written in ASCII digits (``" 12 "``), or None.

    ``str.isdigit`` alone is not enough: it accepts "²", which ``int`` refuses, and ``int``
    refuses numbers of thousands of digits too; neither may escape as a ValueError.
    """
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    try:
        return int(text)
    except ValueError:
        return None


def check_shots(
    shots: Sequence[Shot], duration: int, *, field: str = "shot", max_shots: int = MAX_SHOTS
) -> None:
    """The provider's rules: 1 to ``max_shots`` shots whose seconds add up to the duration.

    ``field`` "prompt" means the shots were written by hand in the prompt: their sum is not
    the default duration (only ``--shot``'s is), so the hint differs.
    """
    if not shots:
        return
    if max_shots < 1:
        raise ValidationError(field, "this model makes single-shot videos: give no shots")
    if len(shots) > max_shots:
        raise ValidationError(field, f"at most {max_shots} shots, got {len(shots)}")
    total = sum(shot.seconds for shot in shots)
    if total != duration:
        parts = " + ".join(str(shot.seconds) for shot in shots)
        hint = (
            f"give the duration {total}, or change the shots"
            if field == "prompt"
            else "or leave the duration out to use their sum"
        )
        raise ValidationError(
            field,
            f"the shots last {parts} = {total} seconds but the duration is {duration}; "
            f"they must add up to it ({hint})",
        )


def compose_prompt(prompt: str, shots: Sequence[Shot]) -> str:
    """The prompt with the shots appended in the provider's syntax.

    ``prompt`` (may be empty) describes what all shots share: the subject, the style.
    """
    written = " ".join(
        f"shot {number}, {shot.seconds}, {shot.text};" for number, shot in enumerate(shots, 1)
    )
    return f"{prompt.strip()} {written}".strip()


def shots_in_prompt(prompt: str) -> list[Shot]:
    """The shots written in a prompt, in order, or [] when it has none.

    Raises :class:`ValidationError` when a shot is written but unusable (no text, or a
    number too long to read).
    """
    shots = []
    for match in _SHOT_IN_PROMPT.finditer(prompt):
        seconds = parse_seconds(match[2])
        if seconds is None:
            raise ValidationError("prompt", f"unreadable seconds in {match[0][:60]!r}")
        shots.append(Shot(seconds, match[3]))
    return shots
