"""Security headers on every response of the app, the callback route's excepted.

- ``Content-Security-Policy``: the gallery's page, scripts, styles and API calls come from
  this origin only, images also from ``data:`` URLs; videos also from the S3 endpoint, where
  ``/v1/jobs/{id}/video`` redirects the player (a presigned URL); no plugins, no ``<base>``,
  forms post here only, and no page may be framed (``frame-ancestors 'none'``).
- ``X-Frame-Options: DENY``: the same, for browsers older than ``frame-ancestors``.
- ``X-Content-Type-Options: nosniff``: a response is only ever what its type says.
- ``Referrer-Policy: no-referrer``: no address of ours leaves with a request.

A response that sets one of these itself keeps its own. The middleware sits inside
:class:`~receiver.web.callbacks.CallbackRoutes`, so the route the provider hammers never
pays for it (the provider reads no headers).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from receiver.config import Settings

__all__ = ["SecurityHeaders", "content_security_policy", "video_origins"]


def video_origins(settings: Settings) -> tuple[str, ...]:
    """The origins of the presigned video URLs the API hands out (S3 ``GetObject``)."""
    bucket = settings.s3_bucket
    if settings.s3_endpoint_url is None:
        scheme = "https"
        hosts = ["s3.amazonaws.com", f"s3.{settings.aws_region}.amazonaws.com"]
    else:
        parts = urlsplit(settings.s3_endpoint_url)
        scheme, host = parts.scheme, parts.hostname or ""
        if ":" in host:  # an IPv6 literal, which a CSP source cannot name
            return (f"{scheme}:",)
        hosts = [f"{host}:{parts.port}" if parts.port else host]
    # Path-style URLs name the endpoint, virtual-hosted ones put the bucket in front; which
    # one botocore writes depends on RECEIVER_S3_ADDRESSING_STYLE and the bucket's name.
    origins = (f"{scheme}://{prefix}{host}" for host in hosts for prefix in ("", f"{bucket}."))
    return tuple(dict.fromkeys(origins))


def content_security_policy(settings: Settings) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "img-src 'self' data:",
            " ".join(["media-src 'self'", *video_origins(settings)]),
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self._headers = [
            (b"content-security-policy", content_security_policy(settings).encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {bytes(name).lower() for name, _ in headers}
                headers.extend(item for item in self._headers if item[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
