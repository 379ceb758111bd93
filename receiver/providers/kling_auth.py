"""Kling's API tokens: short-lived JWTs signed with the secret key, named by the access key.

Kling has no static API key: every request carries ``Authorization: Bearer <JWT>``, a
HS256 token with ``iss`` = access key, valid from five seconds ago (clock skew) for thirty
minutes. The client mints them here; the simulator checks them here, so both read the
documentation the same way. PyJWT does the signing and the claim checks.
"""

from __future__ import annotations

import time
from collections.abc import Generator

import httpx
import jwt

from receiver.config import Secret

__all__ = ["TOKEN_LIFETIME", "KlingAuth", "TokenProblem", "check_api_token", "mint_api_token"]

#: Seconds a token is valid (Kling's examples use 1800).
TOKEN_LIFETIME = 1800
#: Seconds a token is back-dated, so a server clock slightly behind ours still accepts it.
NOT_BEFORE_SKEW = 5
# A token is replaced this long before it expires, so none dies on the way to Kling.
_RENEW_MARGIN = 300


class TokenProblem(Exception):
    """Why a token is refused, with the Kling error code that says so."""

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        super().__init__(message)


def mint_api_token(access_key: str, secret_key: str, *, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    claims = {"iss": access_key, "exp": issued + TOKEN_LIFETIME, "nbf": issued - NOT_BEFORE_SKEW}
    return jwt.encode(claims, secret_key, algorithm="HS256", headers={"typ": "JWT"})


def check_api_token(token: str, *, access_key: str | None, secret_key: str | None) -> str:
    """The access key a token names, if Kling would accept it; raises :class:`TokenProblem`.

    Without ``secret_key`` the signature is not checked (a simulator accepting anyone),
    but the token must still be a well-formed, current JWT naming an issuer.
    """
    try:
        claims = jwt.decode(
            token,
            secret_key or "",
            algorithms=["HS256"],
            options={
                "verify_signature": secret_key is not None,
                "require": ["iss", "exp", "nbf"],
            },
        )
    except jwt.ExpiredSignatureError:
        raise TokenProblem(1004, "the token has expired") from None
    except jwt.ImmatureSignatureError:
        raise TokenProblem(1003, "the token is not valid yet") from None
    except jwt.InvalidTokenError as exc:
        raise TokenProblem(1002, f"the token is invalid: {exc}") from None
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise TokenProblem(1002, "the token names no access key")
    if access_key is not None and issuer != access_key:
        raise TokenProblem(1000, "unknown access key")
    return issuer


class KlingAuth(httpx.Auth):
    """Puts a fresh-enough Kling token on every request (httpx's auth hook)."""

    def __init__(self, access_key: str, secret_key: Secret) -> None:
        self._access_key = access_key
        self._secret_key = secret_key
        self._token = ""
        self._expires = 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._current_token()}"
        yield request

    def _current_token(self) -> str:
        # A race between threads only mints one token too many: both are valid.
        now = time.time()
        if now >= self._expires - _RENEW_MARGIN:
            self._token = mint_api_token(self._access_key, self._secret_key.reveal(), now=now)
            self._expires = now + TOKEN_LIFETIME
        return self._token
