"""The simulator's knobs: one frozen record, changed only by replacing it.

Tests build a :class:`SimulatorConfig` up front and may swap it at run time through
``PATCH /_simulator/config`` (see :func:`patched`). Every task keeps the config that was
current when it was created, so changing a knob never rewrites a task already in flight.
"""

from __future__ import annotations

import dataclasses
import math
import secrets
import ssl
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from receiver.devtools.simulator._tls import client_context
from receiver.devtools.simulator.video import MIN_PADDING, sample_size

__all__ = [
    "OUTCOMES",
    "SECRET_VARIABLES",
    "Outcome",
    "SimulatorConfig",
    "patched",
    "public_view",
    "secrets_from_env",
]

Outcome = Literal["completed", "failed", "cancelled", "unknown"]
OUTCOMES: tuple[Outcome, ...] = typing.get_args(Outcome)

_MASK = "**********"
_SECRET_FIELDS = ("api_key", "secret", "kling_secret_key")

#: Where ``receiver simulator`` reads its secrets from: the environment, which only the
#: process's own user can read, where a command line is shown to every user by ``ps``.
SECRET_VARIABLES = {
    "api_key": "RECEIVER_SIMULATOR_API_KEY",
    "kling_secret_key": "RECEIVER_SIMULATOR_KLING_SECRET_KEY",
}


def secrets_from_env(environ: Mapping[str, str], **given: str | None) -> dict[str, str | None]:
    """The simulator's secrets by field name: each as ``given`` (a command-line flag, kept for
    compatibility) when it is, else from its variable in ``environ``, else ``None``."""
    unknown = set(given) - set(SECRET_VARIABLES)
    if unknown:
        raise TypeError(f"not a secret of the simulator: {', '.join(sorted(unknown))}")
    return {
        name: given.get(name) or environ.get(variable) or None
        for name, variable in SECRET_VARIABLES.items()
    }


