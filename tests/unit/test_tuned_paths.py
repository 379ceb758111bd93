"""Each CPU optimisation of docs/performance.md against the plain implementation it replaces.

The tuned code must give the plain code's answer on every input: the route match against
Starlette's router, the headers against Starlette's ``Headers``, the body read against
``asyncio.timeout``, the answers against ``JSONResponse``, base64 and JSON against
itsdangerous and the standard library, and so on. (Tokens, ids and timestamps are held to
theirs in test_tokens.py and test_small_parts.py.)
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import math
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itsdangerous import BadData
from itsdangerous.encoding import base64_decode
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.routing import Match, Route
from starlette.types import Message, Receive

from receiver import clock, events, metrics
from receiver.compat.starlette_internals import get_route_path
from receiver.config import Settings
from receiver.intake import Rejection, redact_headers
from receiver.providers.base import decode_json_body
from receiver.providers.evolink_protocol import parse_task, parse_task_json
from receiver.tokens import _b64decode
from receiver.web import proxies
from receiver.web.callbacks import _ROUTE, _BodyRefused, _headers, _read_body, _send_json

# ── the callback route's match: Starlette's router would have matched the same ──

_ROUTER_ROUTE = Route("/callbacks/{provider}/{token}", lambda request: None, methods=["POST"])
_segment = st.text(st.sampled_from("ab/%.-_~é0"), max_size=6)


@settings(max_examples=500, deadline=None)
@given(
    path=st.builds(
        lambda *parts: "".join(parts),
        st.sampled_from(["", "/rx"]),
        _segment,
        st.sampled_from(["/callbacks/", "/callback/", "/"]),
        _segment,
        st.sampled_from(["/", "//", ""]),
        _segment,
    ),
    root=st.sampled_from(["", "/rx", "/r"]),
)
def test_the_callback_route_matches_what_starlettes_router_matches(path: str, root: str) -> None:
    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": path, "root_path": root}
    match, child = _ROUTER_ROUTE.matches(scope)
    ours = _ROUTE.match(get_route_path(scope))
    assert (ours is not None) == (match is Match.FULL)
    if ours is not None:
        params = child["path_params"]
        assert ours.groups() == (params["provider"], params["token"])


# ── headers read straight from the scope: Starlette's Headers would read the same ──

_header_name = st.sampled_from([b"content-type", b"x-forwarded-for", b"host", b"x-a", b"x-b"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_header_name, st.binary(max_size=8)), max_size=8))
def test_headers_read_from_the_scope_are_starlettes(raw: list[tuple[bytes, bytes]]) -> None:
    scope: dict[str, Any] = {"type": "http", "headers": raw}
    plain = Headers(scope=scope)
    ours = _headers(scope)
    assert set(ours) == set(plain.keys())
    for name in ours:
        assert ours[name] == plain[name]


# ── the body read under our own timer: asyncio.timeout would end each read alike ──

_TIMEOUT = 0.05


def _settings() -> Settings:
    return cast(Settings, type("S", (), {"max_body_bytes": 10, "request_timeout": _TIMEOUT}))


async def _read_body_plain(receive: Receive, headers: dict[str, str], limits: Settings) -> bytes:
    """The read as it was before the tuning: under ``asyncio.timeout``."""
    limit = limits.max_body_bytes
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _BodyRefused.too_large(limit)
    try:
        async with asyncio.timeout(limits.request_timeout):
            body = bytearray()
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _BodyRefused.disconnected()
                body += message.get("body", b"")
                if len(body) > limit:
                    raise _BodyRefused.too_large(limit)
                if not message.get("more_body", False):
                    return bytes(body)
    except TimeoutError:
        raise _BodyRefused(
            Rejection(reason="timeout", message="the body did not arrive in time", status_code=408)
        ) from None


def _messages(*messages: Message, then_wait: bool = False) -> Receive:
    queue = list(messages)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        if then_wait:
            await asyncio.Event().wait()
        raise AssertionError("read past the last message")

    return receive


_Reader = Callable[[Receive, dict[str, str], Settings], Coroutine[Any, Any, bytes]]
_SCENARIOS: dict[str, tuple[Callable[[], Receive], dict[str, str], bool]] = {
    "whole": (lambda: _messages({"type": "http.request", "body": b"{}"}), {}, False),
    "in pieces": (
        lambda: _messages(
            {"type": "http.request", "body": b"{", "more_body": True},
            {"type": "http.request", "body": b"}"},
        ),
        {},
        False,
    ),
    "declared too large": (_messages, {"content-length": "11"}, False),
    "too large": (lambda: _messages({"type": "http.request", "body": b"x" * 11}), {}, False),
    "disconnect": (lambda: _messages({"type": "http.disconnect"}), {}, False),
    "stall": (
        lambda: _messages(
            {"type": "http.request", "body": b"{", "more_body": True}, then_wait=True
        ),
        {},
        False,
    ),
    "cancelled from outside": (lambda: _messages(then_wait=True), {}, True),
}


def _outcome(reader: _Reader, scenario: str) -> tuple[object, ...]:
    make, headers, cancel = _SCENARIOS[scenario]

    async def run() -> tuple[object, ...]:
        task = asyncio.create_task(reader(make(), headers, _settings()))
        if cancel:
            await asyncio.sleep(_TIMEOUT / 5)
            task.cancel()
        try:
            result: tuple[object, ...] = ("body", await task)
        except _BodyRefused as refused:
            result = ("refused", refused.rejection.status_code, refused.rejection.reason)
        except asyncio.CancelledError:
            result = ("cancelled",)
        return (*result, task.cancelling())

    return asyncio.run(run())


@pytest.mark.parametrize("scenario", sorted(_SCENARIOS))
def test_the_body_is_read_as_under_asyncio_timeout(scenario: str) -> None:
    assert _outcome(_read_body, scenario) == _outcome(_read_body_plain, scenario)


# ── answers written with orjson: JSONResponse would say the same ──


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=8), st.none() | st.integers(-(2**53), 2**53) | st.text(max_size=20)
    )
)
def test_answers_say_what_jsonresponse_would(payload: dict[str, Any]) -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(_send_json(send, 202, payload))
    start, body = sent
    plain = JSONResponse(payload, 202)
    assert start["status"] == plain.status_code
    assert json.loads(body["body"]) == json.loads(bytes(plain.body)) == payload
    assert dict(start["headers"])[b"content-length"] == b"%d" % len(body["body"])


# ── base64 of tokens: itsdangerous's own decoder would read the same ──


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=40) | st.text("abcXYZ019-_+/=.", max_size=40).map(str.encode))
def test_token_base64_is_read_as_itsdangerous_reads_it(data: bytes) -> None:
    encoded = base64.urlsafe_b64encode(data).rstrip(b"=")
    assert _b64decode(encoded) == base64_decode(encoded) == data
    # Any text at all, valid or not: the same bytes, or both refuse it.
    try:
        plain: bytes | None = base64_decode(data)
    except BadData:
        plain = None
    try:
        ours: bytes | None = _b64decode(data)
    except ValueError:
        ours = None
    assert ours == plain


# ── timestamps read with fromisoformat: strptime would read the same instant ──


def test_timestamps_are_read_as_strptime_reads_them() -> None:
    import random

    rng = random.Random(7)
    for _ in range(2000):
        moment = datetime(1990, 1, 1, tzinfo=UTC) + timedelta(microseconds=rng.getrandbits(50))
        text = clock.to_db(moment)
        plain = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        assert clock.from_db(text) == plain == moment


# ── callback bodies read with orjson: the standard library would read the same ──

# orjson reads an integer beyond 64 bits as a float where the standard library keeps an int:
# the one difference, which no parsed field sees (see the test after next).
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_json_values, st.booleans())
def test_callback_bodies_are_read_as_the_standard_library_reads_them(
    value: Any, ascii_only: bool
) -> None:
    body = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert decode_json_body(body) == json.loads(body)


_huge = st.integers(-(2**80), 2**80) | st.floats(allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {"id": st.just("task_1"), "status": st.sampled_from(["completed", "processing"])},
        optional={
            "progress": _huge,
            "created": _huge,
            "usage": st.fixed_dictionaries({"credits_reserved": _huge}),
            "task_info": st.fixed_dictionaries({"estimated_time": _huge}),
            "extra": _json_values,
        },
    )
)
def test_a_callback_parses_as_it_would_from_the_standard_librarys_reading(
    task: dict[str, Any],
) -> None:
    body = json.dumps(task).encode()
    tuned = parse_task_json(body)
    plain = parse_task(json.loads(body))
    assert dataclasses.replace(tuned, raw={}) == dataclasses.replace(plain, raw={})


def test_what_orjson_refuses_is_read_as_the_standard_library_reads_it() -> None:
    decoded = decode_json_body(b'{"a": NaN, "b": -Infinity, "c": "\\ud800", "d": 1e400}')
    plain = json.loads(b'{"a": NaN, "b": -Infinity, "c": "\\ud800", "d": 1e400}')
    assert math.isnan(decoded["a"])
    assert math.isnan(plain["a"])
    assert [decoded[k] for k in "bcd"] == [plain[k] for k in "bcd"]
    for refused in (b"", b"{", b"[1,]", b"\xff"):
        with pytest.raises(ValueError):  # noqa: PT011 - both must refuse it
            json.loads(refused)
        with pytest.raises(ValueError):  # noqa: PT011
            decode_json_body(refused)


# ── text checked with an ASCII fast path: the plain check would decide the same ──


def _storable_plain(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec=None), min_size=1, max_size=20) | st.text("ab\x00", min_size=1))
def test_a_task_id_is_accepted_as_the_plain_storable_check_decides(task_id: str) -> None:
    body = json.dumps({"id": task_id, "status": "completed"}).encode()
    try:
        parse_task_json(body)
    except ValueError:
        accepted = False
    else:
        accepted = True
    assert accepted == _storable_plain(task_id)


# ── the delivery's headers written with orjson, events with a prebuilt encoder ──


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.text(max_size=10), st.text(st.characters(max_codepoint=255), max_size=30))
)
def test_logged_headers_are_the_json_the_standard_library_writes(headers: dict[str, str]) -> None:
    redacted = redact_headers(headers)
    assert json.loads(orjson.dumps(redacted).decode()) == json.loads(json.dumps(redacted))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _json_values, max_size=5))
def test_event_data_is_what_json_dumps_writes(data: dict[str, Any]) -> None:
    encoder = events._ENCODER
    assert encoder.encode(data) == json.dumps(data, separators=(",", ":"), default=str)
    moment = datetime(2026, 1, 2, tzinfo=UTC)
    plain = json.dumps({"at": moment}, separators=(",", ":"), default=str)
    assert encoder.encode({"at": moment}) == plain


# ── lookups done once: the cached answer is the uncached one ──


def test_a_cached_callback_counter_is_the_labelled_child() -> None:
    for outcome in ("accepted", "duplicate", "rejected"):
        for source in ("callback", "replay"):
            assert metrics.callback_counter(outcome, source) is metrics.CALLBACKS.labels(
                outcome, source
            )


def test_cached_trusted_networks_are_the_parsed_settings() -> None:
    trusted = ("10.0.0.0/8", "2001:db8::/32", "192.0.2.7")
    assert proxies._networks(trusted) == proxies._networks.__wrapped__(trusted)
    assert proxies._networks(trusted) is proxies._networks(trusted)
