"""Signed callback tokens: the only thing that ties an unsigned provider callback to us.

The provider signs nothing, so the callback URL itself carries the proof: an itsdangerous
token naming the job it was minted for (or, for URLs handed out to teams that submit from
their own code, a label and no job). It is timestamped, so it stops working after
``RECEIVER_TOKEN_MAX_AGE``. ``RECEIVER_SECRET_KEYS`` lists keys newest first: the first signs,
all verify, so a key can be rotated without breaking callbacks already in flight.
"""

from __future__ import annotations

import binascii
import hmac
import json
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from itsdangerous import URLSafeTimedSerializer

from receiver.config import Secret
from receiver.errors import TokenError, TokenExpired

__all__ = ["SALT", "CallbackClaims", "CallbackSigner"]

#: itsdangerous's salt for callback tokens: part of their wire format (changing it voids every
#: token in flight); ``receiver doctor`` mints tokens with it too.
SALT = "receiver.callback.v1"
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


@dataclass(frozen=True, kw_only=True)
class CallbackClaims:
    """What a valid token says: which provider route, and which job (if bound to one)."""

    provider: str
    job_id: str | None = None
    label: str | None = None


class CallbackSigner:
    def __init__(self, keys: Sequence[Secret], *, max_age: float) -> None:
        if not keys:
            raise ValueError("at least one signing key is needed")
        # itsdangerous signs with the *last* key of the list and tries all of them.
        self._serializer = URLSafeTimedSerializer(
            [key.reveal() for key in reversed(keys)], salt=SALT
        )
        # The keys itsdangerous signs with, derived from each secret and the salt by its own
        # signer, newest first: verification (below) uses them as they are.
        signer = self._serializer.make_signer()
        newest_first = reversed(self._serializer.secret_keys)
        self._keys = tuple(signer.derive_key(secret) for secret in newest_first)
        self._max_age = max_age

    def sign(self, claims: CallbackClaims) -> str:
        payload: dict[str, str] = {"p": claims.provider}
        if claims.job_id is not None:
            payload["j"] = claims.job_id
        if claims.label is not None:
            payload["l"] = claims.label
        return self._serializer.dumps(payload)

    def verify(self, token: str, *, provider: str) -> CallbackClaims:
        """The claims of ``token`` if it is ours, unexpired and minted for ``provider``."""
        if len(token) > 1024:
            raise TokenError("the token is too long to be one of ours")
        payload = self._unsign(token)
        if not isinstance(payload, dict) or payload.get("p") != provider:
            raise TokenError("the callback token was minted for another provider route")
        job_id, label = payload.get("j"), payload.get("l")
        if not isinstance(job_id, str | None) or not isinstance(label, str | None):
            raise TokenError("the callback token has an unexpected shape")
        return CallbackClaims(provider=provider, job_id=job_id, label=label)

    def _unsign(self, token: str) -> Any:
        """What ``URLSafeTimedSerializer.loads(token, max_age)`` does, in one function.

        Every callback is verified, and itsdangerous spends ~99k instructions on it through
        its layers of signers, encoders and serializers; this takes ~60k. The same steps on
        the same bytes: an HMAC-SHA1 over ``payload.timestamp`` under each derived key,
        compared in constant time, then the timestamp (at most 8 bytes) and its age, then
        the payload (zlib-compressed when it starts with "."). A property test holds it to
        itsdangerous's verdict on valid, tampered, expired and foreign tokens, and on
        malformed ones that carry a valid signature.
        """
        signed, dot, signature = token.encode().rpartition(b".")
        if not dot:
            raise TokenError("the callback token is not signed by any of our keys")
        try:
            mac = _b64decode(signature)
        except ValueError:
            raise TokenError("the callback token is not signed by any of our keys") from None
        if not any(
            hmac.compare_digest(hmac.digest(key, signed, "sha1"), mac) for key in self._keys
        ):
            raise TokenError("the callback token is not signed by any of our keys")
        # Signed by us from here on: what follows only reads what we wrote.
        body, dot, stamp = signed.rpartition(b".")
        try:
            if not dot:
                raise ValueError("no timestamp")
            stamp_bytes = _b64decode(stamp)
            if len(stamp_bytes) > 8:
                raise ValueError("not a timestamp")
            age = int(time.time()) - int.from_bytes(stamp_bytes, "big")
            if age > int(self._max_age) or age < 0:
                raise TokenExpired(f"the callback token expired (older than {self._max_age:.0f} s)")
            if body.startswith(b"."):
                return _json(zlib.decompress(_b64decode(body[1:])))
            return _json(_b64decode(body))
        except (ValueError, zlib.error, RecursionError):
            raise TokenError("the callback token has an unexpected shape") from None

    def callback_url(self, public_url: str, claims: CallbackClaims) -> str:
        return f"{public_url.rstrip('/')}/callbacks/{claims.provider}/{self.sign(claims)}"


def _json(data: bytes) -> Any:
    """orjson for speed; what it refuses (NaN, huge integers) is read as itsdangerous would."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data.decode("utf-8"))


def _b64decode(data: bytes) -> bytes:
    """itsdangerous's base64 (URL-safe, padding restored): what base64.urlsafe_b64decode
    does, without its two layers of Python around binascii."""
    try:
        return binascii.a2b_base64(data.translate(_FROM_URLSAFE) + b"=" * (-len(data) % 4))
    except binascii.Error as exc:
        raise ValueError("invalid base64") from exc
