"""Signed, expiring video links, like the CDN links EvoLink hands out.

A link is ``<base>/videos/<task id>.mp4?expires=<unix>&sig=<hmac>``; the HMAC-SHA256
covers the task id and the expiry, so neither can be changed without breaking it.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

__all__ = ["media_url", "signature", "verify", "video_url"]


def signature(secret: str, task_id: str, expires: int) -> str:
    message = f"{task_id}\n{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def video_url(base_url: str, *, secret: str, task_id: str, expires: int) -> str:
    sig = signature(secret, task_id, expires)
    return f"{base_url.rstrip('/')}/videos/{quote(task_id)}.mp4?expires={expires}&sig={sig}"


def media_url(
    base_url: str, *, secret: str, task_id: str, index: int, extension: str, expires: int
) -> str:
    """The link to a task's file ``index`` (its second video, its images, its songs):
    ``<base>/media/<task id>/<index>.<ext>``, signed over ``<task id>/<index>``."""
    sig = signature(secret, f"{task_id}/{index}", expires)
    return (
        f"{base_url.rstrip('/')}/media/{quote(task_id)}/{index}.{extension}"
        f"?expires={expires}&sig={sig}"
    )


def verify(secret: str, task_id: str, expires: str, sig: str) -> int | None:
    """The expiry of a genuine link, ``None`` when ``expires`` or ``sig`` was tampered with."""
    if not expires.isascii() or not expires.isdigit():
        return None
    expected = signature(secret, task_id, int(expires))
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        return None
    return int(expires)
