"""The TLS context of outgoing callbacks."""

from __future__ import annotations

import ssl

__all__ = ["client_context"]


def client_context(ca_bundle: str | None) -> ssl.SSLContext:
    """A client context trusting the system's CAs and, when given, those in ``ca_bundle``."""
    context = ssl.create_default_context()
    if ca_bundle is not None:
        context.load_verify_locations(cafile=ca_bundle)
    return context
