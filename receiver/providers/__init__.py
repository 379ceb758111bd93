"""Provider adapters: one module per video API, all behind :class:`Provider`."""

from __future__ import annotations

from collections.abc import Mapping

from receiver.config import Settings
from receiver.errors import ConfigError
from receiver.providers.base import JobRequest, Provider, TaskSnapshot, TaskStatus
from receiver.providers.models import ModelSpec

__all__ = [
    "PROVIDER_NAMES",
    "JobRequest",
    "ModelSpec",
    "Provider",
    "TaskSnapshot",
    "TaskStatus",
    "build",
    "models_of",
]

#: Every provider a job may name; also the segments ``/callbacks/<name>/<token>`` accepts.
PROVIDER_NAMES = ("evolink", "kling")


def models_of(name: str) -> Mapping[str, ModelSpec]:
    """Provider ``name``'s models by the id a validated request carries; empty if unknown."""
    if name == "evolink":
        from receiver.providers import evolink_models

        return evolink_models.MODELS
    if name == "kling":
        from receiver.providers import kling_models

        return kling_models.MODELS
    return {}


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
