"""The ``--shot SECONDS:TEXT`` option (and a batch file's ``shots`` column) as a shot.

The shots themselves, their rules and how they are written into a prompt are the
provider's: :mod:`receiver.providers.shots`.
"""

from __future__ import annotations

from receiver.errors import ValidationError
from receiver.providers.shots import Shot, parse_seconds

__all__ = ["Shot", "parse_shot"]


def parse_shot(text: str) -> Shot:
    """``"3:the fox runs"`` as a shot (what ``--shot SECONDS:TEXT`` takes)."""
    seconds, sep, description = text.partition(":")
    number = parse_seconds(seconds) if sep else None
    if number is None:
        raise ValidationError(
            "shot", f"expected SECONDS:TEXT, e.g. '3:the fox runs through snow', got {text!r}"
        )
    return Shot(number, description)
