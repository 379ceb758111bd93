"""The HTTP side: callback routes, health, and (later) the API and gallery."""

from receiver.web.app import create_app

__all__ = ["create_app"]
