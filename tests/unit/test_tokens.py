from __future__ import annotations

import base64
import time
from typing import Any
from unittest import mock

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from itsdangerous import BadData, SignatureExpired, Signer, URLSafeTimedSerializer

from receiver.config import Secret
from receiver.errors import TokenError, TokenExpired
from receiver.tokens import CallbackClaims, CallbackSigner

OLD = Secret("old-signing-key-0123456789")
NEW = Secret("new-signing-key-0123456789")


def test_round_trip_binds_the_job() -> None:
    signer = CallbackSigner([NEW], max_age=60)
    token = signer.sign(CallbackClaims(provider="evolink", job_id="job_123"))
    assert signer.verify(token, provider="evolink") == CallbackClaims(
        provider="evolink", job_id="job_123"
    )


def test_callback_url_is_short_and_under_the_route() -> None:
    signer = CallbackSigner([NEW], max_age=60)
    url = signer.callback_url(
        "https://r.example.com/", CallbackClaims(provider="evolink", job_id="job_" + "a" * 26)
    )
    assert url.startswith("https://r.example.com/callbacks/evolink/")
    assert len(url) < 200


def test_tampered_token_is_refused() -> None:
    signer = CallbackSigner([NEW], max_age=60)
    token = signer.sign(CallbackClaims(provider="evolink", job_id="job_1"))
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(TokenError):
        signer.verify(tampered, provider="evolink")


def test_token_for_another_provider_route_is_refused() -> None:
    signer = CallbackSigner([NEW], max_age=60)
    token = signer.sign(CallbackClaims(provider="kling", job_id="job_1"))
    with pytest.raises(TokenError, match="another provider"):
        signer.verify(token, provider="evolink")


def test_rotation_old_tokens_still_verify_new_ones_use_the_first_key() -> None:
    before = CallbackSigner([OLD], max_age=60)
    old_token = before.sign(CallbackClaims(provider="evolink", job_id="job_1"))
    rotated = CallbackSigner([NEW, OLD], max_age=60)
    assert rotated.verify(old_token, provider="evolink").job_id == "job_1"
    new_token = rotated.sign(CallbackClaims(provider="evolink", job_id="job_2"))
    assert CallbackSigner([NEW], max_age=60).verify(new_token, provider="evolink").job_id == "job_2"
    with pytest.raises(TokenError):
        before.verify(new_token, provider="evolink")


def test_expired_token_is_its_own_error() -> None:
    signer = CallbackSigner([NEW], max_age=1)
    token = signer.sign(CallbackClaims(provider="evolink", job_id="job_1"))
    time.sleep(2.1)
    with pytest.raises(TokenExpired):
        signer.verify(token, provider="evolink")


def test_the_verifier_accepts_exactly_what_the_serializer_would() -> None:
    # Verification derives the keys and picks the digest itself (it runs for every
    # callback); tokens minted by a plain itsdangerous serializer with our salt must pass,
    # compressed payloads included, and tokens under another salt or key must not.
    plain = URLSafeTimedSerializer(NEW.reveal(), salt="receiver.callback.v1")
    compressed = plain.dumps({"p": "evolink", "l": "x" * 300})
    assert compressed.startswith(".")
    signer = CallbackSigner([NEW, OLD], max_age=60)
    assert signer.verify(compressed, provider="evolink").label == "x" * 300
    assert signer.verify(plain.dumps({"p": "kling", "j": "job_7"}), provider="kling").job_id == (
        "job_7"
    )
    # ...and the other way round: what we mint, a plain serializer reads.
    minted = signer.sign(CallbackClaims(provider="evolink", job_id="job_8", label="ünï"))
    assert plain.loads(minted) == {"p": "evolink", "j": "job_8", "l": "ünï"}
    for stranger in (
        URLSafeTimedSerializer(NEW.reveal(), salt="another.salt"),
        URLSafeTimedSerializer("another-key-0123456789", salt="receiver.callback.v1"),
    ):
        with pytest.raises(TokenError, match="not signed"):
            signer.verify(stranger.dumps({"p": "evolink", "j": "job_1"}), provider="evolink")


