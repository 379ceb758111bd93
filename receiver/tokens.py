"""Signed callback tokens: the only thing that ties an unsigned provider callback to us.

The provider signs nothing, so the callback URL itself carries the proof: an itsdangerous
token naming the job it was minted for (or, for URLs handed out to teams that submit from
their own code, a label and no job). It is timestamped, so it stops working after
``RECEIVER_TOKEN_MAX_AGE``. ``RECEIVER_SECRET_KEYS`` lists keys newest first: the first signs,
all verify, so a key can be rotated without breaking callbacks already in flight.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.signer import HMACAlgorithm

from receiver.config import Secret
from receiver.errors import TokenError, TokenExpired

__all__ = ["CallbackClaims", "CallbackSigner"]

_SALT = "receiver.callback.v1"


@dataclass(frozen=True, kw_only=True)
class CallbackClaims:
    """What a valid token says: which provider route, and which job (if bound to one)."""

    provider: str
    job_id: str | None = None
    label: str | None = None


class _OneShotSHA1(HMACAlgorithm):
    """HMAC-SHA1 in one OpenSSL call, not an hmac.HMAC object built per token."""

    def __init__(self) -> None:
        super().__init__(hashlib.sha1)

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.digest(key, value, "sha1")


class _PayloadJSON:
    """itsdangerous's own compact JSON for minting; orjson for reading, on every callback."""

    @staticmethod
    def dumps(obj: Any) -> str:
        return json.dumps(obj, separators=(",", ":"))

    @staticmethod
    def loads(text: str | bytes) -> Any:
        return orjson.loads(text)


class CallbackSigner:
    def __init__(self, keys: Sequence[Secret], *, max_age: float) -> None:
        if not keys:
            raise ValueError("at least one signing key is needed")
        # itsdangerous signs with the *last* key of the list and tries all of them.
        self._serializer = URLSafeTimedSerializer(
            [key.reveal() for key in reversed(keys)], salt=_SALT, serializer=_PayloadJSON
        )
        # Every callback is verified. The serializer builds a signer per key and derives
        # each key afresh on every call, and its HMAC builds an hmac.HMAC object per token.
        # This signer is built once, holds the keys as the serializer's own signer derives
        # them, and computes HMAC-SHA1 in one call: the same algorithm and keys, so it
        # accepts exactly the tokens the serializer does.
        signer = self._serializer.make_signer()
        self._verifier = TimestampSigner(
            [signer.derive_key(key) for key in self._serializer.secret_keys],
            salt=_SALT,
            key_derivation="none",
            digest_method=hashlib.sha1,
            algorithm=_OneShotSHA1(),
        )
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
        try:
            signed = self._verifier.unsign(token, max_age=int(self._max_age))
            payload = self._serializer.load_payload(signed)
        except SignatureExpired as exc:
            raise TokenExpired(
                f"the callback token expired (older than {self._max_age:.0f} s)"
            ) from exc
        except BadSignature as exc:
            raise TokenError("the callback token is not signed by any of our keys") from exc
        if not isinstance(payload, dict) or payload.get("p") != provider:
            raise TokenError("the callback token was minted for another provider route")
        job_id, label = payload.get("j"), payload.get("l")
        if not isinstance(job_id, str | None) or not isinstance(label, str | None):
            raise TokenError("the callback token has an unexpected shape")
        return CallbackClaims(provider=provider, job_id=job_id, label=label)

    def callback_url(self, public_url: str, claims: CallbackClaims) -> str:
        return f"{public_url.rstrip('/')}/callbacks/{claims.provider}/{self.sign(claims)}"