@dataclass(frozen=True, kw_only=True)
class SimulatorConfig:
    """How the simulated EvoLink (and Kling) API behaves; every field has a usable default."""

    #: The only Bearer key accepted; ``None`` accepts any non-empty key.
    api_key: str | None = field(default=None, repr=False)
    #: The Kling access key whose tokens are accepted; ``None`` accepts any issuer.
    kling_access_key: str | None = None
    #: The Kling secret key tokens must be signed with; ``None`` checks no signature.
    kling_secret_key: str | None = field(default=None, repr=False)
    #: Seconds from creation to the final status.
    delay: float = 2.0
    #: Seconds from creation to ``processing``; ``None`` means half of ``delay``.
    processing_after: float | None = None
    #: The final status of tasks whose prompt carries no ``[sim:...]`` marker.
    outcome: Outcome = "completed"
    #: ``task_info.estimated_time`` in every task object.
    estimated_time: int = 180
    #: Base of the video links; ``None`` uses the base URL the task was created through.
    public_url: str | None = None
    #: Seconds a video link stays valid after completion (EvoLink: 24 hours).
    link_ttl: float = 86400.0
    #: Size of every video; ``None`` serves the bundled sample as is.
    video_bytes: int | None = None
    #: The first N downloads of each task answer 500.
    video_fail_first: int = 0
    #: The next N downloads of each task (after the 500s) break off half-way through the body.
    video_truncate_first: int = 0
    #: Serve video bodies no faster than this many bytes a second (a slow, trickling CDN).
    video_bytes_per_second: int | None = None
    #: Total time allowed for one callback attempt.
    callback_timeout: float = 10.0
    #: Pauses before each retry of a failed callback; its length is the number of retries.
    retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0)
    #: The first N callback attempts of each task count as failed whatever the answer.
    callback_fail_first: int = 0
    #: Extra copies of a callback sent after it was delivered.
    duplicate_callbacks: int = 0
    #: A CA file trusted for https callbacks besides the system's (e.g. Caddy's local CA).
    ca_bundle: str | None = None
    #: Accept ``http://`` callback URLs (EvoLink only calls https).
    allow_http_callbacks: bool = False
    #: Accept callback URLs on localhost and private IPv4 ranges (EvoLink refuses them).
    allow_private_callbacks: bool = False
    #: The next N create calls answer 429; each refusal counts it down.
    rate_limit_next: int = 0
    #: Fetch image_start at create and refuse the task when it cannot be downloaded.
    fetch_images: bool = False
    #: ``usage.credits_reserved`` as a multiple of the documented price: the provider's own
    #: figure, which the receiver must prefer to its estimate, need not equal it.
    reserved_credits_factor: float = 1.0
    #: Key of the HMAC that signs video links.
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def processing_delay(self) -> float:
        """Seconds from creation to ``processing``, never after the final status."""
        after = self.delay / 2 if self.processing_after is None else self.processing_after
        return min(after, self.delay)

    @property
    def video_size(self) -> int:
        return sample_size() if self.video_bytes is None else self.video_bytes

    def _problems(self) -> typing.Iterator[str]:
        for name in ("delay", "processing_after", "link_ttl", "reserved_credits_factor"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                yield f"{name} must be a finite number >= 0"
        if not (math.isfinite(self.callback_timeout) and self.callback_timeout > 0):
            yield "callback_timeout must be a finite number > 0"
        if any(not (math.isfinite(delay) and delay >= 0) for delay in self.retry_delays):
            yield "retry_delays must be finite numbers >= 0"
        for name in (
            "estimated_time",
            "video_fail_first",
            "video_truncate_first",
            "callback_fail_first",
            "duplicate_callbacks",
            "rate_limit_next",
        ):
            if getattr(self, name) < 0:
                yield f"{name} must be >= 0"
        if self.outcome not in OUTCOMES:
            yield f"outcome must be one of {', '.join(OUTCOMES)}"
        yield from self._text_problems()
        if self.video_bytes is not None:
            yield from _video_bytes_problems(self.video_bytes)
        if self.video_bytes_per_second is not None and self.video_bytes_per_second <= 0:
            yield "video_bytes_per_second must be > 0 (use null for full speed)"

    def _text_problems(self) -> typing.Iterator[str]:
        if self.api_key is not None and not self.api_key.strip():
            yield "api_key must not be empty (use null to accept any key)"
        for name in ("kling_access_key", "kling_secret_key"):
            value = getattr(self, name)
            if value is not None and not value.strip():
                yield f"{name} must not be empty (use null to accept any)"
        if not self.secret:
            yield "secret must not be empty"
        if self.public_url is not None:
            parts = urlsplit(self.public_url)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                yield f"public_url must be an http(s) URL, got {self.public_url!r}"
        if self.ca_bundle is not None:
            try:
                client_context(self.ca_bundle)
            except (OSError, ssl.SSLError) as exc:
                yield f"ca_bundle {self.ca_bundle!r} cannot be loaded: {exc}"


def _video_bytes_problems(video_bytes: int) -> typing.Iterator[str]:
    sample = sample_size()
    if video_bytes < sample:
        yield f"video_bytes must be at least the sample's {sample} bytes"
    elif 0 < video_bytes - sample < MIN_PADDING:
        # The padding is one MP4 box, and a box cannot be smaller than its header.
        yield f"video_bytes must be {sample} or at least {sample + MIN_PADDING}"


def patched(config: SimulatorConfig, changes: Mapping[str, Any]) -> SimulatorConfig:
    """``config`` with ``changes`` (decoded JSON) applied.

    Raises ``ValueError`` naming the offending key on unknown names, wrong types or values
    the config refuses.
    """
    hints = typing.get_type_hints(SimulatorConfig)
    unknown = sorted(set(changes) - set(hints))
    if unknown:
        raise ValueError(f"unknown config field(s): {', '.join(unknown)}")
    converted = {name: _convert(name, hints[name], value) for name, value in changes.items()}
    return dataclasses.replace(config, **converted)


def public_view(config: SimulatorConfig) -> dict[str, Any]:
    """The config as JSON, secrets masked."""
    view = dataclasses.asdict(config)
    for name in _SECRET_FIELDS:
        if view[name] is not None:
            view[name] = _MASK
    view["retry_delays"] = list(config.retry_delays)
    return view


def _convert(name: str, hint: Any, value: Any) -> Any:
    """``value`` as the type ``hint`` demands (JSON lists become tuples, ints floats)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in {types.UnionType, typing.Union}:
        if value is None and type(None) in args:
            return None
        (inner,) = (arg for arg in args if arg is not type(None))
        return _convert(name, inner, value)
    if origin is tuple and isinstance(value, list | tuple):
        return tuple(_convert(name, args[0], item) for item in value)
    if origin is Literal:
        if value not in args:
            raise ValueError(f"{name} must be one of {', '.join(map(str, args))}")
        return value
    # bool is an int to Python, never to a config field.
    if isinstance(value, bool) != (hint is bool):
        raise ValueError(f"{name} must be {_describe(hint)}")
    if hint is float and isinstance(value, int | float):
        return float(value)
    if isinstance(hint, type) and origin is None and isinstance(value, hint):
        return value
    raise ValueError(f"{name} must be {_describe(hint)}")


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) is tuple:
        return "a list of numbers"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(
        hint, str(hint)
    )
