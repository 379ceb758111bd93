"""Provider adapters: one module per video API, all behind :class:`Provider`."""

from __future__ import annotations

from receiver.config import Settings
from receiver.errors import ConfigError
from receiver.providers.base import JobRequest, Provider, TaskSnapshot, TaskStatus

__all__ = ["PROVIDER_NAMES", "JobRequest", "Provider", "TaskSnapshot", "TaskStatus", "build"]

#: Every provider a job may name; also the segments ``/callbacks/<name>/<token>`` accepts.
PROVIDER_NAMES = ("evolink", "kling")


def build(name: str, settings: Settings) -> Provider:
    """The adapter for provider ``name``, configured from ``settings``."""
    if name == "evolink":
        from receiver.providers.evolink import EvoLinkProvider

        return EvoLinkProvider(api_key=settings.evolink_api_key, base_url=settings.evolink_base_url)
    if name == "kling":
        from receiver.providers.kling import KlingProvider

        return KlingProvider(
            access_key=settings.kling_access_key,
            secret_key=settings.kling_secret_key,
            base_url=settings.kling_base_url,
        )
    raise ConfigError("provider", f"unknown provider {name!r}; known: {', '.join(PROVIDER_NAMES)}")
