"""Fetching a task's first frame, as a provider does: the proof that its URL really serves it.

Off by default (``fetch_images``), since most tests name images on hosts that do not exist;
the tests of local first frames turn it on to show that the presigned URL we hand over works.
"""

from __future__ import annotations

import httpx

from receiver.errors import ValidationError

__all__ = ["check_image"]

_MAX_BYTES = 10 * 1000 * 1000
_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


async def check_image(url: str) -> None:
    """Raise :class:`ValidationError` (``image_start``) when the image cannot be used."""
    if problem := await _problem(url):
        raise ValidationError("image_start", problem)


async def _problem(url: str) -> str | None:
    """Why the image at ``url`` is unusable, or None when it is a jpg/png we could fetch."""
    try:
        async with (
            httpx.AsyncClient(timeout=10) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                return f"fetching the image answered {response.status_code}"
            data = b""
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > _MAX_BYTES:
                    return "the image is larger than 10 MB"
    except httpx.HTTPError as exc:
        return f"the image could not be fetched: {type(exc).__name__}"
    if not data.startswith(_SIGNATURES):
        return "the image is not a jpg or png"
    return None
