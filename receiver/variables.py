"""How a setting is declared: its environment variable, the parser of its value, its docs.

:class:`receiver.config.Settings` is the one table of the settings: each field is written
once, as ``name: type = setting(VARIABLE, parser, default=..., section=..., help=...)``.
:func:`setting` is generic, so mypy checks that the parser yields the field's type; the
field's default is the declared default parsed by that parser, so the dataclass and the
environment cannot disagree. ``infra/env.example``, the tables of ``docs/configuration.md``
and the variables ``receiver --help`` lists are generated from the same table
(:mod:`receiver.config_docs`).

A parser turns the (stripped, non-empty) text of a variable into a value, or raises
ValueError with a message that says what is wrong; :meth:`Setting.read` adds the
variable's name (a :class:`~receiver.errors.ConfigError`). Checks that involve several
settings are made after parsing (:func:`receiver.config.check_together`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypedDict, TypeVar, overload
from urllib.parse import urlsplit

from receiver.errors import ConfigError

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "SECTIONS",
    "SIMULATOR",
    "SIMULATOR_VARIABLES",
    "Parser",
    "Secret",
    "Setting",
    "Variable",
    "choice",
    "declaration",
    "duration",
    "flag",
    "integer",
    "items",
    "parse_byte_size",
    "parse_duration",
    "secret",
    "setting",
    "size",
    "text",
    "url",
]

T = TypeVar("T")
Choice = TypeVar("Choice", bound=str)
#: Text to value; raises ValueError with a message naming the problem (never the value of
#: a secret).
Parser: TypeAlias = Callable[[str], T]

#: The docs' sections, in order (``env.example`` adds "Must set" and "Docker compose only").
SECTIONS = (
    "Storage",
    "Callbacks",
    "Providers",
    "Submitting",
    "Archiving",
    "Recovery",
    "Notifications",
    "Operations",
    "Simulator",
)
#: Variables only ``receiver simulator`` reads (not in ``env.example``: never in production).
SIMULATOR = "Simulator"

_METADATA_KEY = "receiver.setting"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
#: The longest duration anything takes: a century. Longer ones overflow dates and timers
#: (``now - 1000000d`` is before year 1), so they are refused as bad input.
_MAX_DURATION_DAYS = 36500
_SIZE = re.compile(r"^\s*(\d+)\s*(b|kib|mib|gib|kb|mb|gb|k|m|g)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    None: 1, "b": 1,
    "k": 1024, "kib": 1024, "kb": 1000,
    "m": 1024**2, "mib": 1024**2, "mb": 1000**2,
    "g": 1024**3, "gib": 1024**3, "gb": 1000**3,
}  # fmt: skip


class Secret:
    """A string that never prints itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def parse_duration(text: str) -> float:
    """Seconds from ``"90"``, ``"90s"``, ``"15m"``, ``"72h"`` or ``"2d"``."""
    match = _DURATION.match(text.lower())
    if not match:
        raise ValueError(f"{text!r} is not a duration (examples: 30s, 15m, 72h, 2d)")
    seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    # Not finite when the digits overflow a float (float("9" * 400) is inf).
    if not seconds <= _MAX_DURATION_DAYS * 86400.0:
        raise ValueError(f"{text.strip()!r} is too long: at most {_MAX_DURATION_DAYS}d")
    return seconds


