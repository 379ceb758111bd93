"""Text from outside (providers, callbacks, endpoints) made safe to print on a terminal.

Its own module, so the CLI can use it at import time without loading what the presenters
need (the database layer, boto3).
"""

from __future__ import annotations

__all__ = ["terminal_safe"]

# Every character a terminal may act on instead of printing: C0 controls (ESC, BEL, CR, BS,
# newline and tab included: a line of ours never holds one from outside), DEL and the C1
# controls (U+009B is a one-character CSI), plus the Unicode line separators and the bidi
# overrides, which move or reorder what is displayed. Each is written as a Python escape.
_UNSAFE = [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F)]
_UNSAFE += range(0x2066, 0x206A)
_ESCAPES = {code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" for code in _UNSAFE}
_ESCAPES.update({ord("\t"): "\\t", ord("\n"): "\\n", ord("\r"): "\\r"})


def terminal_safe(text: str) -> str:
    """``text`` with every character a terminal would act on written as an escape (``\\x1b``,
    ``\\x9b``, ``\\n``, ``\\u202e``): what a person reads is what was stored, and nothing else."""
    return text.translate(_ESCAPES)
