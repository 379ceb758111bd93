"""Provider adapters: one module per video API, all behind :class:`Provider`."""

from __future__ import annotations

from receiver.config import Settings
from receiver.errors import ConfigError
from receiver.providers.base import JobRequest, Provider, TaskSnapshot, TaskStatus

__all__ = ["PROVIDER_NAMES", "JobRequest", "Provider", "TaskSnapshot", "TaskStatus", "build"]

PROVIDER_NAMES = ("evolink",)


def build(name: str, settings: Settings) -> Provider:
    """The adapter for provider ``name``, configured from ``settings``."""
    if name == "evolink":
        from receiver.providers.evolink import EvoLinkProvider

        return EvoLinkProvider(api_key=settings.evolink_api_key, base_url=settings.evolink_base_url)
    raise ConfigError("provider", f"unknown provider {name!r}; known: {', '.join(PROVIDER_NAMES)}")