def parse_byte_size(text: str) -> int:
    """Bytes from ``"1048576"``, ``"8MiB"``, ``"2GiB"`` (k/m/g are binary units)."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a size (examples: 1MiB, 8MiB, 2GiB)")
    return int(match.group(1)) * _SIZE_UNITS[(match.group(2) or "").lower() or None]


# ── parsers ──


def text(value: str) -> str:
    return value


def secret(value: str) -> Secret:
    return Secret(value)


def flag(value: str) -> bool:
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected 1/0, true/false, yes/no or on/off, got {value!r}")


def integer(*, minimum: int = 1) -> Parser[int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"expected a whole number, got {value!r}") from None
        if number < minimum:
            raise ValueError(f"must be at least {minimum}, got {number}")
        return number

    return parse


def duration(value: str) -> float:
    """Seconds, more than zero."""
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    return seconds


def size(value: str) -> int:
    return parse_byte_size(value)


def choice(options: tuple[Choice, ...]) -> Parser[Choice]:
    """One of ``options``, in any case."""

    def parse(value: str) -> Choice:
        lowered = value.lower()
        for option in options:
            if option == lowered:
                return option
        raise ValueError(f"expected one of {', '.join(options)}, got {lowered!r}")

    return parse


def url(value: str) -> str:
    """An http(s) URL without its trailing ``/``. Whether it must be https depends on
    ``RECEIVER_INSECURE``, so that is checked after parsing."""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        # Scheme only: the rest of a URL may hold credentials.
        raise ValueError(f"expected an http(s) URL, got a {parts.scheme or 'schemeless'} one")
    return value.rstrip("/")


def items(parse_item: Parser[T]) -> Parser[tuple[T, ...]]:
    """A comma-separated list, each item parsed by ``parse_item``; ``""`` is the empty list.

    An empty item (``a,,b``, a lone ``,``) is refused rather than skipped:
    ``RECEIVER_SECRET_KEYS=$NEW,$OLD`` with ``$OLD`` unset would otherwise drop the old key,
    and the callbacks in flight with it.
    """

    def parse(value: str) -> tuple[T, ...]:
        if not value:
            return ()
        parts = [item.strip() for item in value.split(",")]
        if not all(parts):
            # Positions, not the value: it may be a list of keys.
            empty = ", ".join(str(number) for number, item in enumerate(parts, 1) if not item)
            raise ValueError(
                f"holds an empty item (number {empty} of {len(parts)}): separate the values "
                "with single commas, with no comma at either end"
            )
        return tuple(parse_item(item) for item in parts)

    return parse


# ── the declaration ──


@dataclass(frozen=True, kw_only=True)
class Variable:
    """One environment variable, as ``env.example``, the docs and ``--help`` show it.

    ``meaning`` is one line of plain text (backticks allowed): it is the comment in
    ``env.example`` and the start of the docs' cell; ``more`` is Markdown for the docs only,
    ``note`` a remark for ``env.example`` only, ``brief`` a few words for ``receiver --help``
    (only the variables that have one are listed there).
    """

    name: str
    section: str
    meaning: str
    #: As set in the environment; None or "": nothing unless given.
    default: str | None = None
    #: What the docs say in the default column when there is no default.
    unset: str = "(none)"
    more: str = ""
    note: str = ""
    brief: str = ""
    #: ``env.example`` writes ``NAME=example`` (to be edited) rather than ``#NAME=default``.
    example: str | None = None
    #: ``env.example`` lists it first, under "Must set".
    must_set: bool = False
    secret: bool = False

    @property
    def in_example(self) -> bool:
        return self.section != SIMULATOR


@dataclass(frozen=True, kw_only=True)
class Setting(Generic[T]):
    """How one field of the settings is read: its variable, and the parser of its text."""

    variable: Variable
    parser: Parser[T]
    #: Read when ``variable`` is unset (``AWS_DEFAULT_REGION`` under ``AWS_REGION``).
    fallback: Variable | None = None

    @property
    def variables(self) -> tuple[Variable, ...]:
        return (self.variable,) if self.fallback is None else (self.variable, self.fallback)

    def read(self, environ: Mapping[str, str]) -> T | None:
        """The value in ``environ`` (a blank one counts as unset), else the default's, else
        None; a value the parser refuses is a ConfigError naming the variable."""
        for variable in self.variables:
            given = environ.get(variable.name, "").strip()
            if given:
                return self.parse(variable.name, given)
        if self.variable.default is None:
            return None
        return self.parse(self.variable.name, self.variable.default)

    def parse(self, name: str, value: str) -> T:
        try:
            return self.parser(value)
        except ValueError as exc:
            raise ConfigError(name, str(exc)) from None


def declaration(metadata: Mapping[str, object]) -> Setting[Any] | None:
    """The declaration a dataclass field made with :func:`setting` carries, else None."""
    found = metadata.get(_METADATA_KEY)
    return found if isinstance(found, Setting) else None


class _Docs(TypedDict, total=False):
    unset: str
    more: str
    note: str
    brief: str
    example: str
    must_set: bool
    secret: bool


@overload
def setting(
    variable: str,
    parser: Parser[T],
    *,
    default: str,
    section: str,
    help: str,
    fallback: Variable | None = None,
    in_repr: bool | None = None,
    **docs: Unpack[_Docs],
) -> T: ...


@overload
def setting(
    variable: str,
    parser: Parser[T],
    *,
    default: None = None,
    section: str,
    help: str,
    fallback: Variable | None = None,
    in_repr: bool | None = None,
    **docs: Unpack[_Docs],
) -> T | None: ...


def setting(
    variable: str,
    parser: Parser[T],
    *,
    default: str | None = None,
    section: str,
    help: str,
    fallback: Variable | None = None,
    in_repr: bool | None = None,
    **docs: Unpack[_Docs],
) -> Any:
    """A field of the settings read from ``variable`` by ``parser``.

    Its default is ``default`` parsed as if it were set (None when there is none: the field
    is then ``T | None``). The dataclass's repr leaves it out when ``in_repr`` is false, which
    is the default for a secret.
    """
    declared = Setting(
        variable=Variable(name=variable, section=section, meaning=help, default=default, **docs),
        parser=parser,
        fallback=fallback,
    )
    value = None if default is None else declared.parse(variable, default)
    return field(
        default=value,
        repr=not declared.variable.secret if in_repr is None else in_repr,
        metadata={_METADATA_KEY: declared},
    )


SIMULATOR_VARIABLES = (
    Variable(
        name="RECEIVER_SIMULATOR_API_KEY",
        section=SIMULATOR,
        unset="(any key)",
        meaning="`receiver simulator`: the only EvoLink API key it accepts",
        secret=True,
    ),
    Variable(
        name="RECEIVER_SIMULATOR_KLING_SECRET_KEY",
        section=SIMULATOR,
        unset="(unchecked)",
        meaning="`receiver simulator`: the key Kling tokens must be signed with",
        secret=True,
    ),
)