STRANGER = Secret("stranger-key-0123456789xyz")
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=6,
)
_payloads = st.one_of(
    st.fixed_dictionaries(
        {"p": st.sampled_from(["evolink", "kling"])},
        optional={"j": st.text(max_size=30), "l": st.text(max_size=400) | st.integers()},
    ),
    _json_values,
)


def _mutate(token: str, how: str, at: int, text: str) -> str:
    at %= len(token) + 1
    if how == "flip" and at < len(token):
        return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]
    if how == "cut":
        return token[:at]
    if how == "insert":
        return token[:at] + text + token[at:]
    if how == "replace":
        return text
    return token


def _verdict(verify: Any, token: str) -> tuple[str, Any]:
    try:
        return "ok", verify(token)
    except (TokenExpired, SignatureExpired):
        return "expired", None
    except (TokenError, BadData):
        return "bad", None


@settings(max_examples=600, deadline=None, derandomize=True)
@given(
    payload=_payloads,
    secret=st.sampled_from([NEW, OLD, STRANGER]),
    salt=st.sampled_from(["receiver.callback.v1", "another.salt"]),
    # Well clear of the one-hour limit, so that a clock tick between the two checks
    # cannot make them disagree.
    minted_ago=st.sampled_from([0, 60, 3000, 3700, 10**6, -60, -(10**6)]),
    how=st.sampled_from(["none", "none", "flip", "cut", "insert", "replace"]),
    at=st.integers(0, 300),
    text=st.text(max_size=12),
)
def test_verification_agrees_with_itsdangerous_on_any_token(
    *, payload: Any, secret: Secret, salt: str, minted_ago: int, how: str, at: int, text: str
) -> None:
    minter = URLSafeTimedSerializer(secret.reveal(), salt=salt)
    with mock.patch("itsdangerous.timed.time.time", return_value=time.time() - minted_ago):
        token = _mutate(minter.dumps(payload), how, at, text)
    reference = URLSafeTimedSerializer([OLD.reveal(), NEW.reveal()], salt="receiver.callback.v1")
    ours = CallbackSigner([NEW, OLD], max_age=3600)
    expected = _verdict(lambda t: reference.loads(t, max_age=3600), token)
    event(f"verdict: {expected[0]}")
    assert _verdict(ours._unsign, token) == expected


_b64 = st.binary(max_size=12).map(lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"="))
_pieces = st.one_of(
    _b64,
    st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=10).map(str.encode),
    st.sampled_from([b"", b".", b"..", b"!!", b"e30", b"bnVsbA", b"WzFd", b"eyJwIjoxfQ"]),
    # A real timestamp, or one of up to 12 bytes, in base64.
    st.integers(0, 2**96 - 1).map(lambda n: base64.urlsafe_b64encode(n.to_bytes(12, "big"))),
    st.just(base64.urlsafe_b64encode(int(time.time()).to_bytes(4, "big")).rstrip(b"=")),
)


@settings(max_examples=600, deadline=None, derandomize=True)
@given(pieces=st.lists(_pieces, min_size=1, max_size=4), separators=st.lists(st.booleans()))
def test_a_signed_token_with_any_inside_gets_itsdangerous_s_verdict(
    pieces: list[bytes], separators: list[bool]
) -> None:
    # A valid signature over whatever lies inside (a missing, garbled or oversized
    # timestamp, a payload that is not base64, zlib or JSON): past the signature check,
    # both must still agree.
    inner = b""
    for number, piece in enumerate(pieces):
        dot = separators[number] if number < len(separators) else True
        inner += (b"." if dot and number else b"") + piece
    token = Signer(NEW.reveal(), salt="receiver.callback.v1").sign(inner).decode()
    reference = URLSafeTimedSerializer([OLD.reveal(), NEW.reveal()], salt="receiver.callback.v1")

    def loads(token: str) -> Any:
        try:
            return reference.loads(token, max_age=3600)
        except (ValueError, OverflowError, OSError) as exc:
            # itsdangerous fails while raising SignatureExpired for a timestamp too far in
            # the future to be a date: its verdict was "expired".
            raise SignatureExpired("in the future") from exc

    expected = _verdict(loads, token)
    event(f"verdict: {expected[0]}")
    assert _verdict(CallbackSigner([NEW, OLD], max_age=3600)._unsign, token) == expected
