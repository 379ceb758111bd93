"""Verifying the receiver's notifications (Standard Webhooks), in one call.

The receiver signs each notification with ``RECEIVER_NOTIFY_SECRET`` (``whsec_`` + base64):
``webhook-signature`` is ``v1,`` + base64 of HMAC-SHA256 over ``{id}.{timestamp}.{body}``.
This module checks that over the raw body, in constant time, refuses a timestamp more than
five minutes off (the spec's tolerance: a captured request cannot be replayed later), and
raises one error type for every failure, so a handler cannot let a bad one through by
catching the wrong exception. ``tests/unit/test_client_notifications.py`` holds it to the
``standardwebhooks`` reference library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping

from receiver.client._exceptions import NotificationError, ProtocolError
from receiver.client._models import Notification

__all__ = ["TOLERANCE", "parse_notification"]

#: How far a notification's timestamp may be from now, either way (Standard Webhooks).
TOLERANCE = 5 * 60


def _key(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        key = secret
    else:
        try:
            key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            raise NotificationError(
                "the secret is not a Standard Webhooks secret (whsec_ + base64)"
            ) from None
    if not key:
        raise NotificationError("the secret is empty")
    return key


def parse_notification(
    headers: Mapping[str, str],
    body: bytes | str,
    secret: str | bytes,
    *,
    now: float | None = None,
) -> Notification:
    """The notification in ``body``, once its signature and timestamp are checked.

    ``headers`` are the request's (any case); ``body`` the raw bytes as received, before any
    JSON parsing; ``secret`` the receiver's ``RECEIVER_NOTIFY_SECRET``. Raises
    :class:`NotificationError` on a missing or wrong signature, a timestamp more than
    :data:`TOLERANCE` seconds from ``now``, or a body that is not a notification.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    webhook_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "")
    signatures = lowered.get("webhook-signature", "")
    if not (webhook_id and stamp and signatures):
        raise NotificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    if not stamp.isdigit():
        raise NotificationError("webhook-timestamp is not a number of seconds")
    raw = body.encode() if isinstance(body, str) else bytes(body)
    signed = b"%s.%s.%s" % (webhook_id.encode(), stamp.encode(), raw)
    expected = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    if not any(hmac.compare_digest(expected, given) for given in _v1_signatures(signatures)):
        raise NotificationError("no valid signature: not sent by this receiver, or altered")
    # Checked after the signature, so the answer does not tell a forger which part failed.
    moment = int(stamp)
    current = time.time() if now is None else now
    if moment < current - TOLERANCE:
        raise NotificationError("the notification is too old (replayed?)")
    if moment > current + TOLERANCE:
        raise NotificationError("the notification's timestamp is in the future")
    try:
        return Notification.from_json(webhook_id, json.loads(raw))
    except (ValueError, TypeError, KeyError, ProtocolError) as exc:
        raise NotificationError(f"a signed body that is not a notification: {exc}") from exc


def _v1_signatures(header: str) -> list[bytes]:
    """The ``v1`` signatures of a ``webhook-signature`` header (space-separated)."""
    found = []
    for part in header.split():
        version, _, signature = part.partition(",")
        if version != "v1":
            continue
        try:
            found.append(base64.b64decode(signature, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found
